/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: what an SMMUv1/v2 does with the TLB maintenance
 * register writes of `arm_smmu_tlb_inv_*` (TLBIVA / TLBIVAL by VA and ASID, TLBIASID,
 * TLBIIPAS2 / TLBIIPAS2L by IPA within the bank's VMID, the global TLBIVMID), for the core's
 * IOTLB model — each completed by the next TLBSYNC on the bank or sTLBGSYNC.
 *
 * The feed reads the SMMU's register-write log (nothing in the invalidation path changes): the
 * SMMU must be built with `logCapacity` > 0, large enough for one operation's writes.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { ArmSmmuHw, ArmSmmuRegWrite } from "./context-bank.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  ARM_SMMU_CB_S1_TLBIASID,
  ARM_SMMU_CB_S1_TLBIVA,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_S2_TLBIIPAS2,
  ARM_SMMU_CB_S2_TLBIIPAS2L,
  ARM_SMMU_CB_TLBSYNC,
  ARM_SMMU_GR0_sTLBGSYNC,
  ARM_SMMU_GR0_TLBIVMID,
} from "./regs.js";

/** Model-only: how {@link armSmmuIotlbFeed} reads the write log. */
export interface ArmSmmuIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each write before the SMMU acts on it. */
  rewrite?: (write: ArmSmmuRegWrite) => ArmSmmuRegWrite | null;
}

/** The tag an attached domain's translations carry: the ASID (stage 1) or the VMID (stage 2). */
export function armSmmuIotlbTag(d: ArmSmmuDomain): number {
  if (d.cfg.cbndx < 0) throw new Error("armSmmuIotlbTag: the domain has no context bank yet");
  return d.stage === "s1" ? d.cfg.asid : d.cfg.vmid;
}

/** Model-only: an IOTLB model of the SMMU as `d`'s masters see it. */
export function armSmmuIotlbModel(
  d: ArmSmmuDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: armSmmuIotlbTag(d) });
}

const PAGE = 0x1000;

/**
 * Model-only: one register write as the SMMU applies it to the entries of bank `cbndx` (whose
 * stage-2 entries carry `vmid`); `"sync"` for TLBSYNC on that bank or sTLBGSYNC.
 */
export function armSmmuDecodeWrite(
  w: ArmSmmuRegWrite,
  cbndx: number,
  vmid: number,
): IotlbInvalidation | "sync" | null {
  const base = { iova: 0, size: 0, leafOnly: false, leafSize: 0 };
  if (w.cb === -1) {
    if (w.reg === ARM_SMMU_GR0_sTLBGSYNC) return "sync";
    if (w.reg === ARM_SMMU_GR0_TLBIVMID)
      return { ...base, scope: "tag", tag: Number(w.value), command: "TLBIVMID" };
    return null;
  }
  if (w.cb !== cbndx) return null;
  switch (w.reg) {
    case ARM_SMMU_CB_TLBSYNC:
      return "sync";
    case ARM_SMMU_CB_S1_TLBIASID:
      return { ...base, scope: "tag", tag: Number(w.value & 0xffffn), command: "TLBIASID" };
    case ARM_SMMU_CB_S1_TLBIVA:
    case ARM_SMMU_CB_S1_TLBIVAL: {
      // AArch64 contexts: VA[55:12] in [43:0], ASID in [63:48]; AArch32: VA[31:12] | ASID[7:0].
      const va = w.wide ? Number(w.value & 0xfff_ffff_ffffn) * PAGE : Number(w.value & 0xffff_f000n);
      const asid = w.wide ? Number(w.value >> 48n) : Number(w.value & 0xffn);
      const leaf = w.reg === ARM_SMMU_CB_S1_TLBIVAL;
      return {
        ...base,
        scope: "range",
        tag: asid,
        iova: va,
        size: PAGE,
        leafOnly: leaf,
        command: leaf ? "TLBIVAL" : "TLBIVA",
      };
    }
    case ARM_SMMU_CB_S2_TLBIIPAS2:
    case ARM_SMMU_CB_S2_TLBIIPAS2L: {
      const leaf = w.reg === ARM_SMMU_CB_S2_TLBIIPAS2L;
      const ipa = Number(w.value & 0xff_ffff_ffffn) * PAGE;
      return {
        ...base,
        scope: "range",
        tag: vmid,
        iova: ipa,
        size: PAGE,
        leafOnly: leaf,
        command: leaf ? "TLBIIPAS2L" : "TLBIIPAS2",
      };
    }
    default:
      return null;
  }
}

/** Writes logged so far: every invalidation and sync write (the log keeps the latest). */
function logged(hw: ArmSmmuHw): number {
  return hw.totals.invalidations + hw.totals.tlbsync + hw.totals.tlbgsync;
}

/**
 * Model-only: the register writes `d`'s SMMU made since the feed was made, applied to the model
 * at each drain. Throws if the log is off or dropped writes.
 */
export function armSmmuIotlbFeed(d: ArmSmmuDomain, options: ArmSmmuIotlbFeedOptions = {}): IotlbCommandFeed {
  const hw = d.smmu!.hw;
  if (!hw.logging) throw new Error("armSmmuIotlbFeed: the SMMU's write log is off (logCapacity)");
  let mark = logged(hw);
  return {
    drain(model) {
      const now = logged(hw);
      const all = hw.writeLog();
      const n = now - mark;
      if (n > all.length) throw new Error(`armSmmuIotlbFeed: ${n - all.length} writes fell off the log`);
      mark = now;
      for (let i = all.length - n; i < all.length; i++) {
        const w = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (!w) continue;
        const inv = armSmmuDecodeWrite(w, d.cfg.cbndx, d.cfg.vmid);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
    },
  };
}
