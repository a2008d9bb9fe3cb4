/**
 * `vfio_unmap_unpin`: take a vfio_dma out of every domain and unpin its pages. The first
 * domain is the record of what is pinned: its runs are found by reading it back
 * ({@link RunScanner}), unmapped with iommu_unmap_fast() into one gather and unpinned after
 * each iommu_iotlb_sync(), at most VFIO_IOMMU_TLB_SYNC_MAX regions per sync.
 */
import { IotlbGather, PAGE_SIZE } from "@iommu/core";
import type { Type1Context, VfioDomain } from "./context.js";
import type { VfioDma } from "./dma.js";
import { unpinPagesRemote, vfioLockAcct } from "./pin.js";
import { RunScanner } from "./run-scanner.js";

/** `VFIO_IOMMU_TLB_SYNC_MAX`: fast-unmapped regions queued per IOTLB sync. */
export const VFIO_IOMMU_TLB_SYNC_MAX = 512;

/** The pending list of unmapped-but-not-unpinned regions (`struct vfio_regions`). */
class PendingRegions {
  readonly iova: number[] = [];
  readonly phys: number[] = [];
  readonly len: number[] = [];
  count = 0;

  push(iova: number, phys: number, len: number): void {
    this.iova[this.count] = iova;
    this.phys[this.count] = phys;
    this.len[this.count] = len;
    this.count++;
  }
}

/** `vfio_sync_unpin`: sync the gather, then unpin every queued region (no accounting). */
function syncUnpin(
  ctx: Type1Context,
  dma: VfioDma,
  domain: VfioDomain,
  q: PendingRegions,
  g: IotlbGather,
): number {
  ctx.calls.sync(domain.domain, g);
  let unlocked = 0;
  for (let i = 0; i < q.count; i++)
    unlocked += unpinPagesRemote(ctx, dma, q.iova[i]!, q.phys[i]! / PAGE_SIZE, q.len[i]! / PAGE_SIZE, false);
  q.count = 0;
  return unlocked;
}

/**
 * Unmap and unpin `dma`; returns the pages unpinned, or 0 after uncharging them itself when
 * `doAccounting` is set.
 */
export function vfioUnmapUnpin(ctx: Type1Context, dma: VfioDma, doAccounting: boolean): number {
  if (!dma.size) return 0;
  const list = ctx.domainList;
  if (list.length === 0) return 0;
  const domain = list[0]!;
  // The other domains must lose their translations before any page is unpinned.
  for (let i = 1; i < list.length; i++) ctx.calls.unmap(list[i]!.domain, dma.iova, dma.size);

  const gather = new IotlbGather();
  const queue = new PendingRegions();
  const scan = new RunScanner(ctx.calls, ctx.unmapMode, ctx.counters);
  scan.begin(domain.domain, dma.iova, dma.size, true);
  let unlocked = 0;
  let pos = 0;
  while (pos < dma.size) {
    if (!scan.at(pos)) {
      pos += scan.skip;
      continue;
    }
    const iova = dma.iova + pos;
    const { len, phys } = scan;
    // unmap_unpin_fast (its kzalloc never fails here)
    let unmapped = ctx.calls.unmapFast(domain.domain, iova, len, gather);
    // A driver's errno returned through size_t would send the kernel's pos backwards; the
    // model takes the run as unmapped instead of looping.
    if (unmapped < 0) unmapped = len;
    if (unmapped) queue.push(iova, phys, unmapped);
    if (queue.count >= VFIO_IOMMU_TLB_SYNC_MAX || !unmapped)
      unlocked += syncUnpin(ctx, dma, domain, queue, gather);
    if (!unmapped) {
      // unmap_unpin_slow
      unmapped = ctx.calls.unmap(domain.domain, iova, len);
      if (unmapped < 0) unmapped = len;
      if (unmapped)
        unlocked += unpinPagesRemote(ctx, dma, iova, phys / PAGE_SIZE, unmapped / PAGE_SIZE, false);
      else {
        ctx.counters.warn("vfio_unmap_unpin: unmap made no progress (WARN_ON(!unmapped))");
        break;
      }
    }
    pos += unmapped;
  }
  dma.iommuMapped = false;
  if (queue.count) unlocked += syncUnpin(ctx, dma, domain, queue, gather);
  if (doAccounting) {
    vfioLockAcct(ctx, dma, -unlocked);
    return 0;
  }
  return unlocked;
}
