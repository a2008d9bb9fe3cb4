/**
 * The core's IOTLB model on IPMMU domains, fed by the IMCTR flushes the driver really makes
 * (whole context, completed by ipmmu_tlb_sync's poll): random map/unmap/access sequences run
 * clean; broken variants (the unmap's flush dropped, the completion poll dropped) are caught
 * with the right diagnosis; the kernel's flush after context release is shown for what it is.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding, SZ_2M, SZ_4K } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IpmmuVmsaDomain } from "./domain.js";
import { type IpmmuIotlbFeedOptions, ipmmuIotlbFeed, ipmmuIotlbModel, ipmmuIotlbTag } from "./iotlb.js";
import { type IpmmuTlbEvent, IpmmuVmsa, type IpmmuVmsaOptions } from "./ipmmu-vmsa.js";
import { IMCTR, IMCTR_FLUSH } from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(hw: IpmmuVmsaOptions = {}, feed: IpmmuIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const mmu = new IpmmuVmsa({ soc: "r8a7795", tlbLogCapacity: 256, ...hw });
  const d = mmu.device().domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`alloc: ${d}`);
  const model = ipmmuIotlbModel(d, { capacity, walkCache });
  return { mmu, d, c: new IotlbChecker(d, model, ipmmuIotlbFeed(d, feed)) };
}

describe("IPMMU under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["Gen3 r8a7795 (cache IPMMU + IPMMU-MM root)", { soc: "r8a7795" }],
    ["Gen2 r8a7790 (its own root)", { soc: "r8a7790" }],
    ["Gen4 r8a779f0", { soc: "r8a779f0" }],
  ] as const)("%s", (_name, hw) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(hw, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 50 },
    );
    // Not vacuous: hits, walk-cache use, evictions and invalidations all happened.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("the event log and the feed", () => {
  it("an unmap is one FLUSH of the domain's context and its completion; nothing per page", () => {
    const { mmu, d } = setup();
    const root = mmu.root;
    const before = root.tlbEvents;
    const c = new IotlbChecker(d, ipmmuIotlbModel(d), ipmmuIotlbFeed(d));
    c.map(0x10_0000, 0x8010_0000, 4 * SZ_4K, RW);
    expect(root.tlbEvents).toBe(before); // no iotlb_sync_map
    c.unmap(0x10_0000, 4 * SZ_4K);
    const ctx = ipmmuIotlbTag(d);
    expect(root.tlbLog.slice(-2)).toEqual([
      { kind: "flush", ctx, value: root.peekCtx(ctx, IMCTR) | IMCTR_FLUSH },
      { kind: "done", ctx, value: 0 },
    ]);
    expect(c.model.stats.fullInvalidations).toBeGreaterThan(0);
  });

  it("the feed refuses an IPMMU without a log", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.device().domainAllocPagingFlags(0) as IpmmuVmsaDomain;
    expect(() => ipmmuIotlbFeed(d)).toThrow(/tlbLogCapacity/);
  });
});

type Variant = {
  name: string;
  feed: (arm: () => boolean) => IpmmuIotlbFeedOptions;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

/** Drop events of `kind` once armed (during the unmap). */
const dropWhenArmed =
  (kind: IpmmuTlbEvent["kind"]) =>
  (armed: () => boolean): IpmmuIotlbFeedOptions => ({
    rewrite: (e) => (armed() && e.kind === kind ? null : e),
  });

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    feed: () => ({}),
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
  {
    // The IPMMU has no ranged flush: "a flush one page short" cannot be expressed, the whole
    // context flush of the unmap is what can go missing.
    name: "the unmap's IMCTR FLUSH dropped",
    feed: dropWhenArmed("flush"),
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "missing completion: ipmmu_tlb_sync's poll dropped",
    feed: dropWhenArmed("done"),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "a freed table's tlb_flush_walk and the sync's flush both dropped",
    feed: dropWhenArmed("flush"),
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x20_0000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x20_0000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    let armed = false;
    const { c } = setup(
      {},
      v.feed(() => armed),
    );
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
    expect(c.findings).toEqual([]);
    armed = true;
    c.unmap(v.unmap[0], v.unmap[1]);
    armed = false;
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings.length).toBeGreaterThanOrEqual(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova: v.unmap[0] } });
    }
    const n = c.findings.length;
    c.access(v.touch);
    const after = c.findings.slice(n);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});

describe("known kernel quirk: ipmmu_domain_free flushes the context it just released", () => {
  it("nothing stale (the release's own FLUSH already emptied it): one redundant whole-context flush, on a free context", () => {
    const { mmu, d, c } = setup();
    const root = mmu.root;
    const ctx = ipmmuIotlbTag(d);
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    const full = c.model.stats.fullInvalidations;
    const before = root.tlbEvents;
    d.ops!.free!(d);
    c.feed!.drain(c.model);
    // destroy_context: FLUSH (IMCTR = FLUSH, MMUEN off) + poll; then free_io_pgtable_ops →
    // tlb_flush_all → ipmmu_tlb_invalidate on the released context: FLUSH + poll again.
    const events = root.tlbLog.slice(root.tlbLog.length - (root.tlbEvents - before));
    expect(events).toEqual([
      { kind: "flush", ctx, value: IMCTR_FLUSH },
      { kind: "done", ctx, value: 0 },
      { kind: "flush", ctx, value: IMCTR_FLUSH },
      { kind: "done", ctx, value: 0 },
    ]);
    expect(root.contexts[ctx]).toBeNull(); // released before the second flush
    expect(c.model.stats.fullInvalidations - full).toBe(2);
    expect(c.model.entries).toHaveLength(0);
    expect(c.findings).toEqual([]);
  });
});
