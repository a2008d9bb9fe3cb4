/**
 * drivers/iommu/ipmmu-vmsa.c: TLB maintenance. The IPMMU has no range or page invalidation:
 * every request — io-pgtable's tlb_flush_all and tlb_flush_walk (there is no tlb_add_page),
 * iotlb_sync and flush_iotlb_all — sets IMCTR.FLUSH on the context (leaf and root) and polls
 * it clear: the whole context's TLB goes.
 *
 * Counting (the domain's IommuCounters): `flushAll` per IMCTR flush of the domain's context,
 * `flushWalk` per tlb_flush_walk request (which is also one `flushAll`).
 */
import type { IommuFlushOps } from "@iommu/io-pgtable";
import type { IpmmuVmsaDomain } from "./domain.js";
import { IMCTR, IMCTR_FLUSH } from "./regs.js";

/** `ipmmu_tlb_sync`: poll the root's IMCTR until FLUSH clears (the model's hardware is instant). */
export function ipmmuTlbSync(d: IpmmuVmsaDomain): void {
  const root = d.mmu!.root;
  if (root.ctxRead(d.contextId, IMCTR) & IMCTR_FLUSH)
    root.log("ipmmu_tlb_sync: TLB sync timed out -- MMU may be deadlocked");
  else root.tlbDone(d.contextId);
}

/** `ipmmu_ctx_write_all`: the leaf's copy of a context register (when it has one), then the root's. */
export function ipmmuCtxWriteAll(d: IpmmuVmsaDomain, reg: number, value: number): void {
  const mmu = d.mmu!;
  if (mmu !== mmu.root) mmu.ctxWrite(d.contextId, reg, value);
  mmu.root.ctxWrite(d.contextId, reg, value);
}

/** `ipmmu_tlb_invalidate`: IMCTR |= FLUSH on the context, then wait. */
export function ipmmuTlbInvalidate(d: IpmmuVmsaDomain): void {
  d.counters.flushAll++;
  const reg = d.mmu!.root.ctxRead(d.contextId, IMCTR) | IMCTR_FLUSH;
  ipmmuCtxWriteAll(d, IMCTR, reg);
  ipmmuTlbSync(d);
}

/** `ipmmu_flush_ops`: flush_all and flush_walk both invalidate the whole context; no add_page. */
export const ipmmuFlushOps: IommuFlushOps = {
  tlbFlushAll(cookie: unknown): void {
    ipmmuTlbInvalidate(cookie as IpmmuVmsaDomain);
  },
  tlbFlushWalk(_iova: number, _size: number, _granule: number, cookie: unknown): void {
    const d = cookie as IpmmuVmsaDomain;
    d.counters.flushWalk++;
    ipmmuTlbInvalidate(d);
  },
};

/** `ipmmu_flush_iotlb_all` (and `ipmmu_iotlb_sync`, which calls it): only once a context exists. */
export function ipmmuFlushIotlbAll(d: IpmmuVmsaDomain): void {
  if (d.mmu) ipmmuTlbInvalidate(d);
}
