/**
 * The core's IOTLB model on MSM domains, fed by the TLBIVA / CTX_TLBIALL writes the driver
 * really makes (one TLBIVA per 4 KiB of every unmapped leaf on the spot — tlb_add_page —, per
 * 4 KiB of a freed L2 table's span, per 4 KiB of every new mapping in iotlb_sync_map):
 * random sequences run clean; broken variants (the last page's TLBIVA dropped, the end of the
 * sequence dropped, a TLBIVA with another ASID) are caught with the right diagnosis; the
 * `int temp_size` loop is shown exact at 2 GiB.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding, SZ_1M, SZ_4K } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type MsmIotlbFeedOptions,
  type MsmTlbWrite,
  msmIotlbFeed,
  msmIotlbModel,
  msmIotlbTag,
} from "./iotlb.js";
import type { MsmIommuOptions } from "./msm-iommu.js";
import { setup as harness } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(hw: MsmIommuOptions = {}, feed: MsmIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { iommu, d } = harness({ tlbLogCapacity: 4096, ...hw });
  const model = msmIotlbModel(d, { capacity, walkCache });
  return { iommu, d, c: new IotlbChecker(d, model, msmIotlbFeed(d, feed)) };
}

describe("MSM under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["context 0 (ASID 0)", {}],
    ["4 context banks, lengthMode checked (V2P lookups also CTX_TLBIALL)", { lengthMode: "checked" }],
  ] as const)("%s", (_name, hw) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(hw as MsmIommuOptions, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 50 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("what the feed sees", () => {
  it("map: a TLBIVA per 4 KiB (iotlb_sync_map); unmap: one TLBIVA per leaf on the spot, each sequence ended", () => {
    const { iommu, d, c } = setup();
    const asid = msmIotlbTag(d);
    const from = iommu.tlbEvents;
    c.map(0x10_0000, 0x8010_0000, 3 * SZ_4K, RW);
    c.unmap(0x10_0000, 3 * SZ_4K);
    const ev = iommu.tlbLog.slice(iommu.tlbLog.length - (iommu.tlbEvents - from));
    const tlbiva = (va: number, count: number) => ({
      kind: "TLBIVA",
      ctx: 0,
      value: va | asid,
      count,
      granule: SZ_4K,
    });
    const done = { kind: "done", ctx: -1, value: 0, count: 0, granule: 0 };
    expect(ev).toEqual([
      tlbiva(0x10_0000, 3),
      done,
      tlbiva(0x10_0000, 1),
      done,
      tlbiva(0x10_1000, 1),
      done,
      tlbiva(0x10_2000, 1),
      done,
    ]);
    // Over-invalidation: every byte named twice (at map and at unmap).
    expect(c.overInvalidation()).toMatchObject({
      bytesUnmapped: 3 * SZ_4K,
      bytesInvalidated: 6 * SZ_4K,
      ratio: 2,
    });
    expect(c.findings).toEqual([]);
  });

  it("a 1M section is dropped by the one TLBIVA of its first page (fewer bytes named than unmapped)", () => {
    const { c } = setup();
    c.map(SZ_1M, 0x8000_0000, SZ_1M, RW);
    c.access(SZ_1M + 0x8_0000);
    c.unmap(SZ_1M, SZ_1M);
    expect(c.findings).toEqual([]);
    expect(c.model.entries).toHaveLength(0);
  });
});

type Variant = {
  name: string;
  rewrite: ((w: MsmTlbWrite) => MsmTlbWrite | null) | null;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    rewrite: null,
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the last page's TLBIVA is dropped",
    rewrite: (w) => (w.kind === "TLBIVA" && (w.value & 0xffff_f000) === 0x2000 ? null : w),
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "missing completion: the sequence's end (__disable_clocks) dropped",
    rewrite: (w) => (w.kind === "done" ? null : w),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "TLBIVA with another context's ASID (CONTEXTIDR misread)",
    rewrite: (w) => (w.kind === "TLBIVA" ? { ...w, value: (w.value & 0xffff_f000) | 7 } : w),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    let armed = false;
    const rewrite = v.rewrite;
    const { c } = setup({}, rewrite ? { rewrite: (w) => (armed ? rewrite(w) : w) } : {});
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
    expect(c.findings).toEqual([]);
    armed = true;
    c.unmap(v.unmap[0], v.unmap[1]);
    armed = false;
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova: v.unmap[0] } });
    }
    const n = c.findings.length;
    c.access(v.touch);
    const after = c.findings.slice(n);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});

describe("known kernel quirk: `int temp_size` in __flush_iotlb_range", () => {
  it("a 2 GiB + 4 KiB iotlb_sync_map (negative as an int) still issues size/granule TLBIVAs: nothing is missed", () => {
    // The unmap ends one sequence per 1M section of each supersection: a larger log.
    const { iommu, d, c } = setup({ tlbLogCapacity: 16384 });
    const size = 2 ** 31 + SZ_4K;
    const ctx = iommu.context(iommu.master.num)!;
    const before = ctx.tlbiva;
    c.map(0, 0, size, RW);
    expect(ctx.tlbiva - before).toBe(size / SZ_4K);
    expect(d.counters.bugs).toBe(0);
    c.access(size - SZ_4K);
    c.unmap(0, size);
    expect(c.findings).toEqual([]);
    // Every mapped byte was named at map time, every unmapped leaf's first page at unmap.
    expect(c.overInvalidation().bytesInvalidated).toBeGreaterThanOrEqual(size);
  });
});
