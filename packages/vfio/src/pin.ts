/**
 * Pinning user pages for a vfio_dma: the GUP batch, `vfio_pin_pages_remote`,
 * `vfio_unpin_pages_remote` and the locked_vm accounting around them.
 */
import { IOMMU_WRITE, negErrno, PAGE_SIZE } from "@iommu/core";
import type { Type1Context } from "./context.js";
import type { VfioDma } from "./dma.js";

/** `VFIO_BATCH_MAX_CAPACITY`: one page of `struct page *` on a 64-bit, 4 KiB kernel. */
export const VFIO_BATCH_MAX_CAPACITY = PAGE_SIZE / 8;

/** `struct vfio_batch`: frames returned by one pin_user_pages_remote() call. */
export class VfioBatch {
  readonly pages: Float64Array;
  readonly capacity: number;
  /** Frames not yet consumed, starting at `offset`. */
  size = 0;
  offset = 0;

  /** `vfio_batch_init` (single = `vfio_batch_init_single`, or `disable_hugepages`). */
  constructor(single: boolean) {
    this.capacity = single ? 1 : VFIO_BATCH_MAX_CAPACITY;
    this.pages = new Float64Array(this.capacity);
  }
}

/** Out-parameter for the first frame of a pinned chunk (`unsigned long *pfn_base`). */
export class PfnOut {
  value = 0;
}

/** `vfio_lock_acct`: charge (npage > 0) or uncharge the dma's pages to its mm. */
export function vfioLockAcct(ctx: Type1Context, dma: VfioDma, npage: number): number {
  if (npage === 0) return 0;
  const ret = ctx.mm.accountLockedVm(Math.abs(npage), npage > 0, dma.lockCap);
  if (ret === 0) dma.lockedVm += npage;
  return ret;
}

/**
 * `vaddr_get_pfns`: refill the batch with up to min(npages, capacity) pins. No region is
 * VM_PFNMAP in this model, so a GUP failure is final.
 */
function vaddrGetPfns(
  ctx: Type1Context,
  vaddr: number,
  npages: number,
  prot: number,
  batch: VfioBatch,
): number {
  const ret = ctx.mm.memory.pinUserPagesRemote(
    vaddr,
    Math.min(npages, batch.capacity),
    (prot & IOMMU_WRITE) !== 0,
    batch.pages,
  );
  if (ret > 0) {
    batch.size = ret;
    batch.offset = 0;
  }
  return ret;
}

/** `num_pages_contiguous`: how many frames from `offset` follow each other. */
function numPagesContiguous(batch: VfioBatch): number {
  const p = batch.pages;
  const first = p[batch.offset]!;
  let i = 1;
  while (i < batch.size && p[batch.offset + i] === first + i) i++;
  return i;
}

/** `vfio_batch_unpin`: drop the pins of frames left in the batch. */
export function batchUnpin(ctx: Type1Context, batch: VfioBatch): void {
  const mem = ctx.mm.memory;
  while (batch.size) {
    mem.unpinUserPages(batch.pages[batch.offset]!, 1);
    batch.offset++;
    batch.size--;
  }
}

/**
 * `vfio_pin_pages_remote`: pin the longest physically contiguous run starting at `vaddr`
 * (at most `npage` pages), refilling the batch as often as the run continues, and charge
 * it to locked_vm. Frames that break the run stay in the batch for the next call. Returns
 * the pages pinned (first frame in `pfnBase`) or -errno with nothing left pinned.
 */
export function pinPagesRemote(
  ctx: Type1Context,
  dma: VfioDma,
  vaddr: number,
  npage: number,
  pfnBase: PfnOut,
  limit: number,
  batch: VfioBatch,
): number {
  const mm = ctx.mm;
  let pinned = 0;
  let lockAcct = 0;
  let pfn = 0;
  // No pfn in this model is reserved or invalid (no VM_PFNMAP, no PageReserved).
  const rsvd = false;
  let ret = 0;
  let iova = vaddr - dma.vaddr + dma.iova;
  if (batch.size) {
    pfnBase.value = batch.pages[batch.offset]!;
    pfn = pfnBase.value;
  } else {
    pfnBase.value = 0;
  }
  if (ctx.disableHugepages) npage = 1;

  run: while (npage) {
    if (!batch.size) {
      ret = vaddrGetPfns(ctx, vaddr, npage, dma.prot, batch);
      if (ret < 0) return unpinOut(ctx, dma, pfnBase.value, pinned, batch, ret);
      pfn = batch.pages[0]!;
      if (!pfnBase.value) pfnBase.value = pfn;
    }
    for (;;) {
      if (pfn !== pfnBase.value + pinned) break run;
      const nr = numPagesContiguous(batch);
      // Pages also pinned through vfio_pin_pages are charged already.
      const acct = rsvd ? 0 : nr - dma.vpfnPages(iova, nr);
      if (acct) {
        if (!dma.lockCap && mm.lockedVm + lockAcct + acct > limit) {
          // pr_warn("RLIMIT_MEMLOCK exceeded")
          return unpinOut(ctx, dma, pfnBase.value, pinned, batch, negErrno("ENOMEM"));
        }
        lockAcct += acct;
      }
      pinned += nr;
      npage -= nr;
      vaddr += PAGE_SIZE * nr;
      iova += PAGE_SIZE * nr;
      batch.offset += nr;
      batch.size -= nr;
      if (!batch.size) break;
      pfn = batch.pages[batch.offset]!;
    }
  }
  dma.hasRsvd ||= rsvd;
  ret = vfioLockAcct(ctx, dma, lockAcct);
  if (ret < 0) return unpinOut(ctx, dma, pfnBase.value, pinned, batch, ret);
  return pinned;
}

function unpinOut(
  ctx: Type1Context,
  _dma: VfioDma,
  pfnBase: number,
  pinned: number,
  batch: VfioBatch,
  ret: number,
): number {
  if (pinned) ctx.mm.memory.unpinUserPages(pfnBase, pinned);
  batchUnpin(ctx, batch);
  return ret;
}

/**
 * `vfio_unpin_pages_remote`: unpin `npage` frames from `pfn` backing [iova, …) and, with
 * `doAccounting`, uncharge them. Returns the pages unpinned.
 */
export function unpinPagesRemote(
  ctx: Type1Context,
  dma: VfioDma,
  iova: number,
  pfn: number,
  npage: number,
  doAccounting: boolean,
): number {
  // Pages also pinned through vfio_pin_pages stay charged.
  const locked = dma.vpfnPages(iova, npage);
  ctx.mm.memory.unpinUserPages(pfn, npage);
  const unlocked = npage;
  if (doAccounting) vfioLockAcct(ctx, dma, locked - unlocked);
  return unlocked;
}
