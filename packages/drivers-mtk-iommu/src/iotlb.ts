/**
 * drivers/iommu/mtk_iommu.c: what an M4U bank does with the driver's TLB maintenance, for the
 * core's IOTLB model — `mtk_iommu_tlb_flush_range_sync` (INVLD_START_A / INVLD_END_A, the
 * inclusive 4 KiB frames of the range, then INVALIDATE = F_MMU_INV_RANGE; complete when the
 * CPE_DONE poll succeeds) and `mtk_iommu_tlb_flush_all` (INVALIDATE = F_ALL_INVLD through bank
 * 0; the driver never waits for it, so the model takes it as complete when written, and as
 * dropping every bank's entries of that M4U).
 *
 * Translations are tagged with the bank the domain's masters translate through. One model is
 * one M4U's TLB: with a shared table (SHARE_PGTABLE) each M4U of the list has its own, fed by
 * its own log. The feed reads the M4U's TLB register log (nothing in the invalidation path
 * changes): build it with `tlbLogCapacity` > 0.
 */
import { type IotlbCommandFeed, IotlbModel, type IotlbModelOptions } from "@iommu/core";
import type { MtkIommu, MtkIommuTlbWrite } from "./mtk-iommu.js";
import type { MtkIommuDomain } from "./mtk-iommu-domain.js";
import {
  F_ALL_INVLD,
  F_MMU_INV_RANGE,
  REG_MMU_CPE_DONE,
  REG_MMU_INVALIDATE,
  REG_MMU_INVLD_END_A,
  REG_MMU_INVLD_START_A,
} from "./tlb.js";

const PAGE = 0x1000;

/** Model-only: how {@link mtkIommuIotlbFeed} reads the log. */
export interface MtkIommuIotlbFeedOptions {
  /**
   * The M4U whose TLB the model is (default the domain's own, `dom->bank->parent_data`); another
   * member of the domain's hardware list sees the same shared table through its own TLB.
   */
  m4u?: MtkIommu;
  /** Fault injection: replace (or drop with null) each access before the bank acts on it. */
  rewrite?: (write: MtkIommuTlbWrite) => MtkIommuTlbWrite | null;
}

/** Model-only: the tag an attached domain's translations carry — its bank id. */
export function mtkIommuIotlbTag(d: MtkIommuDomain): number {
  if (!d.bank) throw new Error("mtkIommuIotlbTag: the domain is not attached (no bank)");
  return d.bank.id;
}

/** Model-only: an IOTLB model of one M4U's TLB for the domain's bank. */
export function mtkIommuIotlbModel(
  d: MtkIommuDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: mtkIommuIotlbTag(d) });
}

/** `MTK_IOMMU_TLB_ADDR` read back: bits 31:12, with IOVA bits 33:32 in register bits 1:0. */
export function mtkIommuTlbAddrDecode(value: number): number {
  return ((value & 0xffff_f000) >>> 0) + (value & 3) * 2 ** 32;
}

/**
 * Model-only: the TLB register accesses of the M4U since the feed was made, applied at each
 * drain. Throws if the log is off or dropped accesses.
 */
export function mtkIommuIotlbFeed(
  d: MtkIommuDomain,
  options: MtkIommuIotlbFeedOptions = {},
): IotlbCommandFeed {
  const tag = mtkIommuIotlbTag(d);
  const m4u = options.m4u ?? d.bank!.parent;
  if (!m4u.tlbLogging) throw new Error("mtkIommuIotlbFeed: the M4U's TLB log is off (tlbLogCapacity)");
  let mark = m4u.tlbWrites;
  let start = 0;
  let end = 0;
  return {
    drain(model) {
      const log = m4u.tlbLog;
      const n = m4u.tlbWrites - mark;
      if (n > log.length) throw new Error(`mtkIommuIotlbFeed: ${n - log.length} accesses fell off the log`);
      mark = m4u.tlbWrites;
      for (let i = log.length - n; i < log.length; i++) {
        const w = options.rewrite ? options.rewrite(log[i]!) : log[i]!;
        if (!w) continue;
        if (w.reg === REG_MMU_INVALIDATE && w.value === F_ALL_INVLD) {
          model.issue({
            scope: "all",
            tag: -1,
            iova: 0,
            size: 0,
            leafOnly: false,
            leafSize: 0,
            command: "F_ALL_INVLD",
          });
          model.sync();
          continue;
        }
        // Range registers and completions of other banks are other tags' business.
        if (w.bank !== tag) continue;
        if (w.reg === REG_MMU_INVLD_START_A) start = mtkIommuTlbAddrDecode(w.value);
        else if (w.reg === REG_MMU_INVLD_END_A) end = mtkIommuTlbAddrDecode(w.value);
        else if (w.reg === REG_MMU_INVALIDATE && w.value === F_MMU_INV_RANGE) {
          if (end >= start)
            model.issue({
              scope: "range",
              tag,
              iova: start,
              size: end - start + PAGE,
              leafOnly: false,
              leafSize: 0,
              command: "F_MMU_INV_RANGE",
            });
        } else if (w.reg === REG_MMU_CPE_DONE && w.value === 1) model.sync();
      }
    },
  };
}
