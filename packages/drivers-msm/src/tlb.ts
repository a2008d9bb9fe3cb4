/**
 * drivers/iommu/msm_iommu.c: `msm_iommu_flush_ops` — the TLB maintenance io-pgtable asks for
 * and the driver's iotlb_sync_map. Every IOMMU on the domain's `list_attached`, every
 * context of its master: `tlb_flush_all` writes CTX_TLBIALL once; a range writes TLBIVA once
 * per granule (VA bits 31:12 | the context's ASID) — there is no range invalidation.
 *
 * Counted in the domain's IommuCounters per register write: CTX_TLBIALL → `flushAll`;
 * TLBIVA → `flushPage` (tlb_add_page), `flushWalk` (tlb_flush_walk) or `flushRange`
 * (iotlb_sync_map).
 */
import type { IommuCounters } from "@iommu/core";
import type { IommuFlushOps } from "@iommu/io-pgtable";
import type { MsmPriv } from "./msm-domain.js";
import { CONTEXTIDR_ASID_MASK, TLBIVA_VA } from "./regs.js";

/** Which counter a TLBIVA run goes to. */
export type MsmTlbivaKind = "flushPage" | "flushWalk" | "flushRange";

/**
 * How many TLBIVA writes `do { … } while (temp_size -= granule)` makes with `int temp_size =
 * size`: size/granule, where the int wraps (size ≡ 0 mod 2^32 → 2^32/granule); -1 when the
 * loop never ends (size not a multiple of granule).
 */
export function msmTlbivaCount(size: number, granule: number): number {
  if (granule <= 0) return -1;
  const s = size % 2 ** 32 || 2 ** 32;
  return s % granule === 0 ? s / granule : -1;
}

/** `__flush_iotlb(cookie)`: CTX_TLBIALL on every context of every attached IOMMU. */
export function msmFlushIotlb(priv: MsmPriv): void {
  for (const iommu of priv.listAttached) {
    const ctx = iommu.context(iommu.master.num);
    if (ctx) {
      ctx.writeTlbiall();
      priv.counters.flushAll++;
    }
    iommu.tlbDone();
  }
}

/** `__flush_iotlb_range(iova, size, granule, leaf, cookie)`: one TLBIVA per granule per context. */
export function msmFlushIotlbRange(
  priv: MsmPriv,
  iova: number,
  size: number,
  granule: number,
  kind: MsmTlbivaKind,
): void {
  const counters: IommuCounters = priv.counters;
  for (const iommu of priv.listAttached) {
    const ctx = iommu.context(iommu.master.num);
    if (!ctx) continue;
    const n = msmTlbivaCount(size, granule);
    if (n < 0) {
      // The kernel spins forever; the model stops and reports it.
      counters.bugs++;
      continue;
    }
    const asid = ctx.contextidr & CONTEXTIDR_ASID_MASK;
    ctx.writeTlbiva((((iova % 2 ** 32) & TLBIVA_VA) | asid) >>> 0, n, granule);
    counters[kind] += n;
    iommu.tlbDone();
  }
}

/** `msm_iommu_flush_ops`, with the domain (`struct msm_priv`) as the cookie. */
export const msmIommuFlushOps: IommuFlushOps = {
  tlbFlushAll(cookie) {
    const priv = cookie as MsmPriv;
    priv.tlbCallbacks.flushAll++;
    msmFlushIotlb(priv);
  },
  tlbFlushWalk(iova, size, granule, cookie) {
    const priv = cookie as MsmPriv;
    priv.tlbCallbacks.flushWalk++;
    msmFlushIotlbRange(priv, iova, size, granule, "flushWalk");
  },
  tlbAddPage(_gather, iova, granule, cookie) {
    const priv = cookie as MsmPriv;
    priv.tlbCallbacks.addPage++;
    msmFlushIotlbRange(priv, iova, granule, granule, "flushPage");
  },
};
