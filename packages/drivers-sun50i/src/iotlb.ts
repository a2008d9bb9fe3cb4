/**
 * drivers/iommu/sun50i-iommu.c: what the H6 IOMMU does with the maintenance accesses of the
 * driver — IOMMU_TLB_FLUSH_REG (every TLB and the PTW cache: `iotlb_sync` and
 * `flush_iotlb_all`), the TLB invalidation of one page by IOMMU_TLB_IVLD_ADDR / _ADDR_MASK /
 * _ENABLE_REG and the PTW-cache invalidation of one DTE by IOMMU_PC_IVLD_ADDR / _ENABLE_REG
 * (`iotlb_sync_map`) — for the core's IOTLB model. Each is complete once the driver's poll of
 * its register reads 0: the poll is the model's barrier.
 *
 * The feed reads the domain's access log (Sun50iDomain.tlbLog), which it turns on.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
  SZ_1M,
} from "@iommu/core";
import type { Sun50iDomain } from "./sun50i-iommu.js";
import {
  IOMMU_PC_IVLD_ADDR_REG,
  IOMMU_PC_IVLD_ENABLE_REG,
  IOMMU_TLB_FLUSH_REG,
  IOMMU_TLB_IVLD_ADDR_MASK_REG,
  IOMMU_TLB_IVLD_ADDR_REG,
  IOMMU_TLB_IVLD_ENABLE_REG,
  type Sun50iTlbAccess,
  Sun50iTlbLog,
} from "./tlb-log.js";

/** Model-only: how {@link sun50iIotlbFeed} reads the log. */
export interface Sun50iIotlbFeedOptions {
  /**
   * Fault injection: replace each access before the IOMMU acts on it — by another, by several
   * (an array), or by nothing (null).
   */
  rewrite?: (access: Sun50iTlbAccess) => Sun50iTlbAccess | readonly Sun50iTlbAccess[] | null;
  /** Accesses the log keeps when the feed turns it on (default 8192; at least one operation's). */
  logCapacity?: number;
}

/**
 * Model-only: an IOTLB model of the IOMMU as the domain's master sees it (one directory per
 * IOMMU: tag 0). The PTW cache (cached DTEs) is the model's walk cache (`walkCache`); page
 * tables live as long as the domain, so it never holds a freed table.
 */
export function sun50iIotlbModel(d: Sun50iDomain, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  return new IotlbModel(d, { ...options, tag: 0 });
}

/** Model-only: the registers an invalidation in progress has been given so far. */
export interface Sun50iInvalidationRegs {
  tlbAddr: number;
  tlbMask: number;
  pcAddr: number;
}

/**
 * Model-only: one access as it acts on the caches — an invalidation (a write that starts one),
 * `"sync"` (a poll: everything started so far is complete), or null (a write that only sets
 * up the next one, kept in `regs`).
 */
export function sun50iDecodeAccess(
  a: Sun50iTlbAccess,
  regs: Sun50iInvalidationRegs,
): IotlbInvalidation | "sync" | null {
  if (a.poll) return "sync";
  const base = { tag: 0, leafOnly: false, leafSize: 0 };
  switch (a.reg) {
    case IOMMU_TLB_FLUSH_REG:
      return a.value === 0
        ? null
        : { ...base, scope: "all", tag: -1, iova: 0, size: 0, command: "TLB_FLUSH" };
    case IOMMU_TLB_IVLD_ADDR_REG:
      regs.tlbAddr = a.value;
      return null;
    case IOMMU_TLB_IVLD_ADDR_MASK_REG:
      regs.tlbMask = a.value;
      return null;
    case IOMMU_TLB_IVLD_ENABLE_REG: {
      if (!(a.value & 1)) return null;
      // The entries whose address matches under the mask: mask GENMASK(31, 12) is one page.
      const size = 2 ** 32 - regs.tlbMask;
      const iova = (regs.tlbAddr & regs.tlbMask) >>> 0;
      // TLB entries only: the PTW cache has its own invalidation.
      return { ...base, scope: "range", iova, size, leafOnly: true, command: "TLB_IVLD" };
    }
    case IOMMU_PC_IVLD_ADDR_REG:
      regs.pcAddr = a.value;
      return null;
    case IOMMU_PC_IVLD_ENABLE_REG: {
      if (!(a.value & 1)) return null;
      const iova = regs.pcAddr - (regs.pcAddr % SZ_1M);
      return { ...base, scope: "walk", iova, size: SZ_1M, command: "PC_IVLD" };
    }
    default:
      return null;
  }
}

/**
 * Model-only: the maintenance accesses the domain made since the feed was made, applied at
 * each drain: invalidations queue, polls complete them. Turns the domain's log on; throws if
 * the log dropped accesses between two drains.
 */
export function sun50iIotlbFeed(d: Sun50iDomain, options: Sun50iIotlbFeedOptions = {}): IotlbCommandFeed {
  const log = d.tlbLog ?? new Sun50iTlbLog(options.logCapacity ?? 8192);
  d.tlbLog = log;
  let mark = log.total;
  const regs: Sun50iInvalidationRegs = { tlbAddr: 0, tlbMask: 0xffff_f000, pcAddr: 0 };
  const act = (model: IotlbModel, a: Sun50iTlbAccess) => {
    const inv = sun50iDecodeAccess(a, regs);
    if (inv === "sync") model.sync();
    else if (inv) model.issue(inv);
  };
  return {
    drain(model) {
      const all = log.accesses;
      const first = log.firstSince(mark, "sun50iIotlbFeed");
      mark = log.total;
      for (let i = first; i < all.length; i++) {
        const r = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (r === null) continue;
        if (Array.isArray(r)) for (const a of r as readonly Sun50iTlbAccess[]) act(model, a);
        else act(model, r as Sun50iTlbAccess);
      }
    },
  };
}
