/**
 * drivers/iommu/sprd-iommu.c: what a Unisoc IOMMU does with the all-ones write to
 * `SPRD_EX_UPDATE` / `SPRD_VAU_UPDATE` — clear its whole TLB — for the core's IOTLB model.
 * `iotlb_sync_map` and `iotlb_sync` both write it; there is no per-page invalidation and no
 * completion to wait for: each write is complete when made.
 *
 * The feed reads the domain's write log (SprdDomain.tlbLog), which it turns on.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import { SPRD_EX_REGS, SPRD_VAU_REGS, type SprdIommuVersion } from "./defs.js";
import type { SprdDomain } from "./sprd-iommu.js";
import { SprdTlbLog, type SprdTlbWrite } from "./tlb-log.js";

/** Model-only: how {@link sprdIotlbFeed} reads the log. */
export interface SprdIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each write before the IOMMU acts on it. */
  rewrite?: (write: SprdTlbWrite) => SprdTlbWrite | null;
  /** Writes the log keeps when the feed turns it on (default 1024). */
  logCapacity?: number;
}

/**
 * Model-only: an IOTLB model of the IOMMU as its one client sees it (tag 0). The table is
 * flat: there is no walk cache to model.
 */
export function sprdIotlbModel(
  d: SprdDomain,
  options: Omit<IotlbModelOptions, "tag" | "walkCache"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: 0, walkCache: 0 });
}

/** Model-only: one write as it acts on the TLB of an IOMMU of `version` (null: not a TLB clear). */
export function sprdDecodeWrite(w: SprdTlbWrite, version: SprdIommuVersion): IotlbInvalidation | null {
  const update = (version === "vau" ? SPRD_VAU_REGS : SPRD_EX_REGS).update;
  if (w.reg !== update || w.value === 0) return null;
  return { scope: "all", tag: -1, iova: 0, size: 0, leafOnly: false, leafSize: 0, command: "UPDATE" };
}

/**
 * Model-only: the TLB clears the domain wrote since the feed was made, applied at each drain,
 * each complete when written. Turns the domain's write log on; throws if the log dropped writes
 * between two drains.
 */
export function sprdIotlbFeed(d: SprdDomain, options: SprdIotlbFeedOptions = {}): IotlbCommandFeed {
  const log = d.tlbLog ?? new SprdTlbLog(options.logCapacity ?? 1024);
  d.tlbLog = log;
  let mark = log.total;
  return {
    drain(model) {
      const all = log.writes;
      const first = log.firstSince(mark, "sprdIotlbFeed");
      mark = log.total;
      for (let i = first; i < all.length; i++) {
        const w = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (!w) continue;
        const inv = sprdDecodeWrite(w, d.version);
        if (!inv) continue;
        model.issue(inv);
        model.sync();
      }
    },
  };
}
