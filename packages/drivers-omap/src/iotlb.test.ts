/**
 * drivers/iommu/omap-iommu.c: the core's IOTLB model on an OMAP MMU, fed by the flushes the
 * driver really makes (`flush_iotlb_page()` before every store and after every clear,
 * `flush_iotlb_all()` at attach): strict domains run clean under random sequences; a dropped
 * page flush is caught; the kernel's overwrite of an L2 table by a section (one page flushed,
 * the other cached pages of the MiB left) is flagged as the known quirk it is.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbChecker,
  type IotlbFinding,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type OmapIotlbFeedOptions, omapDecodeFlush, omapIotlbFeed, omapIotlbModel } from "./iotlb.js";
import { makeOmap } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(o: { strict?: boolean; mmus?: 1 | 2 } = {}, feed: OmapIotlbFeedOptions = {}, capacity = 64) {
  const { d } = makeOmap({
    strict: o.strict ?? false,
    mmus: o.mmus ?? 1,
    soc: o.mmus === 2 ? "dra7-dsp" : "omap4",
  });
  return { d, c: new IotlbChecker(d, omapIotlbModel(d, { capacity }), omapIotlbFeed(d, feed)) };
}

describe("OMAP IOMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["strict (no overwrite), one MMU", { strict: true }],
    ["strict, two MMUs (dra7-dsp), the first one's TLB", { strict: true, mmus: 2 as const }],
  ])("%s", (_name, o) => {
    const seen = { hits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(o, {}, capacity);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 40 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });

  it("kernel mode: unmapping inside a 16M supersection clears it all and the flush of that IOVA drops its entry", () => {
    const { c } = setup();
    c.map(0x100_0000, 0x8100_0000, SZ_16M, RW);
    c.access(0x100_0000);
    c.access(0x1ab_c000);
    expect(c.model.entries).toHaveLength(1); // one 16 MiB entry
    expect(c.unmap(0x180_0000, SZ_4K)).toBe(SZ_16M);
    c.access(0x100_0000);
    expect(c.findings).toEqual([]);
  });

  it("a page flush names the 4 KiB page of da; flush_iotlb_all everything", () => {
    expect(omapDecodeFlush(0x12_3456)).toMatchObject({ scope: "range", iova: 0x12_3000, size: SZ_4K });
    expect(omapDecodeFlush(-1)).toMatchObject({ scope: "all" });
  });
});

describe("known kernel quirk: an overwrite flushes only the TLB entry covering the new page's IOVA", () => {
  it("kernel mode: a 1M section over an L2 table of cached 4K pages → sync-stale on map for the others", () => {
    const { d, c } = setup();
    c.map(0x10_0000, 0x8000_0000, 2 * SZ_4K, RW);
    c.access(0x10_0000);
    c.access(0x10_1000);
    c.map(0x10_0000, 0x9000_0000, SZ_1M, RW); // no overlap check: the L2 table is orphaned
    expect(d.quirks["orphaned-l2"]).toBe(1);
    expect(c.findings).toEqual([
      expect.objectContaining({
        kind: "sync-stale",
        op: "map",
        cache: "iotlb",
        iova: 0x10_1000,
        size: SZ_4K,
      }),
    ]);
    expect(c.access(0x10_1000).phys).toBe(0x8000_1000); // the device still reaches the old page
    expect(c.findings[1]).toMatchObject({ kind: "stale-access", iova: 0x10_1000 });
  });

  it("strict: the same map is -EEXIST and nothing goes stale", () => {
    const { c } = setup({ strict: true });
    c.map(0x10_0000, 0x8000_0000, 2 * SZ_4K, RW);
    c.access(0x10_1000);
    expect(() => c.map(0x10_0000, 0x9000_0000, SZ_1M, RW)).toThrow();
    c.access(0x10_1000);
    expect(c.findings).toEqual([]);
  });
});

type Variant = {
  name: string;
  feed?: OmapIotlbFeedOptions;
  map: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control), 4K pages",
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "correct driver (control), a 64K large page",
    map: [0x1_0000, SZ_64K],
    touch: 0x1_f000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the last page's flush_iotlb_page is dropped",
    feed: { rewrite: (da) => (da === 0x2000 ? null : da) },
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "a 64K page's flush names an IOVA past it (the entry covering the unmapped IOVA stays)",
    feed: { rewrite: (da) => (da === 0x1_0000 ? 0x2_0000 : da) },
    map: [0x1_0000, SZ_64K],
    touch: 0x1_8000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1_0000, size: SZ_64K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1_8000 },
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

describe("over-invalidation", () => {
  it("one 4 KiB-named flush per leaf cleared: 1/16 of a 64K page, 1/4096 of a supersection", () => {
    const { c } = setup({ strict: true });
    c.map(0x100_0000, 0x8100_0000, SZ_16M, RW);
    c.map(0x1_0000, 0x8001_0000, SZ_64K, RW);
    const before = c.model.stats.bytesInvalidated;
    c.unmap(0x100_0000, SZ_16M);
    c.unmap(0x1_0000, SZ_64K);
    expect(c.findings).toEqual([]);
    expect(c.model.stats.bytesInvalidated - before).toBe(2 * SZ_4K);
  });
});
