// drivers/iommu/iommufd/pages.c: struct pfn_batch, temp_kmalloc and the interval-tree spans
// (double_span.h) the unfill and pfn_reader loops iterate.
import { describe, expect, it } from "vitest";
import { forEachDoubleSpan, IntervalTree, type ItNode } from "./interval-tree.js";
import { Iommufd } from "./iommufd.js";
import { MAX_NPFNS, PfnBatch, TEMP_MEMORY_LIMIT, tempKmalloc } from "./pfn-batch.js";

describe("temp_kmalloc / __batch_init", () => {
  it("caps at TEMP_MEMORY_LIMIT (64 KiB = 5461 entries)", () => {
    const ictx = new Iommufd();
    const b = new PfnBatch();
    expect(b.init(ictx, 1_000_000)).toBe(0);
    expect(b.arraySize).toBe(Math.floor(TEMP_MEMORY_LIMIT / 12));
    expect(b.arraySize).toBe(5461);
  });

  it("a request below the backup size uses the backup at the requested size, without fault injection", () => {
    const ictx = new Iommufd();
    ictx.fault.failNth(1);
    expect(tempKmalloc(ictx, 21 * 12, 256)).toBe(252);
    expect(ictx.fault.armed).toBe(true);
  });

  it("mock_domain_limit: a 16-byte limit leaves one entry; without a backup the first allocation can fail", () => {
    const ictx = new Iommufd();
    ictx.setTempMemoryLimit(16);
    const b = new PfnBatch();
    expect(b.init(ictx, 100, 256)).toBe(0);
    expect(b.arraySize).toBe(1);
    ictx.fault.failNth(1);
    expect(b.init(ictx, 100)).toBe(-12);
  });

  it("a limit below one entry trips the CONFIG_IOMMUFD_TEST WARN and -EINVAL", () => {
    const ictx = new Iommufd();
    ictx.setTempMemoryLimit(8);
    expect(new PfnBatch().init(ictx, 100)).toBe(-22);
    expect(ictx.warns.warns).toBe(1);
  });
});

describe("batch_add_pfn_num / carry", () => {
  const warn = (m: string) => {
    throw new Error(m);
  };

  it("extends contiguous runs, opens entries, reports full", () => {
    const ictx = new Iommufd();
    const b = new PfnBatch();
    ictx.setTempMemoryLimit(24);
    b.init(ictx, 100, 256);
    expect(b.arraySize).toBe(2);
    expect(b.addPfnNum(100, 4)).toBe(true);
    expect(b.addPfnNum(104, 2)).toBe(true);
    expect(b.addPfnNum(200, 1)).toBe(true);
    expect(b.addPfnNum(300, 1)).toBe(false);
    expect([b.end, b.totalPfns, b.pfns[0], b.npfns[0], b.pfns[1], b.npfns[1]]).toEqual([
      2, 7, 100, 6, 200, 1,
    ]);
  });

  it("a run never passes the u32 count: the overflowing pfns start a new entry", () => {
    const ictx = new Iommufd();
    const b = new PfnBatch();
    b.init(ictx, 100);
    expect(b.addPfnNum(0, MAX_NPFNS)).toBe(true);
    expect(b.addPfnNum(MAX_NPFNS, 1)).toBe(true);
    expect(b.end).toBe(2);
  });

  it("batch_clear_carry keeps the tail of the last run as one entry; skip_carry eats its front", () => {
    const ictx = new Iommufd();
    const b = new PfnBatch();
    b.init(ictx, 100);
    b.addPfnNum(10, 3);
    b.addPfnNum(50, 8);
    b.clearCarry(5, warn);
    expect([b.end, b.totalPfns, b.pfns[0], b.npfns[0]]).toEqual([1, 5, 53, 5]);
    // The carry continues: a contiguous pfn extends it (end = 1, upstream's fix).
    expect(b.addPfn(58)).toBe(true);
    expect([b.end, b.totalPfns, b.npfns[0]]).toEqual([1, 6, 6]);
    b.skipCarry(2, warn);
    expect([b.totalPfns, b.pfns[0], b.npfns[0]]).toEqual([4, 55, 4]);
    b.skipCarry(10, warn);
    expect(b.totalPfns).toBe(0);
  });
});

describe("interval_tree_double_span_iter", () => {
  const tree = (...n: [number, number][]) => {
    const t = new IntervalTree<ItNode>();
    for (const [start, last] of n) t.insert({ start, last });
    return t;
  };
  const spans = (a: IntervalTree<ItNode>, b: IntervalTree<ItNode>, first: number, last: number) => {
    const out: [number, number, number][] = [];
    forEachDoubleSpan(a, b, first, last, (u, s, l) => {
      out.push([u, s, l]);
      return true;
    });
    return out;
  };

  it("the first tree wins, touching nodes merge, holes are common to both", () => {
    expect(spans(tree([2, 3], [4, 5]), tree([0, 9]), 0, 9)).toEqual([
      [2, 0, 1],
      [1, 2, 5],
      [2, 6, 9],
    ]);
    expect(spans(tree([5, 5]), tree([7, 8]), 0, 9)).toEqual([
      [0, 0, 4],
      [1, 5, 5],
      [0, 6, 6],
      [2, 7, 8],
      [0, 9, 9],
    ]);
  });

  it("overlapping nodes (access_itree) form one used span", () => {
    expect(spans(tree([1, 4], [2, 3], [3, 6]), tree(), 0, 7)).toEqual([
      [0, 0, 0],
      [1, 1, 6],
      [0, 7, 7],
    ]);
  });
});
