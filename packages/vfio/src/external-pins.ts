/**
 * Pages pinned for emulated-IOMMU (mdev) devices through `vfio_pin_pages`: each lives in
 * its vfio_dma's `pfn_list` with a reference count and its own GUP pin.
 */
import { IOMMU_READ, IOMMU_WRITE, negErrno, PAGE_SIZE } from "@iommu/core";
import { findGroup } from "./attach.js";
import type { Type1Context } from "./context.js";
import { bitmapSet } from "./dirty.js";
import type { VfioDma } from "./dma.js";
import { VfioBatch, vfioLockAcct } from "./pin.js";
import type { VfioIommuState } from "./state.js";

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

/**
 * `vfio_pin_pages` (`vfio_iommu_type1_pin_pages`): pin `npage` pages from `iova` for the
 * emulated device of `groupId`, frames into `pages`. Returns npage or -errno (nothing left
 * pinned). Pages are charged to locked_vm only when no IOMMU domain has charged them.
 */
export function vfioIommuType1PinPages(
  st: VfioIommuState,
  groupId: number,
  iova: number,
  npage: number,
  prot: number,
  pages: Float64Array,
): number {
  if (npage <= 0 || pages.length < npage) return negErrno("EINVAL");
  if (!st.v2) return negErrno("EACCES");
  if (iova + npage * PAGE_SIZE - 1 >= 2 ** 64) return negErrno("EOVERFLOW");
  if (st.vaddrInvalidCount) {
    st.counters.warn("vfio_pin_pages not allowed with VFIO_UPDATE_VADDR");
    return negErrno("EBUSY");
  }
  if (st.devices.length === 0) return negErrno("EINVAL");
  const group = findGroup(st, groupId)?.group;
  // The kernel dereferences the group unchecked; an unknown group would oops.
  if (!group) return negErrno("EINVAL");
  const doAccounting = st.domainList.length === 0;
  let i = 0;
  let ret = 0;
  for (; i < npage; i++) {
    const at = iova + PAGE_SIZE * i;
    const dma = st.dmas.find(at, PAGE_SIZE);
    if (!dma) {
      ret = negErrno("EINVAL");
      break;
    }
    if ((dma.prot & prot) !== prot) {
      ret = negErrno("EPERM");
      break;
    }
    const vpfn = dma.pfnList.get(at);
    if (vpfn) {
      vpfn.refCount++;
      pages[i] = vpfn.pfn;
      continue;
    }
    const pfn = pinPageExternal(st, dma, dma.vaddr + (at - dma.iova), doAccounting);
    if (pfn < 0) {
      ret = pfn;
      break;
    }
    dma.pfnList.set(at, { iova: at, pfn, refCount: 1 });
    pages[i] = pfn;
    if (st.dirtyPageTracking) bitmapSet(dma.bitmap!, Math.floor((at - dma.iova) / st.minPageSize), 1);
  }
  if (ret) {
    pages[i] = 0;
    for (let j = 0; j < i; j++) {
      const at = iova + PAGE_SIZE * j;
      const dma = st.dmas.find(at, PAGE_SIZE)!;
      unpinPageExternal(st, dma, at, doAccounting);
      pages[j] = 0;
    }
    return ret;
  }
  if (!group.pinnedPageDirtyScope) {
    group.pinnedPageDirtyScope = true;
    st.numNonPinnedGroups--;
  }
  return npage;
}

/** `vfio_unpin_pages` (`vfio_iommu_type1_unpin_pages`); misuse is a WARN and does nothing. */
export function vfioIommuType1UnpinPages(st: VfioIommuState, iova: number, npage: number): void {
  if (!st.v2 || npage <= 0 || iova + npage * PAGE_SIZE - 1 >= 2 ** 64) {
    st.counters.warn("vfio_unpin_pages: bad arguments");
    return;
  }
  const doAccounting = st.domainList.length === 0;
  let i = 0;
  for (; i < npage; i++) {
    const at = iova + PAGE_SIZE * i;
    const dma = st.dmas.find(at, PAGE_SIZE);
    if (!dma) break;
    unpinPageExternal(st, dma, at, doAccounting);
  }
  if (i !== npage) st.counters.warn("vfio_unpin_pages: range not mapped");
}

/**
 * `vfio_iommu_type1_dma_rw`: an emulated device reads or writes guest memory through the
 * container's mappings, chunk by chunk per vfio_dma. 0 or -errno (-EFAULT when a copy
 * faults); writes mark the pages dirty while tracking.
 */
export function vfioIommuType1DmaRw(
  st: VfioIommuState,
  iova: number,
  data: Uint8Array,
  write: boolean,
): number {
  if (st.vaddrInvalidCount) {
    st.counters.warn("vfio_dma_rw not allowed with VFIO_UPDATE_VADDR");
    return negErrno("EBUSY");
  }
  let done = 0;
  while (done < data.length) {
    const at = iova + done;
    const dma = st.dmas.find(at, 1);
    if (!dma) return negErrno("EINVAL");
    if ((write && !(dma.prot & IOMMU_WRITE)) || !(dma.prot & IOMMU_READ)) return negErrno("EPERM");
    const offset = at - dma.iova;
    const count = Math.min(data.length - done, dma.size - offset);
    const chunk = data.subarray(done, done + count);
    const vaddr = dma.vaddr + offset;
    // copy_*_user either copies everything or counts as nothing copied.
    const left = write ? st.mm.memory.copyToUser(vaddr, chunk) : st.mm.memory.copyFromUser(chunk, vaddr);
    if (left) return negErrno("EFAULT");
    if (write && st.dirtyPageTracking) {
      const pg = st.minPageSize;
      const first = Math.floor(offset / pg);
      bitmapSet(dma.bitmap!, first, Math.floor((offset + count - 1) / pg) - first + 1);
    }
    done += count;
  }
  return 0;
}
