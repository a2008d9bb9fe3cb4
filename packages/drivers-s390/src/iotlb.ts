/**
 * drivers/iommu/s390-iommu.c: what a zPCI function does with `zpci_refresh_trans()` (RPCIT)
 * from `s390_iommu_iotlb_sync()`, `s390_iommu_iotlb_sync_map()` (functions with `tlb_refresh`)
 * and `s390_iommu_flush_iotlb_all()` ([start_dma, end_dma]), for the core's IOTLB model: a
 * purge of the function's cached translations for the range, table entries included, complete
 * when the instruction returns (there is no separate barrier).
 *
 * The feed reads the function's RPCITs through its `rpcitTap` (nothing in the flush path
 * changes). The driver frees no table while the domain lives, so cached table entries never
 * point to freed memory.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { S390Domain, S390Iommu } from "./s390-iommu.js";

/** Model-only: one RPCIT as the feed logged it. */
export interface S390Rpcit {
  readonly addr: number;
  readonly size: number;
}

/** Model-only: how {@link s390IotlbFeed} reads the RPCITs. */
export interface S390IotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each RPCIT before the function acts on it. */
  rewrite?: (rpcit: S390Rpcit) => S390Rpcit | null;
}

/** Model-only: an IOTLB model of `zdev` (default: the domain's first function), tagged with its function handle. */
export function s390IotlbModel(
  d: S390Domain,
  options: Omit<IotlbModelOptions, "tag"> = {},
  zdev: S390Iommu | undefined = d.devices[0],
): IotlbModel {
  if (!zdev) throw new Error("s390IotlbModel: no function is attached to the domain");
  return new IotlbModel(d, { ...options, tag: zdev.fh });
}

/** Model-only: one RPCIT of the function with handle `fh` as an invalidation of its translations. */
export function s390DecodeRpcit(r: S390Rpcit, fh: number): IotlbInvalidation {
  return {
    scope: "range",
    tag: fh,
    iova: r.addr,
    size: r.size,
    leafOnly: false,
    leafSize: 0,
    command: "RPCIT",
  };
}

/**
 * Model-only: the RPCITs `zdev` (default: the domain's first function) issued since the feed
 * was made, each applied to the model at the next drain and completed at once. Installs the
 * function's `rpcitTap` (one feed per function); `close()` removes it.
 */
export function s390IotlbFeed(
  d: S390Domain,
  options: S390IotlbFeedOptions = {},
  zdev: S390Iommu | undefined = d.devices[0],
): IotlbCommandFeed & { close(): void } {
  if (!zdev) throw new Error("s390IotlbFeed: no function is attached to the domain");
  if (zdev.rpcitTap) throw new Error("s390IotlbFeed: the function already has an RPCIT tap");
  const log: S390Rpcit[] = [];
  const tap = (addr: number, size: number): void => {
    log.push({ addr, size });
  };
  zdev.rpcitTap = tap;
  return {
    drain(model) {
      for (const raw of log) {
        const r = options.rewrite ? options.rewrite(raw) : raw;
        if (!r) continue;
        model.issue(s390DecodeRpcit(r, zdev.fh));
        model.sync();
      }
      log.length = 0;
    },
    close() {
      if (zdev.rpcitTap === tap) zdev.rpcitTap = null;
    },
  };
}
