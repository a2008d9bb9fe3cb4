/**
 * drivers/iommu/exynos-iommu.c: what a SysMMU does with the TLB maintenance writes of
 * `sysmmu_tlb_invalidate_entry()` and `sysmmu_tlb_invalidate_flpdcache()` — `flush_entry` by
 * VPN (the TLB entry and, as the driver's comment on the FLPD cache says, the cached level-1
 * entry of that VA), `flush_start` / `flush_end` / `flush_range`, `flush_all` — for the core's
 * IOTLB model. The driver blocks the SysMMU around each invalidation (`sysmmu_block()` /
 * `sysmmu_unblock()`) and has no completion to wait for: each write is complete when made.
 *
 * The feed reads the domain's TLB write log (ExynosDomain.tlbLog), which it turns on.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import { makeMmuVer, SPAGE_SIZE } from "./defs.js";
import type { ExynosDomain } from "./exynos-iommu.js";
import { ExynosTlbLog, type ExynosTlbWrite } from "./tlb-log.js";

/** Model-only: how {@link exynosIotlbFeed} reads the log. */
export interface ExynosIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each write before the SysMMU acts on it. */
  rewrite?: (write: ExynosTlbWrite) => ExynosTlbWrite | null;
  /**
   * Fault injection after decoding: replace (or drop with null) each invalidation, e.g. make a
   * `flush_entry` leave the FLPD cache (`leafOnly`), which no register write can express.
   */
  rewriteInvalidation?: (inv: IotlbInvalidation) => IotlbInvalidation | null;
  /** Writes the log keeps when the feed turns it on (default 8192; at least one operation's writes). */
  logCapacity?: number;
}

/**
 * Model-only: an IOTLB model of the SysMMU as the domain's master sees it (one page table per
 * SysMMU: tag 0). The FLPD cache (cached level-1 entries, `CFG_FLPDCACHE` from SysMMU 3.2 on)
 * is the model's walk cache: `walkCache` is honoured from version 3.2 and forced to 0 below.
 */
export function exynosIotlbModel(d: ExynosDomain, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  const flpd = d.hw.version >= makeMmuVer(3, 2);
  return new IotlbModel(d, { ...options, tag: 0, walkCache: flpd ? options.walkCache : 0 });
}

/** A `flush_entry` write's VA: the value with its valid bit (bit 0) and page offset dropped. */
function entryVa(value: number): number {
  return (value & ~(SPAGE_SIZE - 1)) >>> 0;
}

/**
 * Model-only: one SysMMU write as it acts on the cache of the domain's master — an
 * invalidation, or null for a write that invalidates nothing by itself (`flush_start`,
 * `flush_end`: `range` holds them until `flush_range`).
 */
export function exynosDecodeWrite(
  w: ExynosTlbWrite,
  range: { start: number; end: number },
): IotlbInvalidation | null {
  const base = { tag: 0, leafOnly: false, leafSize: 0 };
  switch (w.reg) {
    case "flush_entry":
      return { ...base, scope: "range", iova: entryVa(w.value), size: SPAGE_SIZE, command: "FLUSH_ENTRY" };
    case "flush_all":
      return { ...base, scope: "all", tag: -1, iova: 0, size: 0, command: "FLUSH_ALL" };
    case "flush_start":
      range.start = entryVa(w.value);
      return null;
    case "flush_end":
      range.end = entryVa(w.value);
      return null;
    case "flush_range": {
      const size = range.end >= range.start ? range.end - range.start + SPAGE_SIZE : 0;
      return { ...base, scope: "range", iova: range.start, size, command: "FLUSH_RANGE" };
    }
  }
}

/**
 * Model-only: the TLB maintenance writes the domain made since the feed was made, applied at
 * each drain, each complete when written. Turns the domain's write log on; throws if the log
 * dropped writes between two drains.
 */
export function exynosIotlbFeed(d: ExynosDomain, options: ExynosIotlbFeedOptions = {}): IotlbCommandFeed {
  const log = d.tlbLog ?? new ExynosTlbLog(options.logCapacity ?? 8192);
  d.tlbLog = log;
  let mark = log.total;
  const range = { start: 0, end: -1 };
  return {
    drain(model) {
      const all = log.writes;
      const first = log.firstSince(mark, "exynosIotlbFeed");
      mark = log.total;
      for (let i = first; i < all.length; i++) {
        const w = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (!w) continue;
        const decoded = exynosDecodeWrite(w, range);
        const inv = decoded && options.rewriteInvalidation ? options.rewriteInvalidation(decoded) : decoded;
        if (!inv) continue;
        model.issue(inv);
        model.sync();
      }
    },
  };
}
