/**
 * drivers/iommu/s390-iommu.c: the core's IOTLB model on a zPCI function, fed by the RPCITs the
 * driver really issues (iotlb_sync over the gathered range, iotlb_sync_map with tlb_refresh,
 * flush_iotlb_all): random sequences run clean; broken variants (an RPCIT one page short, an
 * RPCIT dropped) are caught; the kernel's silent overwrite of a valid PTE (a WARN, no RPCIT) is
 * flagged as the known quirk it is.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbChecker,
  type IotlbFinding,
  PhysMem,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type S390IotlbFeedOptions, type S390Rpcit, s390IotlbFeed, s390IotlbModel } from "./iotlb.js";
import { S390Iommu } from "./s390-iommu.js";

const RW = IOMMU_READ | IOMMU_WRITE;

/** A function whose DMA range starts at 0 (the sequences use IOVAs below 8 MiB), 3 levels. */
function setup(
  o: { strict?: boolean; tlbRefresh?: boolean } = {},
  feed: S390IotlbFeedOptions = {},
  capacity = 64,
  walkCache = 16,
) {
  const allocator = new TableAllocator(new PhysMem(), { base: 0x8000_0000 });
  const zdev = new S390Iommu({ startDma: 0, memoryBytes: 16 * 2 ** 30, allocator, fh: 0x42, ...o });
  const d = zdev.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`domain_alloc_paging: ${d}`);
  if (zdev.attach(d) !== 0) throw new Error("attach failed");
  return {
    d,
    zdev,
    c: new IotlbChecker(d, s390IotlbModel(d, { capacity, walkCache }), s390IotlbFeed(d, feed)),
  };
}

describe("s390 under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["strict (a map over a valid PTE is -EEXIST)", { strict: true }],
    ["kernel mode with tlb_refresh (RPCIT after every map)", { tlbRefresh: true }],
  ])("%s", (_name, o) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(o, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 40 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("known kernel quirk: overwrite-warn leaves the old translation cached", () => {
  it("kernel mode without tlb_refresh: a map over a valid PTE issues no RPCIT → sync-stale on map, then stale-access", () => {
    const { d, c } = setup();
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    c.map(0x1000, 0x9000_0000, SZ_4K, RW); // WARN_ON_ONCE(validate_pt_entry), overwritten
    expect(d.quirks["overwrite-warn"]).toBe(1);
    expect(c.findings).toEqual([
      expect.objectContaining({ kind: "sync-stale", op: "map", cache: "iotlb", iova: 0x1000, size: SZ_4K }),
    ]);
    c.access(0x1000);
    expect(c.findings[1]).toMatchObject({ kind: "stale-access", iova: 0x1000 });
  });

  it("with tlb_refresh the iotlb_sync_map RPCIT covers it", () => {
    const { c } = setup({ tlbRefresh: true });
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    c.map(0x1000, 0x9000_0000, SZ_4K, RW);
    c.access(0x1000);
    expect(c.findings).toEqual([]);
  });
});

type Variant = {
  name: string;
  feed?: S390IotlbFeedOptions;
  map: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const short = (r: S390Rpcit): S390Rpcit | null => ({ ...r, size: r.size - SZ_4K });
const dropped = (): S390Rpcit | null => null;

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the RPCIT of iotlb_sync is one page short (the gather dropped its last page)",
    feed: { rewrite: short },
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "no RPCIT at all (a function missing from the domain's device list)",
    feed: { rewrite: dropped },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = setup({}, v.feed ?? {});
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

describe("over-invalidation and flush-all", () => {
  it("iotlb_sync: one RPCIT over exactly the gathered range", () => {
    const { c } = setup({ strict: true });
    c.map(0x10_0000, 0x8000_0000, 64 * SZ_4K, RW);
    c.unmap(0x10_0000, 64 * SZ_4K);
    expect(c.overInvalidation()).toMatchObject({
      bytesUnmapped: 64 * SZ_4K,
      bytesInvalidated: 64 * SZ_4K,
      ratio: 1,
    });
  });

  it("flush_iotlb_all: one RPCIT over [start_dma, end_dma] empties the function's cache", () => {
    const { c } = setup({ strict: true });
    c.map(0x10_0000, 0x8000_0000, 4 * SZ_4K, RW);
    for (let k = 0; k < 4; k++) c.access(0x10_0000 + k * SZ_4K);
    expect(c.model.entries.length).toBe(4);
    c.flushAll();
    expect(c.model.entries.length).toBe(0);
    expect(c.findings).toEqual([]);
  });
});
