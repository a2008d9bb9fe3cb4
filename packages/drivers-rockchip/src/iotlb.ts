/**
 * drivers/iommu/rockchip-iommu.c: what a Rockchip IOMMU does with the RK_MMU_ZAP_ONE_LINE
 * writes of `rk_iommu_zap_lines()` — shoot down the IOTLB line of one 4 KiB IOVA — for the
 * core's IOTLB model. `rk_iommu_unmap()` zaps every page it unmapped, `rk_iommu_map()` the
 * first and last page it mapped; there is no `iotlb_sync` and no completion to wait for: each
 * write is complete when made.
 *
 * The feed reads the domain's write log (RockchipDomain.tlbLog), which it turns on.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import { SPAGE_SIZE } from "./defs.js";
import type { RockchipDomain } from "./rockchip-iommu.js";
import { RK_MMU_ZAP_ONE_LINE, RockchipTlbLog, type RockchipTlbWrite } from "./tlb-log.js";

/** Model-only: how {@link rockchipIotlbFeed} reads the log. */
export interface RockchipIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each write before the IOMMU acts on it. */
  rewrite?: (write: RockchipTlbWrite) => RockchipTlbWrite | null;
  /** Writes the log keeps when the feed turns it on (default 8192; at least one operation's writes). */
  logCapacity?: number;
}

/**
 * Model-only: an IOTLB model of the IOMMU as the domain's master sees it (one directory per
 * IOMMU: tag 0). Page tables live as long as the domain, so a walk cache (`walkCache`) never
 * holds a freed table.
 */
export function rockchipIotlbModel(
  d: RockchipDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: 0 });
}

/** Model-only: one write as it acts on the IOTLB (null: not a shootdown). */
export function rockchipDecodeWrite(w: RockchipTlbWrite): IotlbInvalidation | null {
  if (w.reg !== RK_MMU_ZAP_ONE_LINE) return null;
  return {
    scope: "range",
    tag: 0,
    iova: (w.value & ~(SPAGE_SIZE - 1)) >>> 0,
    size: SPAGE_SIZE,
    leafOnly: false,
    leafSize: 0,
    command: "ZAP_ONE_LINE",
  };
}

/**
 * Model-only: the shootdowns the domain wrote since the feed was made, applied at each drain,
 * each complete when written. Turns the domain's write log on; throws if the log dropped
 * writes between two drains.
 */
export function rockchipIotlbFeed(
  d: RockchipDomain,
  options: RockchipIotlbFeedOptions = {},
): IotlbCommandFeed {
  const log = d.tlbLog ?? new RockchipTlbLog(options.logCapacity ?? 8192);
  d.tlbLog = log;
  let mark = log.total;
  return {
    drain(model) {
      const all = log.writes;
      const first = log.firstSince(mark, "rockchipIotlbFeed");
      mark = log.total;
      for (let i = first; i < all.length; i++) {
        const w = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (!w) continue;
        const inv = rockchipDecodeWrite(w);
        if (!inv) continue;
        model.issue(inv);
        model.sync();
      }
    },
  };
}
