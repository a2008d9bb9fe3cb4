import { describe, expect, it } from "vitest";
import { IotlbGather, iotlbGatherAddPage, iotlbGatherAddRange, iotlbGatherIsDisjoint } from "./gather.js";

describe("IOTLB gather", () => {
  it("starts empty: start = ULONG_MAX, end = 0, never disjoint", () => {
    const g = new IotlbGather();
    expect(g.start).toBe(2 ** 64);
    expect(g.endExcl).toBe(0);
    expect(g.hasRange).toBe(false);
    expect(iotlbGatherIsDisjoint(g, 0x5000_0000, 0x1000)).toBe(false);
  });

  it("add_range widens to the union", () => {
    const g = new IotlbGather();
    iotlbGatherAddRange(g, 0x2000, 0x1000);
    iotlbGatherAddRange(g, 0x8000, 0x2000);
    expect([g.start, g.endExcl]).toEqual([0x2000, 0xa000]);
    expect(g.hasRange).toBe(true);
  });

  it("adjacent ranges are not disjoint, a gap is", () => {
    const g = new IotlbGather();
    iotlbGatherAddRange(g, 0x2000, 0x1000);
    expect(iotlbGatherIsDisjoint(g, 0x3000, 0x1000)).toBe(false); // right after
    expect(iotlbGatherIsDisjoint(g, 0x1000, 0x1000)).toBe(false); // right before
    expect(iotlbGatherIsDisjoint(g, 0x4000, 0x1000)).toBe(true);
    expect(iotlbGatherIsDisjoint(g, 0x0, 0x1000)).toBe(true);
  });

  it("add_page syncs first on a page-size change or a disjoint page", () => {
    const g = new IotlbGather();
    const syncs: Array<[number, number]> = [];
    const sync = (x: IotlbGather) => {
      syncs.push([x.start, x.endExcl]);
      x.init();
    };
    iotlbGatherAddPage(g, 0x1000, 0x1000, sync);
    iotlbGatherAddPage(g, 0x2000, 0x1000, sync);
    expect(syncs).toEqual([]);
    iotlbGatherAddPage(g, 0x200000, 0x200000, sync); // new size
    expect(syncs).toEqual([[0x1000, 0x3000]]);
    iotlbGatherAddPage(g, 0x800000, 0x200000, sync); // disjoint
    expect(syncs).toEqual([
      [0x1000, 0x3000],
      [0x200000, 0x400000],
    ]);
    expect([g.start, g.endExcl, g.pgsize]).toEqual([0x800000, 0xa00000, 0x200000]);
  });

  it("stays exact for page-aligned ranges at the top of the 64-bit space", () => {
    const g = new IotlbGather();
    const top = 2 ** 64 - 0x1000;
    iotlbGatherAddRange(g, top, 0x1000);
    expect(BigInt(g.start)).toBe(0xfffffffffffff000n);
    expect(BigInt(g.endExcl)).toBe(1n << 64n);
    expect(g.hasRange).toBe(true);
  });
});
