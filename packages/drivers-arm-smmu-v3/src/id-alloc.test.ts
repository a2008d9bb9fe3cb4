import { describe, expect, it } from "vitest";
import { IdAllocator } from "./id-alloc.js";

describe("IdAllocator (xa_alloc / ida_alloc_range)", () => {
  it("hands out the lowest free id in range and reuses freed ones first", () => {
    const a = new IdAllocator(256);
    expect([a.alloc(1, 255), a.alloc(1, 255), a.alloc(1, 255)]).toEqual([1, 2, 3]);
    a.free(2);
    expect(a.alloc(1, 255)).toBe(2);
    expect(a.liveCount).toBe(3);
  });

  it("fails when the range is exhausted", () => {
    const a = new IdAllocator(256);
    for (let i = 1; i <= 3; i++) expect(a.alloc(1, 3)).toBe(i);
    expect(a.alloc(1, 3)).toBe(-1);
    a.free(1);
    a.free(1);
    expect(a.liveCount).toBe(2);
    expect(a.alloc(1, 3)).toBe(1);
  });
});
