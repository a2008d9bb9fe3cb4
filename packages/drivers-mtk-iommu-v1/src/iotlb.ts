/**
 * drivers/iommu/mtk_iommu_v1.c: what an M4U does with `mtk_iommu_v1_tlb_flush_range()` — a
 * range invalidation programmed as INVLD_START_A / INVLD_END_A (inclusive, 4 KiB granular),
 * started by INVALIDATE = F_MMU_INV_RANGE and complete once CPE_DONE reads non-zero — and with
 * the F_ALL_INVLD fallback of `mtk_iommu_v1_tlb_flush_all()`, for the core's IOTLB model.
 *
 * The feed reads the M4U's MMIO accesses through its `mmioTap` (nothing in the flush path
 * changes). The table is flat: there is no walk cache to model.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import {
  F_ALL_INVLD,
  F_MMU_FAULT_VA_MSK,
  F_MMU_INV_RANGE,
  type MtkIommuV1Domain,
  REG_MMU_CPE_DONE,
  REG_MMU_INVALIDATE,
  REG_MMU_INVLD_END_A,
  REG_MMU_INVLD_START_A,
} from "./mtk-iommu-v1.js";

/** Model-only: one register access of the M4U as the feed logged it. */
export interface MtkIommuV1MmioAccess {
  readonly write: boolean;
  readonly offset: number;
  readonly value: number;
}

/** Model-only: how {@link mtkIommuV1IotlbFeed} reads the accesses. */
export interface MtkIommuV1IotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each access before the M4U acts on it. */
  rewrite?: (access: MtkIommuV1MmioAccess) => MtkIommuV1MmioAccess | null;
}

/** Model-only: the range registers as the decoder last saw them. */
export interface MtkIommuV1DecodeState {
  start: number;
  end: number;
}

/** Model-only: an IOTLB model of the M4U (one table for every port: tag 0). */
export function mtkIommuV1IotlbModel(
  d: MtkIommuV1Domain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: 0 });
}

/**
 * Model-only: one MMIO access as the M4U applies it: an invalidation (`now` when it is
 * complete once written — F_ALL_INVLD, which the driver does not wait for), or `"sync"` for the
 * CPE_DONE poll that completes a range invalidation.
 */
export function mtkIommuV1DecodeMmio(
  a: MtkIommuV1MmioAccess,
  state: MtkIommuV1DecodeState,
): { inv: IotlbInvalidation; now: boolean } | "sync" | null {
  if (!a.write) return a.offset === REG_MMU_CPE_DONE && a.value !== 0 ? "sync" : null;
  switch (a.offset) {
    case REG_MMU_INVLD_START_A:
      state.start = (a.value & F_MMU_FAULT_VA_MSK) >>> 0;
      return null;
    case REG_MMU_INVLD_END_A:
      state.end = (a.value & F_MMU_FAULT_VA_MSK) >>> 0;
      return null;
    case REG_MMU_INVALIDATE: {
      const base = { tag: 0, leafOnly: false, leafSize: 0 };
      if (a.value & F_ALL_INVLD)
        return { inv: { ...base, scope: "all", iova: 0, size: 0, command: "F_ALL_INVLD" }, now: true };
      if (!(a.value & F_MMU_INV_RANGE) || state.end < state.start) return null;
      const size = state.end - state.start + 0x1000;
      return {
        inv: { ...base, scope: "range", iova: state.start, size, command: "F_MMU_INV_RANGE" },
        now: false,
      };
    }
    default:
      return null;
  }
}

/**
 * Model-only: the invalidations `d`'s M4U was given since the feed was made, applied to the
 * model at each drain. Installs the M4U's `mmioTap` (one feed per M4U); `close()` removes it.
 */
export function mtkIommuV1IotlbFeed(
  d: MtkIommuV1Domain,
  options: MtkIommuV1IotlbFeedOptions = {},
): IotlbCommandFeed & { close(): void } {
  const m4u = d.m4u;
  if (m4u.mmioTap) throw new Error("mtkIommuV1IotlbFeed: the M4U already has an MMIO tap");
  const log: MtkIommuV1MmioAccess[] = [];
  const tap = (write: boolean, offset: number, value: number): void => {
    log.push({ write, offset, value });
  };
  m4u.mmioTap = tap;
  const state: MtkIommuV1DecodeState = { start: 0, end: 0 };
  return {
    drain(model) {
      for (const raw of log) {
        const a = options.rewrite ? options.rewrite(raw) : raw;
        if (!a) continue;
        const r = mtkIommuV1DecodeMmio(a, state);
        if (r === "sync") model.sync();
        else if (r) {
          model.issue(r.inv);
          if (r.now) model.sync();
        }
      }
      log.length = 0;
    },
    close() {
      if (m4u.mmioTap === tap) m4u.mmioTap = null;
    },
  };
}
