/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: TLB maintenance of an SMMUv1/v2 paging domain — the
 * three `iommu_flush_ops` tables (stage 1; stage 2 on SMMUv2; stage 2 on SMMUv1, which has no
 * by-IPA invalidation) and the domain's `iotlb_sync` / `flush_iotlb_all`.
 *
 * Unlike SMMUv3 the driver does not use the gather: every leaf io-pgtable clears is
 * invalidated on the spot (TLBIVAL / TLBIIPAS2L, or a whole-VMID TLBIVMID on SMMUv1 stage 2)
 * and `iotlb_sync` only waits (TLBSYNC). Counting: the domain's IommuCounters get `flushAll`
 * per tlb_flush_all, `flushWalk` per tlb_flush_walk, `flushPage` per tlb_add_page; the
 * register writes are counted by the SMMU's {@link ArmSmmuHw}.
 */
import type { IotlbGather } from "@iommu/core";
import type { IommuFlushOps } from "@iommu/io-pgtable";
import type { ArmSmmuContextBank } from "./context-bank.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  ARM_SMMU_CB_S1_TLBIASID,
  ARM_SMMU_CB_S1_TLBIVA,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_S2_TLBIIPAS2,
  ARM_SMMU_CB_S2_TLBIIPAS2L,
} from "./regs.js";

function bank(d: ArmSmmuDomain): ArmSmmuContextBank {
  return d.smmu!.hw.cbs[d.cfg.cbndx]!;
}

/** `arm_smmu_tlb_sync_context`: TLBSYNC on the domain's bank. */
function tlbSyncContext(d: ArmSmmuDomain): void {
  bank(d).tlbSync();
}

/** `arm_smmu_tlb_inv_context_s1`: TLBIASID, then a context sync. */
function tlbInvContextS1(d: ArmSmmuDomain): void {
  d.counters.flushAll++;
  bank(d).tlbiWrite(ARM_SMMU_CB_S1_TLBIASID, d.cfg.asid, false);
  tlbSyncContext(d);
}

/** `arm_smmu_tlb_inv_context_s2`: global TLBIVMID, then a global sync. */
function tlbInvContextS2(d: ArmSmmuDomain): void {
  d.counters.flushAll++;
  d.smmu!.hw.tlbiVmid(d.cfg.vmid);
  d.smmu!.hw.tlbSyncGlobal();
}

/**
 * `arm_smmu_tlb_inv_range_s1`: one write per granule of [iova, iova + size). AArch32
 * contexts write `VA[31:12] | ASID` (32 bits), AArch64 ones `VA >> 12 | ASID << 48` (64
 * bits). Counts without building the values unless the SMMU logs writes.
 */
function tlbInvRangeS1(d: ArmSmmuDomain, iova: number, size: number, granule: number, reg: number): void {
  const cb = bank(d);
  const n = Math.max(1, Math.round(size / granule));
  const asid = d.cfg.asid;
  const a64 = d.cfg.ctxFmt === "aarch64";
  if (!d.smmu!.hw.logging) {
    cb.tlbiWriteN(reg, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const va = iova + i * granule;
    const value = a64
      ? BigInt(Math.floor(va / 0x1000)) | (BigInt(asid) << 48n)
      : BigInt(((va - (va % 0x1000)) % 2 ** 32) + asid);
    cb.tlbiWrite(reg, value, a64);
  }
}

/** `arm_smmu_tlb_inv_range_s2`: one write of `IPA >> 12` per granule (64-bit on AArch64 contexts). */
function tlbInvRangeS2(d: ArmSmmuDomain, iova: number, size: number, granule: number, reg: number): void {
  const cb = bank(d);
  const n = Math.max(1, Math.round(size / granule));
  const a64 = d.cfg.ctxFmt === "aarch64";
  if (!d.smmu!.hw.logging) {
    cb.tlbiWriteN(reg, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = Math.floor((iova + i * granule) / 0x1000);
    cb.tlbiWrite(reg, a64 ? v : v % 2 ** 32, a64);
  }
}

/** `arm_smmu_s1_tlb_ops`; the cookie is the domain. */
export const armSmmuS1TlbOps: IommuFlushOps = {
  tlbFlushAll: (cookie) => tlbInvContextS1(cookie as ArmSmmuDomain),
  /** `arm_smmu_tlb_inv_walk_s1`: TLBIVA per granule + sync, or TLBIASID where the impl prefers it. */
  tlbFlushWalk(iova, size, granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushWalk++;
    if (d.cfg.flushWalkPreferTlbiasid) {
      tlbInvContextS1(d);
      return;
    }
    tlbInvRangeS1(d, iova, size, granule, ARM_SMMU_CB_S1_TLBIVA);
    tlbSyncContext(d);
  },
  /** `arm_smmu_tlb_add_page_s1`: TLBIVAL now (no sync; iotlb_sync waits). The gather is unused. */
  tlbAddPage(_gather: IotlbGather | null, iova, granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushPage++;
    tlbInvRangeS1(d, iova, granule, granule, ARM_SMMU_CB_S1_TLBIVAL);
  },
};

/** `arm_smmu_s2_tlb_ops_v2` */
export const armSmmuS2TlbOpsV2: IommuFlushOps = {
  tlbFlushAll: (cookie) => tlbInvContextS2(cookie as ArmSmmuDomain),
  /** `arm_smmu_tlb_inv_walk_s2`: TLBIIPAS2 per granule + context sync. */
  tlbFlushWalk(iova, size, granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushWalk++;
    tlbInvRangeS2(d, iova, size, granule, ARM_SMMU_CB_S2_TLBIIPAS2);
    tlbSyncContext(d);
  },
  /** `arm_smmu_tlb_add_page_s2`: TLBIIPAS2L now. */
  tlbAddPage(_gather, iova, granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushPage++;
    tlbInvRangeS2(d, iova, granule, granule, ARM_SMMU_CB_S2_TLBIIPAS2L);
  },
};

/**
 * `arm_smmu_s2_tlb_ops_v1`: SMMUv1 has no by-IPA invalidation, so a removed table costs a
 * whole-VMID invalidation with a global sync, and every cleared leaf a TLBIVMID (issued
 * early, synced by iotlb_sync).
 */
export const armSmmuS2TlbOpsV1: IommuFlushOps = {
  tlbFlushAll: (cookie) => tlbInvContextS2(cookie as ArmSmmuDomain),
  tlbFlushWalk(_iova, _size, _granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushWalk++;
    tlbInvContextS2(d);
  },
  tlbAddPage(_gather, _iova, _granule, cookie) {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushPage++;
    d.smmu!.hw.tlbiVmid(d.cfg.vmid);
  },
};

/**
 * `arm_smmu_iotlb_sync`: nothing before the first attach; otherwise wait for the
 * invalidations already issued — a context sync (SMMUv2, or any stage 1) or a global sync
 * (SMMUv1 stage 2, whose TLBIVMIDs are global).
 */
export function armSmmuIotlbSync(d: ArmSmmuDomain, _gather: IotlbGather): void {
  const smmu = d.smmu;
  if (!smmu) return;
  if (smmu.caps.version === "v2" || d.stage === "s1") tlbSyncContext(d);
  else smmu.hw.tlbSyncGlobal();
}

/** `arm_smmu_flush_iotlb_all`: the flush ops' tlb_flush_all, once a context exists. */
export function armSmmuFlushIotlbAll(d: ArmSmmuDomain): void {
  d.flushOps?.tlbFlushAll(d);
}
