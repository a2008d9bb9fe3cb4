import { describe, expect, it } from "vitest";
import { BoundedLog } from "./bounded-log.js";

describe("BoundedLog", () => {
  it("keeps the last `capacity` entries oldest first and counts every push", () => {
    const log = new BoundedLog<number>(3);
    for (let i = 1; i <= 5; i++) log.push(i);
    expect(log.entries).toEqual([3, 4, 5]);
    expect(log.total).toBe(5);
  });
  it("refuses a capacity below 1", () => {
    expect(() => new BoundedLog(0)).toThrow(RangeError);
    expect(() => new BoundedLog(Number.NaN)).toThrow(RangeError);
  });
});
