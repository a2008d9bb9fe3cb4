/**
 * drivers/vfio/vfio_iommu_type1.c under the core's IOTLB checker (packages/core/docs/iotlb-model.md):
 * type1's map path, its unmap path (iommu_unmap_fast runs into one gather, iommu_iotlb_sync
 * every VFIO_IOMMU_TLB_SYNC_MAX regions and at the end, iommu_unmap on the other domains) in
 * the three read-back modes, on arm-smmu-v3 and VT-d domains fed by their own invalidation
 * commands, with device accesses in between: nothing stale is ever used or left behind. The
 * broken variant — type1's iommu_iotlb_sync after iommu_unmap_fast not reaching the driver —
 * is caught as a stale entry left by UNMAP_DMA, then a stale device access.
 */
import { type IommuDomain, PhysLength, SZ_4K } from "@iommu/core";
import {
  ArmSmmuV3,
  type ArmSmmuV3Options,
  armSmmuV3IotlbFeed,
  armSmmuV3IotlbModel,
} from "@iommu/drivers-arm-smmu-v3";
import {
  type DmarDomain,
  IntelIommu,
  intelIotlbFeed,
  intelIotlbModel,
  VTD_SPR_CAP,
  VTD_SPR_ECAP,
} from "@iommu/drivers-intel";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { UnmapMode } from "./context.js";
import { UserMm } from "./mm.js";
import { type CheckedDomain, type IotlbCheckedFaults, iotlbCheckedDriver } from "./testing/iotlb.js";
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_UNMAP_FLAG_ALL } from "./uapi.js";
import { VFIO_IOMMU_TLB_SYNC_MAX } from "./unmap-unpin.js";
import { VfioIommu } from "./vfio-iommu.js";

const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
const V = 0x7f00_0000_0000;
const MiB2 = 0x20_0000;
/** The IOVA window: two 4 MiB slots. */
const BASE = 0x4000_0000;
const SLOT = 0x40_0000;

/** User memory: scattered 4K pages, THP, hugetlb 2M (each 8 MiB). */
const REGIONS = [
  { vaddr: V, size: 4 * MiB2, kind: "scattered" },
  { vaddr: V + 0x100_0000, size: 4 * MiB2, kind: "thp" },
  { vaddr: V + 0x200_0000, size: 4 * MiB2, kind: "hugetlb2m" },
] as const;

interface Options {
  mode: UnmapMode;
  /** Also attach a group behind a VT-d unit (a second domain: iommu_unmap on it). */
  intel?: boolean;
  smmu?: ArmSmmuV3Options;
  capacity?: number;
  faults?: IotlbCheckedFaults;
}

function setup(o: Options) {
  const mm = new UserMm({ rlimitMemlock: 1n << 40n });
  for (const [i, r] of REGIONS.entries())
    mm.memory.addRegion({ vaddr: r.vaddr, size: r.size, kind: r.kind, seed: 7 + i });
  const c = new VfioIommu({ mm, unmapMode: o.mode });
  const faults = o.faults ?? {};
  const opts = { capacity: o.capacity ?? 64, walkCache: 8 };
  const smmu = iotlbCheckedDriver(
    new ArmSmmuV3(o.smmu ?? {}),
    (d) => ({ model: armSmmuV3IotlbModel(d, opts), feed: armSmmuV3IotlbFeed(d) }),
    faults,
  );
  expect(c.attachGroup(1, { driver: smmu.driver })).toBe(0);
  const checked: CheckedDomain[] = [...smmu.domains];
  if (o.intel) {
    const unit = new IntelIommu({ cap: VTD_SPR_CAP, ecap: VTD_SPR_ECAP });
    const intel = iotlbCheckedDriver(
      unit,
      (d: DmarDomain) => {
        expect(unit.attachDev(d)).toBe(0);
        return { model: intelIotlbModel(d, opts), feed: intelIotlbFeed(d) };
      },
      faults,
    );
    expect(c.attachGroup(2, { driver: intel.driver })).toBe(0);
    checked.push(...intel.domains);
  }
  // Every checked domain is one of the container's.
  expect(new Set(c.domains())).toEqual(new Set(checked.map((x) => x.domain)));
  return { c, checked };
}

/** The end of an ioctl: nothing stale may remain cached in any domain's IOTLB. */
function endOfIoctl(checked: readonly CheckedDomain[], op: string): void {
  for (const cd of checked) cd.checker.observeAll(op);
}

/** A device access through `cd`'s IOTLB must agree with a walk of its table now. */
function access(cd: CheckedDomain, iova: number, write: boolean, truth: PhysLength): void {
  const d: IommuDomain = cd.domain;
  const r = cd.checker.access(iova, write ? "write" : "read");
  d.ops!.iovaToPhysLength!(d, iova, truth);
  expect(r.ok).toBe(truth.mapped);
  if (r.ok) expect(r.phys).toBe(truth.physNumber);
}

type Op =
  | { t: "map"; region: number; offPages: number; pages: number; slot: number; page: number }
  | { t: "unmap"; slot: number; page: number; pages: number }
  | { t: "unmapAll" }
  | { t: "access"; dom: number; slot: number; page: number; n: number; write: boolean };

/** Pages of a slot, clustered at its two 2 MiB blocks' starts so maps, unmaps and accesses meet. */
const pageArb = fc.tuple(fc.nat(1), fc.nat(15)).map(([b, o]) => b * 512 + o);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("map" as const),
      region: fc.nat(REGIONS.length - 1),
      offPages: fc.oneof(fc.constant(0), fc.constant(512), fc.nat(1000)),
      pages: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(512, 1024, 515)),
      slot: fc.nat(1),
      page: pageArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("unmap" as const),
      slot: fc.nat(1),
      page: pageArb,
      pages: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(512, 1024)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "unmapAll" as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("access" as const),
      dom: fc.nat(1),
      slot: fc.nat(1),
      page: pageArb,
      n: fc.integer({ min: 1, max: 8 }),
      write: fc.boolean(),
    }),
  },
);

function run(c: VfioIommu, checked: readonly CheckedDomain[], ops: readonly Op[]): void {
  const truth = new PhysLength();
  for (const o of ops) {
    if (o.t === "access") {
      // A burst: n pages, each touched twice (the second touch may hit).
      const cd = checked[o.dom % checked.length]!;
      for (let i = 0; i < 2 * o.n; i++)
        access(cd, BASE + o.slot * SLOT + (o.page + (i >> 1)) * SZ_4K + 0x10, o.write, truth);
      continue;
    }
    if (o.t === "map") {
      const r = REGIONS[o.region]!;
      const pages = Math.min(o.pages, r.size / SZ_4K - o.offPages);
      if (pages <= 0) continue;
      c.mapDma({
        flags: RW,
        vaddr: r.vaddr + o.offPages * SZ_4K,
        iova: BASE + o.slot * SLOT + o.page * SZ_4K,
        size: pages * SZ_4K,
      });
      endOfIoctl(checked, "map_dma");
    } else if (o.t === "unmap") {
      c.unmapDma({ flags: 0, iova: BASE + o.slot * SLOT + o.page * SZ_4K, size: o.pages * SZ_4K });
      endOfIoctl(checked, "unmap_dma");
    } else {
      c.unmapDma({ flags: VFIO_DMA_UNMAP_FLAG_ALL, iova: 0, size: 0 });
      endOfIoctl(checked, "unmap_dma");
    }
  }
}

describe("type1 under the IOTLB checker: random map/unmap/access sequences run clean", () => {
  it.each([
    ["legacy", "smmu-v3", false, {}],
    ["length", "smmu-v3 (range TLBI)", false, { rangeInv: true }],
    ["runs", "smmu-v3", false, {}],
    ["legacy", "smmu-v3 + VT-d", true, {}],
    ["length", "smmu-v3 + VT-d", true, { rangeInv: true }],
    ["runs", "smmu-v3 + VT-d", true, {}],
  ] as const)("unmap mode %s, %s", (mode, _name, intel, smmu) => {
    const seen = { hits: 0, walks: 0, evictions: 0, entriesInvalidated: 0, syncs: 0 };
    let unmapped = 0;
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 10, maxLength: 40 }),
        fc.integer({ min: 4, max: 64 }),
        (ops, capacity) => {
          const { c, checked } = setup({ mode, intel, smmu, capacity });
          run(c, checked, ops);
          for (const cd of checked) {
            expect(cd.checker.findings).toEqual([]);
            for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += cd.checker.model.stats[k];
            unmapped += cd.checker.bytesUnmapped;
          }
        },
      ),
      { numRuns: 40 },
    );
    // Not vacuous: the device hit cached entries, and unmaps invalidated entries it had cached.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
    expect(unmapped).toBeGreaterThan(0);
  });
});

/** 1100 scattered pages mapped, every one accessed, then one UNMAP_DMA: 1100 runs, three syncs. */
function bigScatteredUnmap(mode: UnmapMode, faults: IotlbCheckedFaults = {}) {
  const { c, checked } = setup({ mode, capacity: 2048, faults });
  const cd = checked[0]!;
  const pages = 1100;
  expect(c.mapDma({ flags: RW, vaddr: V, iova: BASE, size: pages * SZ_4K })).toBe(0);
  endOfIoctl(checked, "map_dma");
  const truth = new PhysLength();
  for (let p = 0; p < pages; p++) access(cd, BASE + p * SZ_4K, p % 2 === 0, truth);
  expect(cd.checker.model.entries.length).toBe(pages);
  const syncs = c.vfioCounters.iotlbSync;
  const fastUnmaps = c.vfioCounters.unmapFast;
  expect(c.unmapDma({ flags: 0, iova: BASE, size: pages * SZ_4K })).toBe(0);
  endOfIoctl(checked, "unmap_dma");
  // Scattered memory: one run (one iommu_unmap_fast) per page, a sync per 512 regions and one at the end.
  expect(c.vfioCounters.unmapFast - fastUnmaps).toBe(pages);
  expect(c.vfioCounters.iotlbSync - syncs).toBe(Math.ceil(pages / VFIO_IOMMU_TLB_SYNC_MAX));
  return { c, cd, pages };
}

describe("type1's unmap_fast + gather + sync path", () => {
  it.each(["legacy", "length", "runs"] as const)(
    "%s: every cached page is invalidated by the syncs",
    (mode) => {
      const { cd, pages } = bigScatteredUnmap(mode);
      expect(cd.checker.findings).toEqual([]);
      expect(cd.checker.model.entries.length).toBe(0);
      expect(cd.checker.overInvalidation().bytesUnmapped).toBe(pages * SZ_4K);
      // A device access after the unmap faults (walks the now empty table).
      const r = cd.checker.access(BASE, "read");
      expect(r.ok).toBe(false);
      expect(cd.checker.findings).toEqual([]);
    },
  );
});

describe("broken variant: type1's iommu_iotlb_sync after iommu_unmap_fast skipped", () => {
  it.each(["legacy", "length", "runs"] as const)("%s: sync-stale on unmap_dma, then stale-access", (mode) => {
    const { cd, pages } = bigScatteredUnmap(mode, { skipSync: true });
    const f = cd.checker.findings;
    // Every page the device had cached is reported once, as left by UNMAP_DMA with no invalidation.
    expect(f.length).toBe(pages);
    for (const x of f) {
      expect(x.kind).toBe("sync-stale");
      expect(x.op).toBe("unmap_dma");
      expect(x.cache).toBe("iotlb");
      expect(x.size).toBe(SZ_4K);
      expect(x.cause?.op).toBe("unmap_pages");
    }
    expect(new Set(f.map((x) => x.iova)).size).toBe(pages);
    expect(Math.min(...f.map((x) => x.iova))).toBe(BASE);
    // The device then reaches the freed page through the stale entry.
    const r = cd.checker.access(BASE + 5 * SZ_4K + 8, "write");
    expect(r.hit).toBe(true);
    const last = cd.checker.findings.at(-1)!;
    expect(last.kind).toBe("stale-access");
    expect(last.iova).toBe(BASE + 5 * SZ_4K + 8);
  });

  it("the same sequence with the sync in place finds nothing (the variant is what is caught)", () => {
    const { cd } = bigScatteredUnmap("length");
    cd.checker.access(BASE + 5 * SZ_4K + 8, "write");
    expect(cd.checker.findings).toEqual([]);
  });
});

describe("a sync from inside unmap_pages (found by the random sequences above)", () => {
  // SMMUv3 + VT-d, a 515-page scattered vfio_dma at 0x40200000 whose last 3 pages cross into
  // 0x40400000, then UNMAP_DMA(all). The SMMUv3 domain is unmapped by iommu_unmap: a 2 MiB
  // unmap_pages that frees the 4K table (flush walk), then unmap_pages(0x40400000, 4K, 3), whose
  // first add_page meets a gather of another page size and syncs it from inside the call. That
  // sync covers the earlier range only; the new pages are covered by the final sync. The checked
  // driver once checked at that inner sync and reported the page being unmapped as sync-stale.
  it("is not a finding: the page is covered by the sync that follows", () => {
    for (const mode of ["legacy", "length", "runs"] as const) {
      const { c, checked } = setup({ mode, intel: true, capacity: 4 });
      run(c, checked, [
        { t: "map", region: 0, offPages: 0, pages: 515, slot: 0, page: 512 },
        { t: "access", dom: 0, slot: 1, page: 0, n: 1, write: false },
        { t: "unmapAll" },
      ]);
      for (const cd of checked) expect(cd.checker.findings).toEqual([]);
      // The SMMUv3 IOTLB really dropped the entry.
      expect(checked[0]!.checker.model.entries).toEqual([]);
    }
  });
});
