/**
 * VFIO_IOMMU_UNMAP_DMA (`vfio_iommu_type1_unmap_dma` → `vfio_dma_do_unmap`): argument and
 * dirty-bitmap checks, the v2 no-bisect rule or v1's compatibility scan, VADDR invalidation,
 * device notification for mdev pins, then whole vfio_dmas removed.
 */
import { ffs, negErrno, PAGE_SIZE, toBigInt } from "@iommu/core";
import { allDirty, updateUserBitmap, userBitmap, verifyBitmapSize } from "./dirty.js";
import type { VfioDma } from "./dma.js";
import { U64_MAX, type VfioIommuState } from "./state.js";
import {
  VFIO_BITMAP_SIZE,
  VFIO_DMA_UNMAP_ARGSZ,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  type VfioDmaUnmap,
} from "./uapi.js";

/**
 * `VFIO_IOMMU_UNMAP_DMA` (`vfio_iommu_type1_unmap_dma` → `vfio_dma_do_unmap`): 0 or
 * -errno; on success `unmap.size` is set to the bytes unmapped (always whole mappings).
 */
export function vfioIommuType1UnmapDma(st: VfioIommuState, unmap: VfioDmaUnmap): number {
  const mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
  const getDirty = (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0;
  const argsz = unmap.argsz ?? VFIO_DMA_UNMAP_ARGSZ + (getDirty ? VFIO_BITMAP_SIZE : 0);
  if (argsz < VFIO_DMA_UNMAP_ARGSZ || unmap.flags & ~mask) return negErrno("EINVAL");
  if (getDirty && unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR))
    return negErrno("EINVAL");
  const iova = toBigInt(unmap.iova);
  const size = toBigInt(unmap.size);
  if (iova < 0n || size < 0n || iova > U64_MAX || size > U64_MAX) return negErrno("EOVERFLOW");
  let bitmapPgsize = 0n;
  if (getDirty) {
    const bm = unmap.bitmap;
    if (argsz < VFIO_DMA_UNMAP_ARGSZ + VFIO_BITMAP_SIZE || !bm) return negErrno("EINVAL");
    bitmapPgsize = toBigInt(bm.pgsize);
    if (bitmapPgsize <= 0n) return negErrno("EINVAL");
    if (!verifyBitmapSize(size >> BigInt(ffs(Number(bitmapPgsize & -bitmapPgsize))), toBigInt(bm.size)))
      return negErrno("EINVAL");
  }
  const r = doUnmap(st, unmap.flags, iova, size, getDirty ? userBitmap(unmap.bitmap!) : null, bitmapPgsize);
  if (r.ret) return r.ret;
  unmap.size = r.unmapped;
  return 0;
}

function doUnmap(
  st: VfioIommuState,
  flags: number,
  iova: bigint,
  size: bigint,
  user: Uint32Array | null,
  bitmapPgsize: bigint,
): { ret: number; unmapped: number } {
  const getDirty = user !== null;
  const unmapAll = (flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0;
  const invalidateVaddr = (flags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0;
  const fail = (ret: number) => ({ ret, unmapped: 0 });
  // mdev devices cannot pin or access memory while a vaddr is being replaced.
  if (invalidateVaddr && st.emulatedGroups.length) return fail(negErrno("EBUSY"));
  const pgsize = BigInt(st.minPageSize);
  if (iova & (pgsize - 1n)) return fail(negErrno("EINVAL"));
  let endExcl: number;
  if (unmapAll) {
    if (iova || size) return fail(negErrno("EINVAL"));
    endExcl = 2 ** 64;
  } else {
    if (!size || size & (pgsize - 1n)) return fail(negErrno("EINVAL"));
    if (iova + size - 1n > U64_MAX) return fail(negErrno("EOVERFLOW"));
    endExcl = Number(iova + size);
  }
  if (getDirty && (!st.dirtyPageTracking || bitmapPgsize !== pgsize)) return fail(negErrno("EINVAL"));
  const start = Number(iova);
  let unmapped = 0;
  let dmaLast: VfioDma | undefined;
  let retries = 0;
  again: for (;;) {
    if (st.v2 && !unmapAll) {
      // v2: the range may not bisect a mapping at either end.
      let dma = st.dmas.find(start, 1);
      if (dma && dma.iova !== start) return fail(negErrno("EINVAL"));
      dma = st.dmas.find(endExcl - PAGE_SIZE, PAGE_SIZE);
      if (dma && dma.end !== endExcl) return fail(negErrno("EINVAL"));
    }
    const first = st.dmas.firstNode(start, endExcl);
    if (first < 0) break;
    let n = first;
    while (n < st.dmas.length) {
      const dma = st.dmas.items[n]!;
      if (dma.iova >= endExcl) break;
      // v1 compatibility: a mapping starting below the request ends the scan.
      if (!st.v2 && start > dma.iova) break;
      if (invalidateVaddr) {
        if (dma.vaddrInvalid) {
          for (let i = first; i < n; i++) {
            st.dmas.items[i]!.vaddrInvalid = false;
            st.vaddrInvalidCount--;
          }
          return fail(negErrno("EINVAL"));
        }
        dma.vaddrInvalid = true;
        st.vaddrInvalidCount++;
        unmapped += dma.size;
        n++;
        continue;
      }
      if (dma.pfnList.size) {
        // Devices must drop their pins first; then the whole scan starts over.
        if (dmaLast === dma) {
          if (++retries > 10) {
            // BUG_ON(++retries > 10): the model stops instead of crashing.
            st.counters.bugs++;
            return fail(negErrno("EBUSY"));
          }
        } else {
          dmaLast = dma;
          retries = 0;
        }
        notifyDmaUnmap(st, dma);
        continue again;
      }
      if (user) {
        const ret = updateUserBitmap(user, dma, start, Number(pgsize), allDirty(st, dma));
        if (ret) return { ret, unmapped };
      }
      unmapped += dma.size;
      st.removeDma(dma);
    }
    break;
  }
  return { ret: 0, unmapped };
}

/** `vfio_notify_dma_unmap`: every registered emulated device invalidates the range. */
function notifyDmaUnmap(st: VfioIommuState, dma: VfioDma): void {
  for (const dev of [...st.devices]) dev.dmaUnmap(dma.iova, dma.size);
}
