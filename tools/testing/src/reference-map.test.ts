import { iommuPgsize, PgsizeResult } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PageTableSemantics, pageSizesOf, ReferenceMap, splitLeaves } from "./reference-map.js";
import { seedOf } from "./seed.js";
import { TableShadow } from "./table-shadow.js";

const K4 = 0x1000;
const K64 = 0x1_0000;
const M1 = 0x10_0000;
const M2 = 0x20_0000;
const M16 = 0x100_0000;
const G1 = 0x4000_0000;

const LPAE: PageTableSemantics = {
  pgsizeBitmap: K4 | M2 | G1,
  mapConflict: "EEXIST",
  mapOverTable: "replace",
  unmapHole: -2,
  unmapPartialLeaf: "keep",
  unmapRange: "entry",
};
const V7S: PageTableSemantics = {
  pgsizeBitmap: K4 | K64 | M1 | M16,
  mapConflict: "EEXIST",
  mapOverTable: "replace",
  entrySpan: (s) => (s < M1 ? K4 : M1),
  unmapHole: 0,
  unmapPartialLeaf: "keep",
  unmapRange: "entry",
};
const GPT: PageTableSemantics = {
  pgsizeBitmap: K4 | M2 | G1,
  mapConflict: "EADDRINUSE",
  mapOverTable: "fail",
  unmapHole: 0,
  unmapPartialLeaf: "whole",
  unmapRange: "leaf-walk",
};

const runs = (m: ReferenceMap) => m.entries.map((e) => [e.iova, e.size, e.phys, e.leaf]);

describe("ReferenceMap: the interval map", () => {
  it("finds, looks up (phys, prot, leaf), tests freedom and coverage", () => {
    const m = new ReferenceMap();
    m.add({ iova: 0x10000, size: 0x3000, phys: 0x80000, prot: 3, leaf: K4 });
    m.add({ iova: M2, size: M2, phys: 0, leaf: M2 });
    expect(m.find(0xffff)).toBeUndefined();
    expect(m.lookup(0x11234)).toMatchObject({ phys: 0x81234, prot: 3, unitIova: 0x11000, unitSize: K4 });
    expect(m.lookup(M2 + 0x12345)).toMatchObject({ phys: 0x12345, unitIova: M2, unitSize: M2 });
    expect(m.isFree(0x13000, 0xd000)).toBe(true);
    expect(m.isFree(0x12000, 0x2000)).toBe(false);
    expect(m.isCovered(0x10000, 0x3000)).toBe(true);
    expect(m.isCovered(0x10000, 0x4000)).toBe(false);
    expect(m.holeAround(0x15000)).toEqual({ start: 0x13000, end: M2 });
    expect(() => m.add({ iova: 0x12000, size: K4 })).toThrow(/overlaps/);
    expect(() => m.add({ iova: 0x40_1000, size: M2, leaf: M2 })).toThrow(/leaves/);
    // Without a leaf size an entry is one unit anywhere (a VFIO DMA mapping).
    expect(m.add({ iova: 0x13000, size: 0x5000 }).leaf).toBe(0x5000);
    expect(m.bytes).toBe(0x8000 + M2);
  });

  it("cuts at leaf boundaries only, keeping both sides linear", () => {
    const m = new ReferenceMap();
    m.add({ iova: 0, size: 0x8000, phys: 0x100000, leaf: K4 });
    expect(m.cut(0x2000, 0x3000)).toBe(0x3000);
    expect(runs(m)).toEqual([
      [0, 0x2000, 0x100000, K4],
      [0x5000, 0x3000, 0x105000, K4],
    ]);
    m.add({ iova: M2, size: M2, leaf: M2 });
    expect(() => m.cut(M2 + K4, K4)).toThrow(/splits/);
  });

  it("splits a map request exactly as the core's iommu_pgsize() does", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          K4 | M2 | G1,
          K4 | K64 | M1 | M16,
          0x4000 | 0x200_0000,
          0x1_0000 | (0x2000_0000 + 2 ** 42),
        ),
        fc.nat(2 ** 20),
        fc.nat(2 ** 20),
        fc.integer({ min: 1, max: 2 ** 12 }),
        (bitmap, a, b, n) => {
          const sizes = pageSizesOf(bitmap);
          const min = sizes[sizes.length - 1]!;
          const iova = a * min;
          const phys = b * min;
          const size = n * min;
          const pg = new PgsizeResult();
          const want: number[][] = [];
          for (let done = 0; done < size; ) {
            iommuPgsize(bitmap, iova + done, phys + done, size - done, pg);
            const last = want[want.length - 1];
            if (last && last[3] === pg.pgsize && last[0]! + last[1]! === iova + done)
              last[1]! += pg.pgsize * pg.count;
            else want.push([iova + done, pg.pgsize * pg.count, phys + done, pg.pgsize]);
            done += pg.pgsize * pg.count;
          }
          const got = splitLeaves(sizes, iova, phys, size)!.map((l) => [l.iova, l.size, l.phys, l.leaf]);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 2000, seed: seedOf("splitLeaves") },
    );
  });
});

describe("ReferenceMap: map semantics", () => {
  it("fail: any overlap refuses the request and changes nothing", () => {
    const m = new ReferenceMap();
    expect(m.map(M2 - K4, 0x4000_0000 - K4, M2 + 2 * K4, 1, GPT)).toMatchObject({ ok: true });
    expect(runs(m)).toEqual([
      [M2 - K4, K4, 0x4000_0000 - K4, K4],
      [M2, M2, 0x4000_0000, M2],
      [2 * M2, K4, 0x4000_0000 + M2, K4],
    ]);
    expect(m.map(0, 0, 2 * M2, 1, GPT)).toEqual({ ok: false, errno: "EADDRINUSE" });
    expect(m.count).toBe(3);
  });

  it("replace (LPAE): a block frees the table under it; a conflict keeps what was replaced before it", () => {
    const m = new ReferenceMap();
    m.map(K4, K4, K4, 3, LPAE); // a 4K leaf under the first 2M entry
    m.map(M2 + K4, K4, K4, 3, LPAE); // and one under the second
    m.map(3 * M2, 0, M2, 3, LPAE); // a 2M block in the fourth
    // 2M blocks over entries 0..3: entry 0 and 1 replace their tables, entry 3 is a block → EEXIST.
    expect(m.map(0, 0, 4 * M2, 3, LPAE)).toEqual({ ok: false, errno: "EEXIST" });
    expect(runs(m)).toEqual([[3 * M2, M2, 0, M2]]);
    // A 4K leaf under a block: EEXIST.
    expect(m.map(3 * M2 + K4, 0, K4, 3, LPAE)).toEqual({ ok: false, errno: "EEXIST" });
  });

  it("replace (v7s): sections replace L2 tables, 64K large pages do not replace 4K pages", () => {
    const m = new ReferenceMap();
    m.map(K4, K4, K4, 3, V7S);
    expect(m.map(0, 0, K64, 3, V7S)).toEqual({ ok: false, errno: "EEXIST" });
    expect(m.map(0, 0, M1, 3, V7S)).toMatchObject({ ok: true });
    expect(runs(m)).toEqual([[0, M1, 0, M1]]);
    // A supersection over a section: EEXIST (16 copies of a 1M entry, one is a leaf).
    expect(m.map(0, 0, M16, 3, V7S)).toEqual({ ok: false, errno: "EEXIST" });
  });
});

describe("ReferenceMap: iommu_unmap semantics", () => {
  it("whole mappings and leaf-aligned parts go in every format", () => {
    for (const sem of [LPAE, GPT]) {
      const m = new ReferenceMap();
      m.map(M2 - K4, 0x4000_0000 - K4, M2 + 2 * K4, 1, sem);
      expect(m.unmap(M2, M2 + K4, sem)).toEqual({ ret: M2 + K4, bytes: M2 + K4 });
      expect(m.unmap(M2 - K4, K4, sem)).toEqual({ ret: K4, bytes: K4 });
      expect(m.count).toBe(0);
    }
  });

  it("a hole at the first page: 0, or -ENOENT through size_t (LPAE)", () => {
    const m = new ReferenceMap();
    m.map(2 * K4, 0, K4, 1, LPAE);
    expect(m.predictUnmap(K4, 4 * K4, LPAE)).toEqual({ ret: -2, bytes: 0 });
    expect(m.predictUnmap(K4, 4 * K4, GPT)).toEqual({ ret: 0, bytes: 0 });
    // A hole under a 2M chunk depends on the tables LPAE keeps: undefined.
    expect(m.predictUnmap(M2, M2, LPAE)).toHaveProperty("undefinedBecause");
    expect(m.predictUnmap(M2, M2, GPT)).toEqual({ ret: 0, bytes: 0 });
  });

  it("a partial leaf: kept (io-pgtable) or removed whole, reporting more than asked (generic_pt)", () => {
    const keep = new ReferenceMap();
    keep.map(0, 0, M2, 1, LPAE);
    expect(keep.unmap(0, K4, LPAE)).toEqual({ ret: 0, bytes: 0 });
    expect(keep.unmap(K4, K4, LPAE)).toEqual({ ret: 0, bytes: 0 });
    const whole = new ReferenceMap();
    whole.map(0, 0, M2, 1, GPT);
    expect(whole.unmap(K4, K4, GPT)).toEqual({ ret: 0, bytes: 0 });
    expect(whole.unmap(0, K4, GPT)).toEqual({ ret: M2, bytes: M2 });
  });

  it("into a hole: generic_pt stops there; LPAE's -ENOENT mid-range is undefined (the core would BUG)", () => {
    const m = new ReferenceMap();
    m.map(0, 0, 3 * K4, 1, GPT);
    expect(m.predictUnmap(0, 8 * K4, GPT)).toEqual({ ret: 3 * K4, bytes: 3 * K4 });
    expect(m.predictUnmap(0, 5 * K4, LPAE)).toHaveProperty("undefinedBecause");
    // LPAE over a partly mapped 2M chunk: the table goes whole, but only if it exists: undefined.
    expect(m.predictUnmap(0, M2, LPAE)).toHaveProperty("undefinedBecause");
  });
});

describe("ReferenceMap: VFIO type1 unmap rules", () => {
  const dmas = () => {
    const m = new ReferenceMap();
    for (const [iova, size] of [
      [0x1000, 0x2000],
      [0x4000, 0x1000],
      [0x8000, 0x4000],
    ] as const)
      m.add({ iova, size });
    return m;
  };

  it("v2: a straddle fails the request, else every mapping inside goes", () => {
    expect(dmas().unmapContained(0x2000, 0x4000)).toEqual({ ret: -22, bytes: 0 });
    const m = dmas();
    expect(m.unmapContained(0, 0x6000)).toEqual({ ret: 0, bytes: 0x3000 });
    expect(m.entries.map((e) => e.iova)).toEqual([0x8000]);
  });

  it("v1: whole mappings from the start, stopping at one that starts below the range", () => {
    expect(dmas().unmapWholeFromStart(0x2000, 0x8000)).toEqual({ ret: 0, bytes: 0 });
    const m = dmas();
    expect(m.unmapWholeFromStart(0x1000, 0x7001)).toEqual({ ret: 0, bytes: 0x7000 });
    expect(m.count).toBe(0);
  });
});

describe("TableShadow", () => {
  it("tracks tables per entry, drops subtrees, and gives the span a walk stops at", () => {
    const t = new TableShadow([2 ** 39, G1, M2, K4]);
    expect(t.holeSpan(0x1234_5000)).toBe(2 ** 39);
    t.ensurePath(0x1234_5000, 3);
    expect(t.count).toBe(3);
    expect(t.holeSpan(0x1234_5000)).toBe(K4);
    expect(t.holeSpan(0x1234_5000 + M2)).toBe(M2);
    t.drop(1, 0x1234_5000);
    expect(t.count).toBe(1);
    expect(t.has(0, 0)).toBe(true);
    expect(t.holeSpan(0x1234_5000)).toBe(G1);
    expect(() => t.install(3, 0)).toThrow(/no tables/);
  });
});
