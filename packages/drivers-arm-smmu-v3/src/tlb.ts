/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: TLB maintenance of an SMMUv3 paging domain —
 * the `iommu_flush_ops` handed to io-pgtable (`arm_smmu_flush_ops`) and the range
 * invalidation behind iotlb_sync.
 *
 * Counting (the domain's IommuCounters): `flushAll` per whole-context invalidation
 * (tlb_flush_all / flush_iotlb_all), `flushWalk` per tlb_flush_walk (a table was removed),
 * `flushPage` per tlb_add_page (a leaf joined the gather), `flushRange` per iotlb_sync that
 * invalidated a gathered range. The commands themselves are counted by the SMMU's
 * {@link ArmSmmuCmdq}. ATC invalidation is not modelled (no ATS masters are attached).
 */
import { ffs, type IotlbGather, iotlbGatherAddPage } from "@iommu/core";
import type { IommuFlushOps } from "@iommu/io-pgtable";
import type { TlbiCmd } from "./cmdq.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  ARM_SMMU_FEAT_E2H,
  ARM_SMMU_FEAT_RANGE_INV,
  CMDQ_OP_TLBI_EL2_ASID,
  CMDQ_OP_TLBI_EL2_VA,
  CMDQ_OP_TLBI_NH_ALL,
  CMDQ_OP_TLBI_NH_ASID,
  CMDQ_OP_TLBI_NH_VA,
  CMDQ_OP_TLBI_S2_IPA,
  CMDQ_OP_TLBI_S12_VMALL,
  CMDQ_TLBI_RANGE_NUM_MAX,
} from "./regs.js";

/**
 * The command being built (`struct arm_smmu_cmdq_ent` on the kernel's stack): the SMMU's one
 * scratch entry, reset for each use, so a flush allocates nothing.
 */
function resetCmd(cmd: TlbiCmd, opcode: number, leaf: boolean): void {
  cmd.opcode = opcode;
  cmd.asid = 0;
  cmd.vmid = 0;
  cmd.leaf = leaf;
  cmd.num = 0;
  cmd.scale = 0;
  cmd.ttl = 0;
  cmd.tg = 0;
  cmd.addr = 0;
}

/** `arm_smmu_tlb_inv_context`: drop every TLB entry of the domain's ASID (S1) or VMID (S2). */
export function armSmmuTlbInvContext(d: ArmSmmuDomain): void {
  const smmu = d.smmu;
  const cmd = smmu.cmdq.scratch;
  d.counters.flushAll++;
  if (d.stage === "s1") {
    // arm_smmu_tlb_inv_asid
    resetCmd(cmd, smmu.features & ARM_SMMU_FEAT_E2H ? CMDQ_OP_TLBI_EL2_ASID : CMDQ_OP_TLBI_NH_ASID, false);
    cmd.asid = d.asid;
  } else {
    resetCmd(cmd, CMDQ_OP_TLBI_S12_VMALL, false);
    cmd.vmid = d.vmid;
  }
  smmu.cmdq.issueTlbiWithSync(cmd);
}

function ilog2(x: number): number {
  return Math.floor(Math.log2(x));
}

/**
 * `__arm_smmu_tlb_inv_range`: one command per granule, or with FEAT_RANGE_INV as few
 * range commands as the NUM (5 bits) × 2^SCALE encoding allows; then one CMD_SYNC.
 */
function tlbInvRange(d: ArmSmmuDomain, c: TlbiCmd, iova: number, size: number, granule: number): void {
  if (size === 0) return;
  const smmu = d.smmu;
  const cmdq = smmu.cmdq;
  const end = iova + size;
  const range = (smmu.features & ARM_SMMU_FEAT_RANGE_INV) !== 0;
  let numPages = 0;
  let tg = 0;
  let invRange = granule;
  if (range) {
    tg = ffs(d.pgsizeBitmap);
    numPages = Math.floor(size / 2 ** tg);
    // log2 page size 12/14/16 → TG 1/2/3
    c.tg = (tg - 10) / 2;
    // TTL names the level of a leaf; a walk invalidation may span levels, so it stays 0.
    if (c.leaf) c.ttl = 4 - Math.floor((ilog2(granule) - 3) / (tg - 3));
    // Non-leaf: avoid a lone NUM=0,SCALE=0 command (errata want a real range).
    else if ((numPages & CMDQ_TLBI_RANGE_NUM_MAX) === 1) numPages++;
  }
  cmdq.batchInit();
  while (iova < end) {
    if (range) {
      const scale = ffs(numPages);
      c.scale = scale;
      const num = Math.floor(numPages / 2 ** scale) & CMDQ_TLBI_RANGE_NUM_MAX;
      c.num = num - 1;
      invRange = num * 2 ** (scale + tg);
      numPages -= num * 2 ** scale;
    }
    c.addr = iova;
    cmdq.batchAddTlbi(c);
    iova += invRange;
  }
  cmdq.batchSubmit();
}

/** `arm_smmu_tlb_inv_range_domain`: TLBI by VA within the ASID (S1) or by IPA within the VMID (S2). */
export function armSmmuTlbInvRangeDomain(
  iova: number,
  size: number,
  granule: number,
  leaf: boolean,
  d: ArmSmmuDomain,
): void {
  const cmd = d.smmu.cmdq.scratch;
  if (d.stage === "s1") {
    resetCmd(cmd, d.smmu.features & ARM_SMMU_FEAT_E2H ? CMDQ_OP_TLBI_EL2_VA : CMDQ_OP_TLBI_NH_VA, leaf);
    cmd.asid = d.asid;
  } else {
    resetCmd(cmd, CMDQ_OP_TLBI_S2_IPA, leaf);
    cmd.vmid = d.vmid;
  }
  tlbInvRange(d, cmd, iova, size, granule);
  if (d.nestParent) {
    // Stage-1 entries nested on this table were built from the old IPA translation: drop
    // every one of them in the VMID.
    resetCmd(cmd, CMDQ_OP_TLBI_NH_ALL, false);
    cmd.vmid = d.vmid;
    d.smmu.cmdq.issueTlbiWithSync(cmd);
  }
}

/** `arm_smmu_flush_ops`; the cookie is the domain. */
export const armSmmuFlushOps: IommuFlushOps = {
  tlbFlushAll(cookie: unknown): void {
    armSmmuTlbInvContext(cookie as ArmSmmuDomain);
  },
  tlbFlushWalk(iova: number, size: number, granule: number, cookie: unknown): void {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushWalk++;
    armSmmuTlbInvRangeDomain(iova, size, granule, false, d);
  },
  /** `arm_smmu_tlb_inv_page_nosync`: only gathers; iotlb_sync issues the commands. */
  tlbAddPage(gather: IotlbGather | null, iova: number, granule: number, cookie: unknown): void {
    const d = cookie as ArmSmmuDomain;
    d.counters.flushPage++;
    if (!gather) {
      // The kernel always passes a gather here; a raw caller without one gets the page
      // invalidated on the spot instead of a NULL dereference.
      armSmmuTlbInvRangeDomain(iova, granule, granule, true, d);
      return;
    }
    // A page-size change or a disjoint page first syncs through the core's iommu_iotlb_sync().
    iotlbGatherAddPage(gather, iova, granule, d.syncGather);
  },
};

/** `arm_smmu_iotlb_sync`: invalidate what the gather collected, as leaf entries of its page size. */
export function armSmmuIotlbSync(d: ArmSmmuDomain, gather: IotlbGather): void {
  if (!gather.pgsize) return;
  d.counters.flushRange++;
  armSmmuTlbInvRangeDomain(gather.start, gather.endExcl - gather.start, gather.pgsize, true, d);
}
