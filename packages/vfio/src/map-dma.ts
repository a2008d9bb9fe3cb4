/**
 * VFIO_IOMMU_MAP_DMA (`vfio_iommu_type1_map_dma` → `vfio_dma_do_map` → `vfio_pin_map_dma`):
 * validation in kernel order, then pin contiguous chunks and map each into every domain.
 */
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, negErrno, PAGE_SIZE, toBigInt } from "@iommu/core";
import { dmaBitmapAlloc } from "./dirty.js";
import { VfioDma } from "./dma.js";
import { iovaDmaValid } from "./iova-list.js";
import { batchUnpin, PfnOut, pinPagesRemote, unpinPagesRemote, VfioBatch } from "./pin.js";
import { U64_MAX, type VfioIommuState } from "./state.js";
import {
  VFIO_DMA_MAP_ARGSZ,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  type VfioDmaMap,
} from "./uapi.js";

function isAligned(x: bigint, pgsize: bigint): boolean {
  return (x & (pgsize - 1n)) === 0n;
}

/** `VFIO_IOMMU_MAP_DMA` (`vfio_iommu_type1_map_dma` → `vfio_dma_do_map`): 0 or -errno. */
export function vfioDmaDoMap(st: VfioIommuState, map: VfioDmaMap): number {
  const argsz = map.argsz ?? VFIO_DMA_MAP_ARGSZ;
  const mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;
  if (argsz < VFIO_DMA_MAP_ARGSZ || map.flags & ~mask) return negErrno("EINVAL");
  const setVaddr = (map.flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0;
  const iova = toBigInt(map.iova);
  const vaddr = toBigInt(map.vaddr);
  const size = toBigInt(map.size);
  if (iova < 0n || vaddr < 0n || size < 0n || iova > U64_MAX || vaddr > U64_MAX || size > U64_MAX)
    return negErrno("EOVERFLOW");
  if (size === 0n) return negErrno("EINVAL");
  if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) return negErrno("EOVERFLOW");
  let prot = 0;
  if (map.flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
  if (map.flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
  if ((prot && setVaddr) || (!prot && !setVaddr)) return negErrno("EINVAL");
  const pgsize = BigInt(st.minPageSize);
  if (!isAligned(size | iova | vaddr, pgsize)) return negErrno("EINVAL");

  // Page aligned from here on: exact as numbers.
  const iovaN = Number(iova);
  const sizeN = Number(size);
  const vaddrN = Number(vaddr);
  const found = st.dmas.find(iovaN, sizeN);
  if (setVaddr) {
    if (!found) return negErrno("ENOENT");
    if (!found.vaddrInvalid || found.iova !== iovaN || found.size !== sizeN) return negErrno("EINVAL");
    // vfio_change_dma_owner: same mm in this single-process model, nothing to move.
    found.vaddr = vaddrN;
    found.vaddrInvalid = false;
    st.vaddrInvalidCount--;
    return 0;
  }
  if (found) return negErrno("EEXIST");
  if (!st.dmaAvail) return negErrno("ENOSPC");
  if (!iovaDmaValid(st.iovaList, iova, iova + size - 1n)) return negErrno("EINVAL");

  st.dmaAvail--;
  const dma = new VfioDma(iovaN, vaddrN, prot, st.mm.capIpcLock);
  st.dmas.link(dma);
  let ret = 0;
  if (st.domainList.length === 0) dma.size = sizeN;
  else ret = pinMapDma(st, dma, sizeN);
  if (!ret && st.dirtyPageTracking) {
    ret = dmaBitmapAlloc(dma, st.minPageSize);
    if (ret) st.removeDma(dma);
  }
  return ret;
}

/** `vfio_pin_map_dma`: pin contiguous chunks and map each into every domain. */
function pinMapDma(st: VfioIommuState, dma: VfioDma, mapSize: number): number {
  const batch = new VfioBatch(st.disableHugepages);
  const pfn = new PfnOut();
  const limit = st.memlockLimit;
  let size = mapSize;
  let ret = 0;
  while (size) {
    const npage = pinPagesRemote(st, dma, dma.vaddr + dma.size, size / PAGE_SIZE, pfn, limit, batch);
    if (npage <= 0) {
      if (npage === 0) st.counters.warn("vfio_pin_map_dma: pinned nothing (WARN_ON(!npage))");
      ret = npage;
      break;
    }
    ret = iommuMapAll(st, dma.iova + dma.size, pfn.value, npage, dma.prot);
    if (ret) {
      unpinPagesRemote(st, dma, dma.iova + dma.size, pfn.value, npage, true);
      batchUnpin(st, batch);
      break;
    }
    size -= npage * PAGE_SIZE;
    dma.size += npage * PAGE_SIZE;
  }
  dma.iommuMapped = true;
  if (ret) st.removeDma(dma);
  return ret;
}

/** `vfio_iommu_map`: one iommu_map() per domain; a failure unmaps the domains already done. */
function iommuMapAll(st: VfioIommuState, iova: number, pfn: number, npage: number, prot: number): number {
  const list = st.domainList;
  for (let i = 0; i < list.length; i++) {
    const ret = st.calls.map(list[i]!.domain, iova, pfn * PAGE_SIZE, npage * PAGE_SIZE, prot | IOMMU_CACHE);
    if (ret) {
      for (let j = i - 1; j >= 0; j--) st.calls.unmap(list[j]!.domain, iova, npage * PAGE_SIZE);
      return ret;
    }
  }
  return 0;
}
