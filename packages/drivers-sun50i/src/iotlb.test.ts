/**
 * drivers/iommu/sun50i-iommu.c under the core's IOTLB model: sun50i domains, fed by the
 * maintenance accesses the driver really makes (`iotlb_sync` / `flush_iotlb_all`:
 * IOMMU_TLB_FLUSH_REG then its poll; `iotlb_sync_map`: page and DTE zaps around the range): random
 * map/unmap/access sequences stay coherent and clean; broken variants (the unmap's flush narrowed
 * to the first page, the poll of the flush skipped) are caught with the right diagnosis. Page
 * tables live as long as the domain, so there is no "freed table" variant.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SPAGE_SIZE } from "./defs.js";
import {
  type Sun50iIotlbFeedOptions,
  sun50iDecodeAccess,
  sun50iIotlbFeed,
  sun50iIotlbModel,
} from "./iotlb.js";
import { setup } from "./testing/harness.js";
import {
  IOMMU_PC_IVLD_ADDR_REG,
  IOMMU_PC_IVLD_ENABLE_REG,
  IOMMU_TLB_FLUSH_REG,
  IOMMU_TLB_IVLD_ADDR_MASK_REG,
  IOMMU_TLB_IVLD_ADDR_REG,
  IOMMU_TLB_IVLD_ENABLE_REG,
  type Sun50iTlbAccess,
} from "./tlb-log.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function checker(feed: Sun50iIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { d } = setup();
  const c = new IotlbChecker(d, sun50iIotlbModel(d, { capacity, walkCache }), sun50iIotlbFeed(d, feed));
  return { d, c };
}

const w = (reg: number, value: number): Sun50iTlbAccess => ({ reg, value, poll: false });
const poll = (reg: number): Sun50iTlbAccess => ({ reg, value: 0, poll: true });

describe("sun50i IOMMU under the IOTLB checker: random sequences run clean", () => {
  it("flush-all on every unmap, page and DTE zaps on every map", () => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0, syncs: 0 };
    let full = 0;
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = checker({}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
          full += c.overInvalidation().fullInvalidations;
        },
      ),
      { numRuns: 50 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
    // Every unmap ends in a whole flush: over-invalidation is total (counted apart from bytes).
    expect(full).toBeGreaterThan(0);
  });

  it("iotlb_sync_map zaps the first two pages, the two after the range and two DTEs, each polled", () => {
    const { d, c } = checker();
    c.map(0x40_0000, 0x8000_0000, 4 * SPAGE_SIZE, RW);
    const log = d.tlbLog!.accesses;
    const ivld = log.filter((x) => x.reg === IOMMU_TLB_IVLD_ADDR_REG).map((x) => x.value);
    const pc = log.filter((x) => x.reg === IOMMU_PC_IVLD_ADDR_REG).map((x) => x.value);
    expect(ivld).toEqual([0x40_0000, 0x40_1000, 0x40_4000, 0x40_5000]);
    expect(pc).toEqual([0x40_0000, 0x50_0000]);
    expect(log.filter((x) => x.poll)).toHaveLength(6);
    expect(c.model.pending).toEqual([]);
  });
});

describe("access decoding", () => {
  it("TLB_IVLD: the page under GENMASK(31, 12), TLB entries only; PC_IVLD: the DTE's 1 MiB, walk cache only", () => {
    const regs = { tlbAddr: 0, tlbMask: 0, pcAddr: 0 };
    expect(sun50iDecodeAccess(w(IOMMU_TLB_IVLD_ADDR_REG, 0x1234_5678), regs)).toBeNull();
    expect(sun50iDecodeAccess(w(IOMMU_TLB_IVLD_ADDR_MASK_REG, 0xffff_f000), regs)).toBeNull();
    expect(sun50iDecodeAccess(w(IOMMU_TLB_IVLD_ENABLE_REG, 1), regs)).toMatchObject({
      scope: "range",
      iova: 0x1234_5000,
      size: SPAGE_SIZE,
      leafOnly: true,
    });
    expect(sun50iDecodeAccess(w(IOMMU_PC_IVLD_ADDR_REG, 0x1234_5678), regs)).toBeNull();
    expect(sun50iDecodeAccess(w(IOMMU_PC_IVLD_ENABLE_REG, 1), regs)).toMatchObject({
      scope: "walk",
      iova: 0x1230_0000,
      size: 0x10_0000,
    });
    expect(sun50iDecodeAccess(w(IOMMU_TLB_FLUSH_REG, 0x3_003f), regs)).toMatchObject({ scope: "all" });
    expect(sun50iDecodeAccess(poll(IOMMU_TLB_FLUSH_REG), regs)).toBe("sync");
  });
});

type Variant = {
  name: string;
  feed: Sun50iIotlbFeedOptions;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

/** The unmap's whole flush replaced by a zap of the page at `va` (a driver that narrowed it). */
const narrowTo = (va: number) => (x: Sun50iTlbAccess) => {
  if (x.reg !== IOMMU_TLB_FLUSH_REG) return x;
  if (x.poll) return poll(IOMMU_TLB_IVLD_ENABLE_REG);
  return [
    w(IOMMU_TLB_IVLD_ADDR_REG, va),
    w(IOMMU_TLB_IVLD_ADDR_MASK_REG, 0xffff_f000),
    w(IOMMU_TLB_IVLD_ENABLE_REG, 1),
  ];
};
const noFlushPoll = (x: Sun50iTlbAccess) => (x.poll && x.reg === IOMMU_TLB_FLUSH_REG ? null : x);

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    feed: {},
    map: [0x1000, 2 * SPAGE_SIZE],
    unmap: [0x1000, 2 * SPAGE_SIZE],
    touch: 0x2000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the unmap's flush narrowed to the first page (the last page dropped)",
    feed: { rewrite: narrowTo(0x1000) },
    map: [0x1000, 2 * SPAGE_SIZE],
    unmap: [0x1000, 2 * SPAGE_SIZE],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SPAGE_SIZE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "the poll of IOMMU_TLB_FLUSH_REG skipped (missing completion)",
    feed: { rewrite: noFlushPoll },
    map: [0x1000, SPAGE_SIZE],
    unmap: [0x1000, SPAGE_SIZE],
    touch: 0x1000,
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SPAGE_SIZE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = checker(v.feed);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SPAGE_SIZE) c.access(va);
    expect(c.findings).toEqual([]);
    c.unmap(v.unmap[0], v.unmap[1]);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova: v.unmap[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});
