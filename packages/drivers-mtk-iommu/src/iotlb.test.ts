/**
 * The core's IOTLB model on M4U domains, fed by the range flushes (START_A / END_A /
 * F_MMU_INV_RANGE, then the CPE_DONE poll) and full flushes the driver really makes: random
 * sequences run clean; broken variants (a range one page short, the CPE_DONE poll dropped) are
 * caught with the right diagnosis; a CPE_DONE timeout's full-flush fallback is clean; and the
 * shared-table quirk (flush_iotlb_all reaches only the domain's own M4U) is caught.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbChecker,
  type IotlbFinding,
  IotlbGather,
  IotlbModel,
  SZ_4K,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type MtkIommuIotlbFeedOptions,
  mtkIommuIotlbFeed,
  mtkIommuIotlbModel,
  mtkIommuTlbAddrDecode,
} from "./iotlb.js";
import { MtkIommu, type MtkIommuOptions, type MtkIommuTlbWrite, MtkM4uList } from "./mtk-iommu.js";
import { setup as harness } from "./testing/harness.js";
import { REG_MMU_CPE_DONE, REG_MMU_INVLD_END_A } from "./tlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(hw: MtkIommuOptions = {}, feed: MtkIommuIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { m4u, d } = harness({ tlbLogCapacity: 256, ...hw });
  const model = mtkIommuIotlbModel(d, { capacity, walkCache });
  return { m4u, d, c: new IotlbChecker(d, model, mtkIommuIotlbFeed(d, feed)) };
}

describe("M4U under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["mt8192", { soc: "mt8192" }],
    ["mt8173, 4GB mode", { soc: "mt8173", enable4GB: true }],
    ["mt8195-infra (PM_CLK_AO)", { soc: "mt8195-infra" }],
  ] as const)("%s", (_name, hw) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(hw as MtkIommuOptions, {}, capacity, 8);
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
  it("an unmap: one range flush of exactly the gathered range (END_A = its last frame), then CPE_DONE", () => {
    const { m4u, c } = setup();
    c.map(0x10_0000, 0x8010_0000, 3 * SZ_4K, RW);
    const from = m4u.tlbWrites;
    c.unmap(0x10_0000, 3 * SZ_4K);
    const ev = m4u.tlbLog.slice(m4u.tlbLog.length - (m4u.tlbWrites - from));
    expect(ev.map((w) => [w.reg, w.value])).toEqual([
      [0x024, 0x10_0000],
      [0x028, 0x10_2000],
      [0x020, 0x1],
      [0x12c, 1],
    ]);
    // map (iotlb_sync_map) and unmap each name the range once.
    expect(c.overInvalidation()).toMatchObject({
      bytesUnmapped: 3 * SZ_4K,
      bytesInvalidated: 6 * SZ_4K,
      ratio: 2,
    });
  });

  it("range registers decode IOVA bits 33:32 from register bits 1:0", () => {
    expect(mtkIommuTlbAddrDecode(0x1234_5003)).toBe(3 * 2 ** 32 + 0x1234_5000);
  });

  it("a CPE_DONE timeout: dev_warn, then the full-flush fallback — nothing stale", () => {
    const lines: string[] = [];
    const { m4u, c } = setup({ onMessage: (l) => lines.push(l) });
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    m4u.cpeDoneTimeouts = 1;
    c.unmap(0x1000, SZ_4K);
    expect(lines.some((l) => l.includes("Partial TLB flush timed out"))).toBe(true);
    expect(c.findings).toEqual([]);
    expect(c.model.stats.fullInvalidations).toBeGreaterThan(0);
  });
});

type Variant = {
  name: string;
  rewrite: ((w: MtkIommuTlbWrite) => MtkIommuTlbWrite | null) | null;
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
    name: "the range flush drops its last page (END_A one frame short)",
    rewrite: (w) => (w.reg === REG_MMU_INVLD_END_A ? { ...w, value: w.value - SZ_4K } : w),
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "missing completion: the CPE_DONE poll dropped",
    rewrite: (w) => (w.reg === REG_MMU_CPE_DONE ? null : w),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
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

describe("known kernel quirks of the shared table (SHARE_PGTABLE: mt8195 vdo + vpp on one list)", () => {
  function shared() {
    const list = new MtkM4uList();
    const vdo = new MtkIommu({ soc: "mt8195-vdo", hwList: list, tlbLogCapacity: 256 });
    const vpp = new MtkIommu({ soc: "mt8195-vpp", hwList: list, tlbLogCapacity: 256 });
    const a = vdo.domainAllocPagingFlags(0);
    const b = vpp.domainAllocPagingFlags(0);
    if (typeof a === "number" || typeof b === "number") throw new Error("alloc");
    // The checker drives domain `a` (on vdo); the model is vpp's TLB, whose masters read the same table.
    const model = new IotlbModel(b, { capacity: 16, tag: b.bank!.id });
    return { a, c: new IotlbChecker(a, model, mtkIommuIotlbFeed(b, { m4u: vpp })) };
  }

  it("iotlb_sync's range flush goes to every M4U of the list: the other M4U's TLB stays clean", () => {
    const { c } = shared();
    c.map(0x10_0000, 0x4000_0000, SZ_4K, RW);
    c.access(0x10_0000);
    c.unmap(0x10_0000, SZ_4K);
    expect(c.findings).toEqual([]);
  });

  it("flush-all-one-m4u: unmap_fast + flush_iotlb_all leaves the other M4U's entry stale → sync-stale, then stale-access", () => {
    const { c } = shared();
    c.map(0x10_0000, 0x4000_0000, SZ_4K, RW);
    c.access(0x10_0000);
    const gather = new IotlbGather();
    c.unmapFast(0x10_0000, SZ_4K, gather);
    expect(c.findings).toEqual([]);
    c.flushAll();
    expect(c.findings).toHaveLength(1);
    expect(c.findings[0]).toMatchObject({
      kind: "sync-stale",
      op: "flush-all",
      cache: "iotlb",
      iova: 0x10_0000,
      size: SZ_4K,
      cause: { op: "unmap-fast", iova: 0x10_0000 },
    });
    c.access(0x10_0000);
    expect(c.findings[1]).toMatchObject({ kind: "stale-access", iova: 0x10_0000 });
  });
});
