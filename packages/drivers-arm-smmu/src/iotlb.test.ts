/**
 * The core's IOTLB model on SMMUv1/v2 domains, fed by the TLB maintenance register writes the
 * driver really makes: random map/unmap/access sequences stay coherent and clean; broken
 * variants (a dropped per-page TLBIVAL — this driver invalidates each leaf on the spot instead
 * of gathering —, TLBIVAL instead of TLBIVA after a table was freed, a missing TLBSYNC) are
 * each caught with the right diagnosis.
 */
import { IOMMU_READ, IOMMU_WRITE, IotlbChecker, type IotlbFinding, SZ_2M, SZ_4K } from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArmSmmuOptions } from "./arm-smmu.js";
import type { ArmSmmuRegWrite } from "./context-bank.js";
import {
  type ArmSmmuIotlbFeedOptions,
  armSmmuDecodeWrite,
  armSmmuIotlbFeed,
  armSmmuIotlbModel,
} from "./iotlb.js";
import {
  ARM_SMMU_CB_S1_TLBIVA,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_TLBSYNC,
  ARM_SMMU_GR0_sTLBGSYNC,
} from "./regs.js";
import { attachedDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(hw: ArmSmmuOptions = {}, feed: ArmSmmuIotlbFeedOptions = {}, capacity = 64, walkCache = 16) {
  const { domain: d } = attachedDomain({ logCapacity: 8192, ...hw });
  const model = armSmmuIotlbModel(d, { capacity, walkCache });
  return { d, c: new IotlbChecker(d, model, armSmmuIotlbFeed(d, feed)) };
}

describe("SMMUv1/v2 under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["v2, stage 1 AArch64 (TLBIVAL / TLBIVA)", {}],
    ["v2, stage 1, flush_walk_prefer_tlbiasid", { flushWalkPreferTlbiasid: true }],
    ["v2, stage 2 (TLBIIPAS2L / TLBIIPAS2)", { forceStage: 2 }],
    ["v1, stage 2 (TLBIVMID for every leaf, global sync)", { version: "v1", forceStage: 2 }],
    ["v2, stage 1 on an arm32 kernel (AArch32 contexts)", { kernel: "arm32" }],
  ] as const)("%s", (_name, hw) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(hw as ArmSmmuOptions, {}, capacity, 8);
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

describe("register-write decoding", () => {
  const w = (reg: number, value: bigint, wide: boolean, cb = 2): ArmSmmuRegWrite => ({
    cb,
    reg,
    value,
    wide,
  });
  it("TLBIVAL (AArch64): VA >> 12 | ASID << 48, leaf only", () => {
    expect(armSmmuDecodeWrite(w(ARM_SMMU_CB_S1_TLBIVAL, 0x4_0000n | (3n << 48n), true), 2, 0)).toMatchObject({
      scope: "range",
      tag: 3,
      iova: 0x4000_0000,
      size: SZ_4K,
      leafOnly: true,
    });
  });
  it("TLBIVA (AArch32): VA[31:12] | ASID, walk caches too; other banks ignored", () => {
    expect(armSmmuDecodeWrite(w(ARM_SMMU_CB_S1_TLBIVA, 0x8020_1000n | 5n, false), 2, 0)).toMatchObject({
      tag: 5,
      iova: 0x8020_1000,
      leafOnly: false,
    });
    expect(armSmmuDecodeWrite(w(ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn, false, 1), 2, 0)).toBeNull();
    expect(armSmmuDecodeWrite(w(ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn, false), 2, 0)).toBe("sync");
  });
});

type Variant = {
  name: string;
  hw?: ArmSmmuOptions;
  feed?: ArmSmmuIotlbFeedOptions;
  /** Map, touch, then unmap. */
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

/** A driver that skips the invalidation of the page at `va` (its gather analogue dropped it). */
const dropPage =
  (va: bigint) =>
  (x: ArmSmmuRegWrite): ArmSmmuRegWrite | null =>
    x.reg === ARM_SMMU_CB_S1_TLBIVAL && (x.value & 0xfff_ffff_ffffn) === va >> 12n ? null : x;
const leafOnly = (x: ArmSmmuRegWrite): ArmSmmuRegWrite =>
  x.reg === ARM_SMMU_CB_S1_TLBIVA ? { ...x, reg: ARM_SMMU_CB_S1_TLBIVAL } : x;
const noSync = (x: ArmSmmuRegWrite): ArmSmmuRegWrite | null => (x.reg === ARM_SMMU_CB_TLBSYNC ? null : x);
const noGlobalSync = (x: ArmSmmuRegWrite): ArmSmmuRegWrite | null =>
  x.cb === -1 && x.reg === ARM_SMMU_GR0_sTLBGSYNC ? null : x;

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the last page's TLBIVAL is dropped",
    feed: { rewrite: dropPage(0x2000n) },
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "TLBIVAL instead of TLBIVA after a table was freed",
    feed: { rewrite: leafOnly },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "missing TLBSYNC",
    feed: { rewrite: noSync },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "SMMUv1 stage 2: missing sTLBGSYNC after the per-leaf TLBIVMIDs",
    hw: { version: "v1", forceStage: 2 },
    feed: { rewrite: noGlobalSync },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { c } = setup(v.hw ?? {}, v.feed ?? {});
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
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
