/**
 * TLB maintenance per unmap against the kernel's call pattern: io-pgtable calls tlb_add_page
 * once per cleared leaf (arm_smmu_tlb_add_page_s1 writes TLBIVAL at once), tlb_flush_walk
 * when a table goes (TLBIVA per granule over the range, then TLBSYNC), and the core's
 * iotlb_sync makes arm_smmu_iotlb_sync wait (TLBSYNC; a global sync for SMMUv1 stage 2).
 */
import { IOMMU_READ, IOMMU_WRITE, iommuFlushIotlbAll, iommuMap, iommuUnmap, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { QcomIommu, QcomIommuMaster } from "./qcom-iommu.js";
import {
  ARM_SMMU_CB_S1_TLBIASID,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_S2_TLBIIPAS2L,
  ARM_SMMU_CB_TLBSYNC,
  ARM_SMMU_GR0_sTLBGSYNC,
  ARM_SMMU_GR0_TLBIVMID,
} from "./regs.js";
import { attachedDomain, attachedQcomDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("stage 1 (arm_smmu_s1_tlb_ops)", () => {
  it("unmap of 16 pages: 16 TLBIVAL (one per leaf, issued at once), 1 TLBSYNC from iotlb_sync", () => {
    const { domain: d, smmu } = attachedDomain({ logCapacity: 64, contextBanks: 8, s2ContextBanks: 3 });
    iommuMap(d, 0x1234_0000, 0x8000_0000, 16 * SZ_4K, RW);
    smmu.hw.resetCounts();
    const c0 = d.counters.snapshot();
    expect(iommuUnmap(d, 0x1234_0000, 16 * SZ_4K)).toBe(16 * SZ_4K);
    const cb = smmu.hw.cbs[d.cfg.cbndx]!;
    expect(cb.tlbi.tlbival).toBe(16);
    expect(cb.tlbi.tlbiva + cb.tlbi.tlbiasid).toBe(0);
    expect(cb.tlbi.tlbsync).toBe(1);
    expect(d.counters.since(c0)).toMatchObject({ flushPage: 16, flushWalk: 0, flushAll: 0 });
    // AArch64 encoding: VA >> 12 | ASID << 48, 64-bit writes; the sync comes last.
    const log = smmu.hw.writeLog();
    expect(log[0]).toEqual({
      cb: 3,
      reg: ARM_SMMU_CB_S1_TLBIVAL,
      value: 0x1_2340n | (3n << 48n),
      wide: true,
    });
    expect(log[15]!.value).toBe(0x1_234fn | (3n << 48n));
    expect(log[16]).toMatchObject({ reg: ARM_SMMU_CB_TLBSYNC });
  });

  it("unmap of a 2M block: one TLBIVAL", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_2M, RW);
    smmu.hw.resetCounts();
    iommuUnmap(d, SZ_2M, SZ_2M);
    expect(smmu.hw.totals.tlbival).toBe(1);
    expect(smmu.hw.totals.tlbsync).toBe(1);
  });

  it("a block over a table: tlb_flush_walk = 512 TLBIVA (2M / 4K granule) + TLBSYNC, before the block is written", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_4K, RW);
    iommuUnmap(d, SZ_2M, SZ_4K); // the level-3 table stays
    smmu.hw.resetCounts();
    const c0 = d.counters.snapshot();
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_2M, RW);
    expect(smmu.hw.totals.tlbiva).toBe(SZ_2M / SZ_4K);
    expect(smmu.hw.totals.tlbsync).toBe(1);
    expect(d.counters.since(c0)).toMatchObject({ flushWalk: 1, tablesFreed: 1 });
  });

  it("flush_walk_prefer_tlbiasid: the same block-over-table costs one TLBIASID + TLBSYNC", () => {
    const { domain: d, smmu } = attachedDomain({ flushWalkPreferTlbiasid: true });
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_4K, RW);
    iommuUnmap(d, SZ_2M, SZ_4K);
    smmu.hw.resetCounts();
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_2M, RW);
    expect(smmu.hw.totals.tlbiva).toBe(0);
    expect(smmu.hw.totals.tlbiasid).toBe(1);
    expect(smmu.hw.totals.tlbsync).toBe(1);
  });

  it("flush_iotlb_all: TLBIASID of the context's ASID, then TLBSYNC", () => {
    const { domain: d, smmu } = attachedDomain({ logCapacity: 8 });
    iommuFlushIotlbAll(d);
    expect(smmu.hw.writeLog().map((w) => [w.reg, w.value])).toEqual([
      [ARM_SMMU_CB_S1_TLBIASID, BigInt(d.cfg.asid)],
      [ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn],
    ]);
    expect(d.counters.flushAll).toBe(1);
  });

  it("AArch32 contexts write 32-bit VA[31:12] | ASID", () => {
    const { domain: d, smmu } = attachedDomain({ version: "v1", ias: 40, logCapacity: 8, contextBanks: 4 });
    iommuMap(d, 0x1234_5000, 0x8000_0000, SZ_4K, RW);
    smmu.hw.resetCounts();
    iommuUnmap(d, 0x1234_5000, SZ_4K);
    expect(smmu.hw.writeLog()[0]).toEqual({
      cb: d.cfg.cbndx,
      reg: ARM_SMMU_CB_S1_TLBIVAL,
      value: BigInt(0x1234_5000 + d.cfg.asid),
      wide: false,
    });
  });
});

describe("stage 2", () => {
  it("SMMUv2 (arm_smmu_s2_tlb_ops_v2): TLBIIPAS2L per leaf (IPA >> 12), context TLBSYNC", () => {
    const { domain: d, smmu } = attachedDomain({ stage1: false, ias: 40, oas: 40, logCapacity: 16 });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 4 * SZ_4K, RW);
    smmu.hw.resetCounts();
    iommuUnmap(d, 0x4000_0000, 4 * SZ_4K);
    const log = smmu.hw.writeLog();
    expect(log.map((w) => w.reg)).toEqual([
      ARM_SMMU_CB_S2_TLBIIPAS2L,
      ARM_SMMU_CB_S2_TLBIIPAS2L,
      ARM_SMMU_CB_S2_TLBIIPAS2L,
      ARM_SMMU_CB_S2_TLBIIPAS2L,
      ARM_SMMU_CB_TLBSYNC,
    ]);
    expect(log[1]!.value).toBe(0x4_0001n);
    expect(smmu.hw.totals.tlbgsync).toBe(0);
  });

  it("SMMUv1 (arm_smmu_s2_tlb_ops_v1): a global TLBIVMID per leaf, a global sync from iotlb_sync", () => {
    const { domain: d, smmu } = attachedDomain({
      version: "v1",
      stage1: false,
      ias: 40,
      oas: 40,
      logCapacity: 16,
    });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 4 * SZ_4K, RW);
    smmu.hw.resetCounts();
    iommuUnmap(d, 0x4000_0000, 4 * SZ_4K);
    expect(smmu.hw.writeLog().map((w) => [w.cb, w.reg, w.value])).toEqual([
      [-1, ARM_SMMU_GR0_TLBIVMID, BigInt(d.cfg.vmid)],
      [-1, ARM_SMMU_GR0_TLBIVMID, BigInt(d.cfg.vmid)],
      [-1, ARM_SMMU_GR0_TLBIVMID, BigInt(d.cfg.vmid)],
      [-1, ARM_SMMU_GR0_TLBIVMID, BigInt(d.cfg.vmid)],
      [-1, ARM_SMMU_GR0_sTLBGSYNC, 0xffff_ffffn],
    ]);
    // A removed table: tlb_flush_walk is a whole-VMID invalidation with a global sync.
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_4K, RW);
    iommuUnmap(d, SZ_2M, SZ_4K);
    smmu.hw.resetCounts();
    iommuMap(d, SZ_2M, 0x8000_0000, SZ_2M, RW);
    expect([smmu.hw.totals.tlbivmid, smmu.hw.totals.tlbgsync, smmu.hw.totals.tlbiipas2]).toEqual([1, 1, 0]);
  });
});

describe("qcom_iommu (qcom_flush_ops)", () => {
  it("every bank of the device gets the TLBIVALs; the second bank's range starts where the first ended (quirk qcom-tlbi-range-drift)", () => {
    const { domain: d, iommu } = attachedQcomDomain([1, 3]);
    iommuMap(d, 0x10_0000, 0x8000_0000, 4 * SZ_4K, RW);
    iommu.hw.resetCounts();
    iommuUnmap(d, 0x10_0000, 4 * SZ_4K);
    expect(iommu.hw.cbs[1]!.tlbi.tlbival).toBe(4);
    expect(iommu.hw.cbs[3]!.tlbi.tlbival).toBe(4);
    // iotlb_sync: one TLBSYNC per bank, no invalidation.
    expect(iommu.hw.cbs[1]!.tlbi.tlbsync).toBe(1);
    expect(iommu.hw.cbs[3]!.tlbi.tlbsync).toBe(1);
  });

  it("the values written: bank 1 covers the range, bank 3 the page after it", () => {
    const iommu = new QcomIommu({ logCapacity: 32 });
    const d = new QcomIommuMaster(iommu, [1, 3]).domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("attach");
    iommuMap(d, 0x10_0000, 0x8000_0000, SZ_4K, RW);
    iommu.hw.resetCounts();
    iommuUnmap(d, 0x10_0000, SZ_4K);
    expect(iommu.hw.writeLog().map((w) => [w.cb, w.reg, w.value])).toEqual([
      [1, ARM_SMMU_CB_S1_TLBIVAL, 0x10_0001n],
      [3, ARM_SMMU_CB_S1_TLBIVAL, 0x10_1003n],
      [1, ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn],
      [3, ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn],
    ]);
  });

  it("flush_iotlb_all only syncs (no TLBIASID): quirk qcom-flush-all-no-invalidate", () => {
    const { domain: d, iommu } = attachedQcomDomain([2]);
    iommuFlushIotlbAll(d);
    expect(iommu.hw.totals.tlbiasid).toBe(0);
    expect(iommu.hw.totals.tlbsync).toBe(1);
  });
});
