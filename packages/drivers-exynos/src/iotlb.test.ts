/**
 * drivers/iommu/exynos-iommu.c under the core's IOTLB model: SysMMU domains, fed by the TLB
 * maintenance writes the driver really makes (`flush_entry` per unmap, v2.x up to 64 of them, the
 * FLPD flush when a level-2 table replaces the zero link): random map/unmap/access sequences stay
 * coherent and clean; broken variants (a dropped `flush_entry` for the last page, a `flush_entry`
 * that leaves the FLPD cache before a section replaces the emptied level-2 table) are caught with
 * the right diagnosis. The SysMMU has no completion barrier (each write is complete when made), so
 * there is no "missing sync" variant.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SECT_SIZE, SPAGE_SIZE } from "./defs.js";
import {
  type ExynosIotlbFeedOptions,
  exynosDecodeWrite,
  exynosIotlbFeed,
  exynosIotlbModel,
} from "./iotlb.js";
import { setup } from "./testing/harness.js";
import type { ExynosTlbWrite } from "./tlb-log.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function checker(version: string, feed: ExynosIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { d } = setup({ version });
  const c = new IotlbChecker(d, exynosIotlbModel(d, { capacity, walkCache }), exynosIotlbFeed(d, feed));
  return { d, c };
}

describe("SysMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["v5.0 (flush_entry per unmap, FLUSH_ALL for the FLPD cache)", "5.0", true],
    ["v3.3 (flush_entry for the FLPD cache too)", "3.3", true],
    ["v2.0 (up to 64 flush_entry writes per unmap, no FLPD cache)", "2.0", false],
  ] as const)("%s", (_name, version, flpd) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    let unmapped = 0;
    let invalidated = 0;
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = checker(version, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
          const o = c.overInvalidation();
          unmapped += o.bytesUnmapped;
          invalidated += o.bytesInvalidated;
        },
      ),
      { numRuns: 50 },
    );
    // Not vacuous: hits, evictions and invalidations happened, and walk-cache use where the
    // SysMMU has an FLPD cache.
    expect(seen.hits).toBeGreaterThan(0);
    expect(seen.evictions).toBeGreaterThan(0);
    expect(seen.invalidations).toBeGreaterThan(0);
    if (flpd) expect(seen.walkCacheHits).toBeGreaterThan(0);
    else expect(seen.walkCacheHits).toBe(0);
    // One flush_entry (4 KiB) per leaf: under a byte for byte count for 64 KiB pages and
    // sections, which one VPN invalidation drops whole (v2.x: 64 of them for a section).
    expect(unmapped).toBeGreaterThan(0);
    expect(invalidated / unmapped).toBeLessThanOrEqual(1);
  });

  it("every write is complete when made: nothing is left pending after a drain", () => {
    const { c } = checker("5.0");
    c.map(0x10_0000, 0x8000_0000, 2 * SPAGE_SIZE, RW);
    c.access(0x10_0000);
    c.unmap(0x10_0000, 2 * SPAGE_SIZE);
    expect(c.model.pending).toEqual([]);
    expect(c.model.stats.syncs).toBe(c.model.stats.invalidations);
    expect(c.findings).toEqual([]);
  });
});

describe("register-write decoding", () => {
  const w = (reg: ExynosTlbWrite["reg"], value: number): ExynosTlbWrite => ({ reg, value });
  it("flush_entry: the VPN of (iova & SPAGE_MASK) | 1, TLB and FLPD cache (not leaf-only)", () => {
    expect(exynosDecodeWrite(w("flush_entry", 0x1234_5001), { start: 0, end: -1 })).toMatchObject({
      scope: "range",
      iova: 0x1234_5000,
      size: SPAGE_SIZE,
      leafOnly: false,
    });
  });
  it("flush_start / flush_end then flush_range: the pages from start to end inclusive", () => {
    const range = { start: 0, end: -1 };
    expect(exynosDecodeWrite(w("flush_start", 0x20_0000), range)).toBeNull();
    expect(exynosDecodeWrite(w("flush_end", 0x20_f000), range)).toBeNull();
    expect(exynosDecodeWrite(w("flush_range", 1), range)).toMatchObject({
      scope: "range",
      iova: 0x20_0000,
      size: 0x1_0000,
    });
    expect(exynosDecodeWrite(w("flush_all", 1), range)).toMatchObject({ scope: "all" });
  });
  it("v2.x: a section's unmap writes 64 flush_entry, one per page from its start", () => {
    const { d, c } = checker("2.0");
    c.map(0x40_0000, 0x8000_0000, SECT_SIZE, RW);
    c.unmap(0x40_0000, SECT_SIZE);
    expect(d.tlbLog!.writes.map((x) => x.value)).toEqual(
      Array.from({ length: 64 }, (_, i) => (0x40_0000 + i * SPAGE_SIZE) | 1),
    );
  });
});

type Variant = {
  name: string;
  version: string;
  feed: ExynosIotlbFeedOptions;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  /** A map after the unmap (the operation the finding is reported on, when given). */
  remap?: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const dropEntry = (va: number) => (x: ExynosTlbWrite) =>
  x.reg === "flush_entry" && (x.value & ~0xfff) === va ? null : x;

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control): unmap, then a section replaces the emptied level-2 table",
    version: "5.0",
    feed: {},
    map: [0x10_0000, 2 * SPAGE_SIZE],
    unmap: [0x10_0000, 2 * SPAGE_SIZE],
    remap: [0x10_0000, SECT_SIZE],
    touch: 0x10_1000,
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the last page's flush_entry is dropped",
    version: "5.0",
    feed: { rewrite: dropEntry(0x10_1000) },
    map: [0x10_0000, 2 * SPAGE_SIZE],
    unmap: [0x10_0000, 2 * SPAGE_SIZE],
    touch: 0x10_1000,
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x10_1000, size: SPAGE_SIZE },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x10_1000 },
  },
  {
    name: "v2.x: only the last of a 64 KiB page's 16 flush_entry writes kept (model limit: the IOTLB model is fully associative, so one VPN in the page drops it)",
    version: "2.0",
    feed: { rewrite: (x) => (x.reg === "flush_entry" && (x.value & ~0xfff) !== 0x10_f000 ? null : x) },
    map: [0x10_0000, 0x1_0000],
    unmap: [0x10_0000, 0x1_0000],
    touch: 0x10_0000,
    // One VPN inside the 64 KiB entry still drops it whole: no finding.
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "flush_entry leaves the FLPD cache, then a section replaces the emptied level-2 table",
    version: "5.0",
    feed: { rewriteInvalidation: (inv) => ({ ...inv, leafOnly: true }) },
    map: [0x10_0000, SPAGE_SIZE],
    unmap: [0x10_0000, SPAGE_SIZE],
    remap: [0x10_0000, SECT_SIZE],
    touch: 0x10_0000,
    diagnosis: { kind: "sync-stale", op: "map", cache: "walk", iova: 0x10_0000, size: SECT_SIZE },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x10_0000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = checker(v.version, v.feed);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SPAGE_SIZE) c.access(va);
    expect(c.findings).toEqual([]);
    c.unmap(v.unmap[0], v.unmap[1]);
    if (v.remap) c.map(v.remap[0], 0x9000_0000, v.remap[1], RW);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: v.diagnosis.op, iova: v.map[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});
