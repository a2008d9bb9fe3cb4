/**
 * drivers/iommu/sprd-iommu.c under the core's IOTLB model: sprd domains, fed by the TLB clears the
 * driver really writes (all-ones to EX/VAU_UPDATE in `iotlb_sync_map` and `iotlb_sync`): random
 * map/unmap/access sequences stay coherent and clean; broken variants (the unmap's clear dropped,
 * the clear after a silent overwrite dropped) are caught with the right diagnosis. The clear is
 * the only invalidation (no per-page form to narrow) and needs no completion; the table is flat
 * (no walk cache).
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SPRD_EX_REGS, SPRD_IOMMU_PAGE_SIZE, SPRD_VAU_REGS } from "./defs.js";
import { type SprdIotlbFeedOptions, sprdDecodeWrite, sprdIotlbFeed, sprdIotlbModel } from "./iotlb.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const PAGE = SPRD_IOMMU_PAGE_SIZE;

function checker(version: "ex" | "vau", feed: SprdIotlbFeedOptions = {}, capacity = 64) {
  const { d } = setup({ version });
  const c = new IotlbChecker(d, sprdIotlbModel(d, { capacity }), sprdIotlbFeed(d, feed));
  return { d, c };
}

describe("sprd IOMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["EX", "ex"],
    ["VAU", "vau"],
  ] as const)("%s", (_name, version) => {
    const seen = { hits: 0, evictions: 0, invalidations: 0, fullInvalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = checker(version, {}, capacity);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
          // Only whole clears: no byte of a range is ever named.
          expect(c.overInvalidation().bytesInvalidated).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("register-write decoding", () => {
  it("all-ones to the version's UPDATE clears the whole TLB; the other version's offset does nothing", () => {
    expect(sprdDecodeWrite({ reg: SPRD_EX_REGS.update, value: 0xffff_ffff }, "ex")).toMatchObject({
      scope: "all",
    });
    expect(sprdDecodeWrite({ reg: SPRD_VAU_REGS.update, value: 0xffff_ffff }, "vau")).toMatchObject({
      scope: "all",
    });
    expect(sprdDecodeWrite({ reg: SPRD_VAU_REGS.update, value: 0xffff_ffff }, "ex")).toBeNull();
  });
});

type Variant = {
  name: string;
  feed: SprdIotlbFeedOptions;
  map: [iova: number, size: number];
  /** The second operation: an unmap, or a map over the first (to PA 0x90000000 + iova). */
  second: ["unmap" | "map", iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

/** Drop every UPDATE write after the first `keep` (the map's own). */
const dropAfter = (keep: number) => {
  let n = 0;
  return (x: { reg: number; value: number }) => (n++ < keep ? x : null);
};

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    feed: {},
    map: [0x1000, 2 * PAGE],
    second: ["unmap", 0x1000, 2 * PAGE],
    touch: 0x2000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "iotlb_sync's TLB clear dropped (the unmapped pages stay cached)",
    feed: { rewrite: dropAfter(1) },
    map: [0x1000, 2 * PAGE],
    second: ["unmap", 0x1000, 2 * PAGE],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: PAGE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "iotlb_sync_map's clear dropped after a map over a live entry (quirk silent-overwrite)",
    feed: { rewrite: dropAfter(1) },
    map: [0x1000, PAGE],
    second: ["map", 0x1000, PAGE],
    touch: 0x1000,
    diagnosis: { kind: "sync-stale", op: "map", cache: "iotlb", iova: 0x1000, size: PAGE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = checker("ex", v.feed);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += PAGE) c.access(va);
    expect(c.findings).toEqual([]);
    const [op, iova, size] = v.second;
    if (op === "unmap") c.unmap(iova, size);
    else c.map(iova, 0x9000_0000 + iova, size, RW);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op, iova } });
      // Every page the operation changed is reported, none other.
      expect(c.findings).toHaveLength(size / PAGE);
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? size / PAGE : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});
