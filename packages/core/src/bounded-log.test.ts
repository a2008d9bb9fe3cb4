import { describe, expect, it } from "vitest";
import { BoundedLog } from "./bounded-log.js";

describe("BoundedLog", () => {
  it("keeps the last `capacity` entries oldest first and counts every push", () => {
    const log = new BoundedLog<number>(3);
    for (let i = 1; i <= 5; i++) log.push(i);
    expect(log.entries).toEqual([3, 4, 5]);
    expect(log.total).toBe(5);
  });
  it("firstSince: where the new entries start, or an error when some fell off", () => {
    const log = new BoundedLog<number>(3);
    log.push(1);
    const mark = log.total;
    log.push(2);
    log.push(3);
    expect(log.entries.slice(log.firstSince(mark, "r"))).toEqual([2, 3]);
    log.push(4);
    log.push(5);
    expect(() => log.firstSince(mark, "r")).toThrow("r: 1 entries fell off the log");
    expect(log.firstSince(log.total, "r")).toBe(3);
  });
  it("refuses a capacity below 1", () => {
    expect(() => new BoundedLog(0)).toThrow(RangeError);
    expect(() => new BoundedLog(Number.NaN)).toThrow(RangeError);
  });
});
