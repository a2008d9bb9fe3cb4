/**
 * drivers/iommu/rockchip-iommu.c under the core's IOTLB model: Rockchip domains, fed by the
 * RK_MMU_ZAP_ONE_LINE writes the driver really makes (every page an unmap cleared, the first and
 * last page of a map): random map/unmap/access sequences stay coherent and clean; a dropped
 * shootdown of the last page is caught. The IOMMU has no completion barrier (each write is
 * complete when made) and frees no page table while the domain lives, so there is no "missing
 * sync" or "freed table" variant.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SPAGE_SIZE } from "./defs.js";
import {
  type RockchipIotlbFeedOptions,
  rockchipDecodeWrite,
  rockchipIotlbFeed,
  rockchipIotlbModel,
} from "./iotlb.js";
import { setup } from "./testing/harness.js";
import { RK_MMU_ZAP_ONE_LINE, type RockchipTlbWrite } from "./tlb-log.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function checker(variant: "v1" | "v2", feed: RockchipIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { d } = setup({ variant });
  const c = new IotlbChecker(d, rockchipIotlbModel(d, { capacity, walkCache }), rockchipIotlbFeed(d, feed));
  return { d, c };
}

describe("Rockchip IOMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["v1", "v1"],
    ["v2", "v2"],
  ] as const)("%s", (_name, variant) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    let unmapped = 0;
    let invalidated = 0;
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = checker(variant, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
          const o = c.overInvalidation();
          unmapped += o.bytesUnmapped;
          invalidated += o.bytesInvalidated;
        },
      ),
      { numRuns: 50 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
    // Every unmapped page is zapped once, and each map zaps its first and last page on top.
    expect(unmapped).toBeGreaterThan(0);
    expect(invalidated).toBeGreaterThan(unmapped);
  });

  it("an unmap zaps exactly the pages it cleared; a map its first and last page", () => {
    const { d, c } = checker("v1");
    const zapped = () => d.tlbLog!.writes.map((x) => x.value);
    c.map(0x40_0000, 0x8000_0000, 4 * SPAGE_SIZE, RW);
    expect(zapped()).toEqual([0x40_0000, 0x40_3000]);
    c.unmap(0x40_0000, 4 * SPAGE_SIZE);
    expect(zapped().slice(2)).toEqual([0x40_0000, 0x40_1000, 0x40_2000, 0x40_3000]);
    expect(c.model.pending).toEqual([]);
  });

  it("decoding: ZAP_ONE_LINE is one 4 KiB line; other registers invalidate nothing", () => {
    expect(rockchipDecodeWrite({ reg: RK_MMU_ZAP_ONE_LINE, value: 0x1234_5678 })).toMatchObject({
      scope: "range",
      iova: 0x1234_5000,
      size: SPAGE_SIZE,
    });
    expect(rockchipDecodeWrite({ reg: 0x08, value: 1 })).toBeNull();
  });
});

type Variant = {
  name: string;
  feed: RockchipIotlbFeedOptions;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const dropZap = (va: number) => (x: RockchipTlbWrite) =>
  x.reg === RK_MMU_ZAP_ONE_LINE && x.value === va ? null : x;

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
    name: "the last page's ZAP_ONE_LINE is dropped",
    feed: { rewrite: dropZap(0x2000) },
    map: [0x1000, 2 * SPAGE_SIZE],
    unmap: [0x1000, 2 * SPAGE_SIZE],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SPAGE_SIZE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "a 2 MiB map's zaps dropped (first and last page only: nothing was cached there)",
    feed: { rewrite: (x) => (x.value === 0x20_0000 || x.value === 0x3f_f000 ? null : x) },
    map: [0x20_0000, 0x20_0000],
    unmap: [0x20_1000, SPAGE_SIZE],
    touch: 0x20_0000,
    // The map-time zaps guard against lines cached while the PTEs were invalid; the IOTLB
    // model caches successful translations only, so dropping them shows nothing.
    diagnosis: null,
    thenAccess: null,
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = checker("v1", v.feed);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + Math.min(v.map[1], 4 * SPAGE_SIZE); va += SPAGE_SIZE)
      c.access(va);
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
