/**
 * The core's IOTLB model on VT-d domains, fed by the descriptors the driver really queues
 * (intel_iommu_tlb_sync → cache_tag_flush_range): random sequences run clean on both stages;
 * broken variants (a gather that drops a page, IH=1 after a table was freed, a missing wait
 * descriptor) are each caught with the right diagnosis.
 */
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbChecker,
  type IotlbFinding,
  type IotlbGather,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DmarDomain } from "./domain.js";
import { IntelIommu, VTD_LEGACY_CAP, VTD_LEGACY_ECAP, VTD_SPR_CAP, VTD_SPR_ECAP } from "./intel-iommu.js";
import { type IntelIotlbFeedOptions, intelDecodeQiDesc, intelIotlbFeed, intelIotlbModel } from "./iotlb.js";
import { QI_GRAN_PSI, QI_IWD_TYPE, type QiDesc } from "./qi.js";

const RW = IOMMU_READ | IOMMU_WRITE;

type Unit = "legacy" | "spr";
function setup(unit: Unit = "legacy", flags = 0, feed: IntelIotlbFeedOptions = {}, capacity = 64) {
  const u = new IntelIommu(
    unit === "legacy"
      ? { cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP }
      : { cap: VTD_SPR_CAP, ecap: VTD_SPR_ECAP },
  );
  const d = u.domainAllocPagingFlags(flags) as DmarDomain;
  expect(u.attachDev(d)).toBe(0);
  const model = intelIotlbModel(d, { capacity, walkCache: 16 });
  return { d, c: new IotlbChecker(d, model, intelIotlbFeed(d, feed)) };
}

describe("VT-d under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["second stage, legacy unit (PSI / DSI)", "legacy", 0],
    ["first stage, SPR unit (PASID-based PSI)", "spr", 0],
    ["second stage, SPR unit (nest parent)", "spr", IOMMU_HWPT_ALLOC_NEST_PARENT],
  ] as const)("%s", (_name, unit, flags) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(unit, flags, {}, capacity);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 60 },
    );
    // Not vacuous: hits, walk-cache use, evictions and invalidations all happened.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("descriptor decoding", () => {
  it("PSI names 2^AM pages at ADDR; IH=1 spares the paging-structure caches", () => {
    const q = { type: 2, gran: QI_GRAN_PSI, did: 5, addr: 0x4000_0000n, am: 9, ih: 1 } as QiDesc;
    expect(intelDecodeQiDesc(q)).toMatchObject({
      scope: "range",
      tag: 5,
      iova: 0x4000_0000,
      size: SZ_2M,
      leafOnly: true,
    });
    expect(intelDecodeQiDesc({ ...q, type: QI_IWD_TYPE })).toBe("sync");
  });
});

describe("over-invalidation", () => {
  it("two pages straddling an 8K boundary: calculate_psi_aligned_address widens to 16K at 0 (ratio 2)", () => {
    const { c } = setup();
    c.map(0x1000, 0x8000_1000, 2 * SZ_4K, RW);
    c.unmap(0x1000, 2 * SZ_4K);
    expect(c.overInvalidation()).toMatchObject({ bytesUnmapped: 0x2000, bytesInvalidated: 0x4000, ratio: 2 });
    expect(c.findings).toEqual([]);
  });
});

function dropLastGatherPage(d: DmarDomain): void {
  const ops = d.ops;
  const sync = ops.iotlbSync!;
  d.ops = {
    ...ops,
    iotlbSync(dom: DmarDomain, g: IotlbGather) {
      if (g.endExcl - g.start > SZ_4K) g.endExcl -= SZ_4K;
      sync.call(ops, dom, g);
    },
  };
}

interface Variant {
  name: string;
  unit?: Unit;
  feed?: IntelIotlbFeedOptions;
  patch?: (d: DmarDomain) => void;
  map: [number, number];
  unmap: [number, number];
  /** A map after the unmap (generic_pt frees tables when a block replaces them, not on unmap). */
  remap?: [number, number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
}

const ihAlways = (q: QiDesc): QiDesc => ({ ...q, ih: 1 });
const noWait = (q: QiDesc): QiDesc | null => (q.type === QI_IWD_TYPE ? null : q);

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 0x2000],
    touch: 0x2000,
    unmap: [0x1000, 0x2000],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "correct driver, a block replaces an emptied table (control)",
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "gather drops its last page",
    patch: dropLastGatherPage,
    map: [0x1000, 0x2000],
    touch: 0x2000,
    unmap: [0x1000, 0x2000],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "IH=1 (leaf only) after a table was freed",
    feed: { rewrite: ihAlways },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "map", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "IH=1 after a table was freed, first stage (PASID-based)",
    unit: "spr",
    feed: { rewrite: ihAlways },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "map", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "missing wait descriptor",
    feed: { rewrite: noWait },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { d, c } = setup(v.unit ?? "legacy", 0, v.feed ?? {});
    v.patch?.(d);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
    expect(c.findings).toEqual([]);
    c.unmap(v.unmap[0], v.unmap[1]);
    if (v.remap) c.map(v.remap[0], 0x8000_0000 + v.remap[0], v.remap[1], RW);
    const last = v.remap ?? v.unmap;
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: v.diagnosis.op, iova: last[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});
