/**
 * drivers/iommu/tegra-smmu.c: the core's IOTLB model on Tegra SMMU address spaces, fed by the
 * flushes the driver really makes (TLB group/section by ASID, PTC line of a PDE, the
 * `smmu_flush()` read-back): random map/unmap/access sequences run clean; broken variants (a
 * dropped group flush, no read-back, a PDE cleared without its PTC flush) are each caught with
 * the right diagnosis.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding, SZ_4K, SZ_4M } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type TegraSmmuIotlbFeedOptions,
  type TegraSmmuMmioAccess,
  tegraSmmuDecodeMmio,
  tegraSmmuIotlbFeed,
  tegraSmmuIotlbModel,
} from "./iotlb.js";
import { SMMU_PTB_ASID, SMMU_PTC_FLUSH, SMMU_TLB_FLUSH } from "./regs.js";
import type { TegraSmmuDomain } from "./tegra-smmu.js";
import { makeTegra } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(strict: boolean, feed: TegraSmmuIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { d } = makeTegra({ strict });
  const model = tegraSmmuIotlbModel(d, { capacity, walkCache });
  return { d, c: new IotlbChecker(d, model, tegraSmmuIotlbFeed(d, feed)) };
}

describe("Tegra SMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["kernel mode (one PTE per call, silent overwrite)", false],
    ["strict", true],
  ])("%s", (_name, strict) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(strict, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 40 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("MMIO decoding", () => {
  const { d } = makeTegra();
  const w = (offset: number, value: number): TegraSmmuMmioAccess => ({ write: true, offset, value });
  it("TLB group flush: ASID << 24 | ASID_MATCH | VA[31:14] >> 12 | 3, 16 KiB, TLB only", () => {
    const v = (0x80000000 | (d.id << 24) | ((0x1234_c000 >>> 12) | 3)) >>> 0;
    expect(tegraSmmuDecodeMmio(w(SMMU_TLB_FLUSH, v), d, { ptcHi: 0 })).toMatchObject({
      scope: "range",
      tag: d.id,
      iova: 0x1234_c000,
      size: 0x4000,
      leafOnly: true,
    });
  });
  it("PTC flush of a page-directory line: the walk cache for its PDEs; other lines and reads", () => {
    const line = d.pd + 32 * 3; // tegra124: 32-byte atoms, PDEs 24..31
    expect(tegraSmmuDecodeMmio(w(SMMU_PTC_FLUSH, line | 1), d, { ptcHi: 0 })).toMatchObject({
      scope: "walk",
      iova: 24 * SZ_4M,
      size: 8 * SZ_4M,
    });
    expect(tegraSmmuDecodeMmio(w(SMMU_PTC_FLUSH, (d.pd + 0x1000) | 1), d, { ptcHi: 0 })).toBeNull();
    expect(tegraSmmuDecodeMmio({ write: false, offset: SMMU_PTB_ASID, value: 0 }, d, { ptcHi: 0 })).toBe(
      "sync",
    );
  });
});

type Variant = {
  name: string;
  feed?: (d: TegraSmmuDomain) => TegraSmmuIotlbFeedOptions;
  /** Mapped (and touched) ranges; the first is unmapped. */
  map: [iova: number, size: number][];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const dropGroup =
  (iova: number) =>
  (a: TegraSmmuMmioAccess): TegraSmmuMmioAccess | null =>
    a.write && a.offset === SMMU_TLB_FLUSH && (a.value & 3) === 3 && (a.value & 0xffffc) === iova >>> 12
      ? null
      : a;
const noReadBack = (a: TegraSmmuMmioAccess): TegraSmmuMmioAccess | null =>
  !a.write && a.offset === SMMU_PTB_ASID ? null : a;
/** Drops the PTC flushes of page-directory lines (the PD at `pd`). */
const noPdPtcFlush =
  (pd: number) =>
  (a: TegraSmmuMmioAccess): TegraSmmuMmioAccess | null => {
    const pa = (a.value & ~3) >>> 0;
    return a.write && a.offset === SMMU_PTC_FLUSH && pa >= pd && pa < pd + 0x1000 ? null : a;
  };

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [
      [0x3000, 2 * SZ_4K],
      [0x10_0000, SZ_4K],
    ],
    touch: 0x4000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the last page's TLB group flush is dropped",
    feed: () => ({ rewrite: dropGroup(0x4000) }),
    // A third page keeps the page table (and its section) alive: only the group flush covers 0x4000.
    map: [
      [0x3000, 2 * SZ_4K],
      [0x10_0000, SZ_4K],
    ],
    touch: 0x4000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x4000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x4000 },
  },
  {
    name: "missing smmu_flush() read-back",
    feed: () => ({ rewrite: noReadBack }),
    map: [
      [0x3000, SZ_4K],
      [0x10_0000, SZ_4K],
    ],
    touch: 0x3000,
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x3000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x3000 },
  },
  {
    name: "PDE cleared (page table freed) without the PTC flush of its line",
    feed: (d) => ({ rewrite: noPdPtcFlush(d.pd) }),
    map: [[0x40_0000, SZ_4K]],
    touch: 0x40_0000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "walk", iova: 0x40_0000, size: SZ_4M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x40_0000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { d } = makeTegra();
    const c = new IotlbChecker(
      d,
      tegraSmmuIotlbModel(d, { walkCache: 16 }),
      tegraSmmuIotlbFeed(d, v.feed?.(d) ?? {}),
    );
    for (const [iova, size] of v.map) {
      c.map(iova, 0x8000_0000 + iova, size, RW);
      for (let va = iova; va < iova + size; va += SZ_4K) c.access(va);
    }
    expect(c.findings).toEqual([]);
    const [iova, size] = v.map[0]!;
    c.unmap(iova, size);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});

describe("over-invalidation", () => {
  it("64 pages unmapped: a 16 KiB group per page, then the 4 MiB section and the PD line's 32 MiB of PDEs", () => {
    const { c } = setup(false);
    c.map(0x40_0000, 0x8000_0000, 64 * SZ_4K, RW);
    const before = c.model.stats.bytesInvalidated;
    c.unmap(0x40_0000, 64 * SZ_4K);
    expect(c.findings).toEqual([]);
    expect(c.model.stats.bytesInvalidated - before).toBe(64 * 0x4000 + SZ_4M + 8 * SZ_4M);
    expect(c.overInvalidation().bytesUnmapped).toBe(64 * SZ_4K);
  });
});
