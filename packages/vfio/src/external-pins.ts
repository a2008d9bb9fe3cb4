/**
 * Pages pinned for emulated-IOMMU (mdev) devices through `vfio_pin_pages`: each lives in
 * its vfio_dma's `pfn_list` with a reference count and its own GUP pin.
 */

import { IOMMU_WRITE } from "@iommu/core";
import type { Type1Context } from "./context.js";
import type { VfioDma } from "./dma.js";
import { VfioBatch, vfioLockAcct } from "./pin.js";

/**
 * `vfio_pin_page_external`: pin the one page at `vaddr` (charging it when `doAccounting`,
 * i.e. when no IOMMU domain has charged it already). Returns the frame, or -errno.
 */
export function pinPageExternal(
  ctx: Type1Context,
  dma: VfioDma,
  vaddr: number,
  doAccounting: boolean,
): number {
  const batch = new VfioBatch(true);
  const ret = ctx.mm.memory.pinUserPagesRemote(vaddr, 1, (dma.prot & IOMMU_WRITE) !== 0, batch.pages);
  if (ret !== 1) return ret;
  const pfn = batch.pages[0]!;
  if (doAccounting) {
    const acct = vfioLockAcct(ctx, dma, 1);
    if (acct) {
      // pr_warn("RLIMIT_MEMLOCK exceeded")
      ctx.mm.memory.unpinUserPages(pfn, 1);
      return acct;
    }
  }
  return pfn;
}

/** `vfio_unpin_page_external`: drop one reference; the last one unpins (and uncharges). */
export function unpinPageExternal(
  ctx: Type1Context,
  dma: VfioDma,
  iova: number,
  doAccounting: boolean,
): number {
  const vpfn = dma.pfnList.get(iova);
  if (!vpfn) return 0;
  let unlocked = 0;
  if (--vpfn.refCount === 0) {
    ctx.mm.memory.unpinUserPages(vpfn.pfn, 1);
    dma.pfnList.delete(iova);
    unlocked = 1;
  }
  if (doAccounting) vfioLockAcct(ctx, dma, -unlocked);
  return unlocked;
}
