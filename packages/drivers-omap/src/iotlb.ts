/**
 * drivers/iommu/omap-iommu.c: what an OMAP MMU's TLB does with the driver's flushes, for the
 * core's IOTLB model — `flush_iotlb_page(da)` scans the TLB and flushes the entry whose page
 * (4K/64K/1M/16M, from its CAM) covers `da` (MMU_FLUSH_ENTRY), `flush_iotlb_all()` flushes
 * everything (MMU_GFLUSH). Both take effect when written: the driver waits for nothing.
 *
 * The model's TLB is the IOTLB model: an entry covers `da` exactly when it overlaps `da`'s 4 KiB
 * page (entries are naturally aligned and at least 4 KiB), so a page flush is a 4 KiB range
 * invalidation — the bytes it names, not the size of the entry it drops. The MMU walks its
 * tables on every miss (no walk cache to model). The feed reads one MMU's flushes through its
 * `flushTap` (nothing in the flush path changes).
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { OmapDomain } from "./omap-iommu.js";

/** Model-only: how {@link omapIotlbFeed} reads the flushes. */
export interface OmapIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each flush (`da`, -1 for flush-all) before the MMU acts on it. */
  rewrite?: (da: number) => number | null;
}

/** Model-only: an IOTLB model of one of the domain's MMUs (their tables are mirrors; one table per MMU: tag 0). */
export function omapIotlbModel(d: OmapDomain, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  if (!d.attached) throw new Error("omapIotlbModel: no device is attached to the domain");
  return new IotlbModel(d, { ...options, tag: 0 });
}

/** Model-only: a flush of `da` (-1: `flush_iotlb_all()`) as an invalidation of the MMU's TLB. */
export function omapDecodeFlush(da: number): IotlbInvalidation {
  if (da < 0)
    return { scope: "all", tag: -1, iova: 0, size: 0, leafOnly: false, leafSize: 0, command: "MMU_GFLUSH" };
  const page = da - (da % 0x1000);
  return {
    scope: "range",
    tag: 0,
    iova: page,
    size: 0x1000,
    leafOnly: false,
    leafSize: 0,
    command: "MMU_FLUSH_ENTRY",
  };
}

/**
 * Model-only: the flushes the domain's MMU `index` was given since the feed was made, applied
 * to the model at each drain (each complete at once). Installs the MMU's `flushTap` (one feed
 * per MMU); `close()` removes it.
 */
export function omapIotlbFeed(
  d: OmapDomain,
  options: OmapIotlbFeedOptions = {},
  index = 0,
): IotlbCommandFeed & { close(): void } {
  const mmu = d.iommus[index]?.mmu;
  if (!mmu) throw new Error(`omapIotlbFeed: the domain has no MMU ${index}`);
  if (mmu.flushTap) throw new Error("omapIotlbFeed: the MMU already has a flush tap");
  const log: number[] = [];
  const tap = (da: number): void => {
    log.push(da);
  };
  mmu.flushTap = tap;
  return {
    drain(model) {
      for (const raw of log) {
        const da = options.rewrite ? options.rewrite(raw) : raw;
        if (da === null) continue;
        model.issue(omapDecodeFlush(da));
        model.sync();
      }
      log.length = 0;
    },
    close() {
      if (mmu.flushTap === tap) mmu.flushTap = null;
    },
  };
}
