/**
 * drivers/gpu/drm/panfrost/panfrost_mmu.c, drivers/gpu/drm/panthor/panthor_mmu.c (the AS
 * commands), for the core's IOTLB model (packages/core/docs/iotlb-model.md): what the GPU's
 * MMU does with the AS_COMMAND writes the drivers issue. The io-pgtable TLB callbacks both
 * drivers pass are no-ops; the only invalidations are region commands on one address space:
 *
 * - AS_COMMAND_LOCK locks the naturally aligned power-of-two region in AS_LOCKADDR (no
 *   invalidation by itself);
 * - AS_COMMAND_FLUSH_PT / AS_COMMAND_FLUSH_MEM (panfrost, and panthor before its GPU_CONTROL
 *   flush path) flush the L2 then invalidate the TLB and walk caches over the locked region
 *   and unlock it;
 * - AS_COMMAND_UNLOCK (panthor, after flushing the caches itself) invalidates the locked
 *   region's translations and unlocks it;
 * - AS_COMMAND_UPDATE reprograms the AS registers (no TLB invalidation modelled).
 *
 * The drivers wait for AS_ACTIVE to clear after each command (`wait_ready()`), so each
 * invalidation is complete when written. A region that covers the whole 64-bit space (the
 * `~0ULL` flush at enable/disable) drops every entry of the AS. Entries are tagged with the AS
 * number.
 */
import {
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCounters,
  type IommuDomain,
  type IotlbCommandFeed,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { IoPgtableOps } from "@iommu/io-pgtable";
import type { AsCommandLogEntry, GpuMmuHw } from "./gpu-mmu-hw.js";
import { AS_COMMAND_FLUSH_MEM, AS_COMMAND_FLUSH_PT, AS_COMMAND_UNLOCK } from "./mmu-regs.js";

const COMMAND_NAMES: Record<number, string> = {
  [AS_COMMAND_FLUSH_PT]: "AS_COMMAND_FLUSH_PT",
  [AS_COMMAND_FLUSH_MEM]: "AS_COMMAND_FLUSH_MEM",
  [AS_COMMAND_UNLOCK]: "AS_COMMAND_UNLOCK",
};

/**
 * Model-only: a read-only paging-domain view of a GPU address space's io-pgtable (panfrost's
 * `struct panfrost_mmu`, panthor's `struct panthor_vm`), so the core's IOTLB model can walk
 * and inspect it. Map and unmap stay the GPU driver's: the view's map/unmap ops refuse.
 */
export function gpuIotlbDomain(pt: IoPgtableOps, counters: IommuCounters, pgsizeBitmap: number): IommuDomain {
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    pgsizeBitmap,
    geometry: { apertureStart: 0, apertureEnd: (1n << 64n) - 1n, forceAperture: false },
    counters,
    ops: {
      name: "gpu-mmu-view",
      mapPages: () => -22,
      unmapPages: () => 0,
      iovaToPhysLength: (_d, iova, out) => pt.iovaToPhysLength(iova, out),
      inspect: () => pt.inspect?.() ?? null,
    },
  };
}

/** Model-only: the TLB of address space `as` for `domain` (a {@link gpuIotlbDomain}), tagged with the AS number. */
export function gpuMmuIotlbModel(
  domain: IommuDomain,
  as: number,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(domain, { ...options, tag: as });
}

/** Model-only: how {@link gpuMmuIotlbFeed} reads the log. */
export interface GpuMmuIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each AS command before the MMU executes it. */
  rewrite?: (entry: AsCommandLogEntry) => AsCommandLogEntry | null;
}

/**
 * Model-only: the AS commands `hw` logged for address space `as` since the feed was made,
 * applied at each drain: FLUSH_PT / FLUSH_MEM / UNLOCK invalidate the locked region (TLB and
 * walk cache), complete at once. Needs `hw`'s command log (`new GpuMmuHw({ logCapacity })`);
 * throws if it dropped commands.
 */
export function gpuMmuIotlbFeed(
  hw: GpuMmuHw,
  as: number,
  options: GpuMmuIotlbFeedOptions = {},
): IotlbCommandFeed {
  if (hw.logCapacity <= 0) throw new Error("gpuMmuIotlbFeed: the AS command log is off (logCapacity 0)");
  let mark = hw.commands;
  return {
    drain(model) {
      const log = hw.commandLog(mark);
      if (log.length !== hw.commands - mark)
        throw new Error(`gpuMmuIotlbFeed: ${hw.commands - mark - log.length} commands fell off the log`);
      mark = hw.commands;
      for (const raw of log) {
        const e = options.rewrite ? options.rewrite(raw) : raw;
        if (!e || e.as !== as || !e.region) continue;
        const command = COMMAND_NAMES[e.cmd];
        if (!command) continue;
        const { start, size } = e.region;
        if (start + size > 1n << 53n)
          model.issue({ scope: "tag", tag: as, iova: 0, size: 0, leafOnly: false, leafSize: 0, command });
        else
          model.issue({
            scope: "range",
            tag: as,
            iova: Number(start),
            size: Number(size),
            leafOnly: false,
            leafSize: 0,
            command,
          });
        model.sync();
      }
    },
  };
}
