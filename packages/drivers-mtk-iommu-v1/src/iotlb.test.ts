/**
 * drivers/iommu/mtk_iommu_v1.c: the core's IOTLB model on the M4U, fed by the range
 * invalidations the driver really programs (one per map_pages/unmap_pages call, completed by
 * the CPE_DONE poll): random sequences run clean; broken variants (a range one page short, no
 * CPE_DONE poll) are caught with the right diagnosis.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding, SZ_4K } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type MtkIommuV1IotlbFeedOptions,
  type MtkIommuV1MmioAccess,
  mtkIommuV1DecodeMmio,
  mtkIommuV1IotlbFeed,
  mtkIommuV1IotlbModel,
} from "./iotlb.js";
import {
  REG_MMU_CPE_DONE,
  REG_MMU_INVALIDATE,
  REG_MMU_INVLD_END_A,
  REG_MMU_INVLD_START_A,
} from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(strict: boolean, feed: MtkIommuV1IotlbFeedOptions = {}, capacity = 64) {
  const { d } = makeMtk({ strict });
  return { d, c: new IotlbChecker(d, mtkIommuV1IotlbModel(d, { capacity }), mtkIommuV1IotlbFeed(d, feed)) };
}

describe("mtk_iommu_v1 under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["kernel mode (blind unmap)", false],
    ["strict", true],
  ])("%s", (_name, strict) => {
    const seen = { hits: 0, evictions: 0, invalidations: 0, syncs: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(strict, {}, capacity);
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
  const w = (offset: number, value: number): MtkIommuV1MmioAccess => ({ write: true, offset, value });
  it("START/END inclusive page addresses, then INVALIDATE = F_MMU_INV_RANGE; the CPE_DONE poll syncs", () => {
    const state = { start: 0, end: 0 };
    expect(mtkIommuV1DecodeMmio(w(REG_MMU_INVLD_START_A, 0x12_3000), state)).toBeNull();
    expect(mtkIommuV1DecodeMmio(w(REG_MMU_INVLD_END_A, 0x12_4fff), state)).toBeNull();
    expect(mtkIommuV1DecodeMmio(w(REG_MMU_INVALIDATE, 1), state)).toMatchObject({
      inv: { scope: "range", iova: 0x12_3000, size: 0x2000 },
      now: false,
    });
    expect(mtkIommuV1DecodeMmio({ write: false, offset: REG_MMU_CPE_DONE, value: 1 }, state)).toBe("sync");
    expect(mtkIommuV1DecodeMmio(w(REG_MMU_INVALIDATE, 2), state)).toMatchObject({
      inv: { scope: "all" },
      now: true,
    });
  });
});

type Variant = {
  name: string;
  feed?: MtkIommuV1IotlbFeedOptions;
  map: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const endShort = (a: MtkIommuV1MmioAccess): MtkIommuV1MmioAccess | null =>
  a.write && a.offset === REG_MMU_INVLD_END_A ? { ...a, value: a.value - SZ_4K } : a;
const noPoll = (a: MtkIommuV1MmioAccess): MtkIommuV1MmioAccess | null =>
  !a.write && a.offset === REG_MMU_CPE_DONE ? null : a;

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the range ends one page short (the last page is not invalidated)",
    feed: { rewrite: endShort },
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "no CPE_DONE poll (the invalidation is never completed)",
    feed: { rewrite: noPoll },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = setup(false, v.feed ?? {});
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
    expect(c.findings).toEqual([]);
    c.unmap(v.map[0], v.map[1]);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova: v.map[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});

describe("over-invalidation", () => {
  it("one range per unmap_pages call, exactly the pages unmapped", () => {
    const { c } = setup(true);
    c.map(0x10_0000, 0x8000_0000, 64 * SZ_4K, RW);
    const before = c.model.stats.bytesInvalidated;
    c.unmap(0x10_0000, 64 * SZ_4K);
    expect(c.findings).toEqual([]);
    expect(c.model.stats.bytesInvalidated - before).toBe(64 * SZ_4K);
  });
});
