// drivers/iommu/iommufd/vfio_compat.c: the VFIO type1 container ioctls on /dev/iommu, acting
// on the compat IOAS (IOMMU_VFIO_IOAS). Type1 v1 is emulated by disabling large pages so that
// unmaps may cut areas (iopt_cut_iova); v2 keeps iommufd's whole-area rule (-ENOENT).
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, normalizeAddr, toBigInt } from "@iommu/core";
import type { Iommufd, IommufdIoas } from "./iommufd.js";
import {
  IOVA_MAX,
  ioptCutIova,
  ioptDisableLargePages,
  ioptMapUserPages,
  ioptUnmapAll,
  ioptUnmapIova,
} from "./iopt.js";

/** `enum iommufd_vfio_ioas_op` */
export const IOMMU_VFIO_IOAS_GET = 0;
export const IOMMU_VFIO_IOAS_SET = 1;
export const IOMMU_VFIO_IOAS_CLEAR = 2;
/** include/uapi/linux/vfio.h */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
export const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;

const EFAULT = -14;
const EINVAL = -22;
const ENODEV = -19;
const EOPNOTSUPP = -95;
const EOVERFLOW = -75;

/** `struct iommu_vfio_ioas` */
export interface IommuVfioIoas {
  op: number;
  ioasId: number;
  reserved?: number;
}

/** `struct vfio_iommu_type1_dma_map` (minsz 32) */
export interface VfioCompatDmaMap {
  argsz: number;
  flags: number;
  vaddr: number | bigint;
  iova: number | bigint;
  size: number | bigint;
}

/** `struct vfio_iommu_type1_dma_unmap` (minsz 24); `size` is written back. */
export interface VfioCompatDmaUnmap {
  argsz: number;
  flags: number;
  iova: number | bigint;
  size: number | bigint;
}

/** `get_compat_ioas`: -ENODEV without one. */
function compatIoas(ictx: Iommufd): IommufdIoas | number {
  return ictx.vfioIoas ?? ENODEV;
}

/** IOMMU_VFIO_IOAS: get / set / clear the compat IOAS. */
export function iommufdVfioIoas(ictx: Iommufd, cmd: IommuVfioIoas): number {
  if (cmd.reserved) return EOPNOTSUPP;
  switch (cmd.op) {
    case IOMMU_VFIO_IOAS_GET: {
      const ioas = compatIoas(ictx);
      if (typeof ioas === "number") return ioas;
      cmd.ioasId = ioas.id;
      return 0;
    }
    case IOMMU_VFIO_IOAS_SET: {
      const ioas = ictx.ioas(cmd.ioasId);
      if (typeof ioas === "number") return ioas;
      ictx.vfioIoas = ioas;
      return 0;
    }
    case IOMMU_VFIO_IOAS_CLEAR:
      ictx.vfioIoas = null;
      return 0;
    default:
      return EOPNOTSUPP;
  }
}

/** VFIO_SET_IOMMU: type1 v1 disables large pages on the compat IOAS. */
export function iommufdVfioSetIommu(ictx: Iommufd, type: number): number {
  if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU) return EINVAL;
  const ioas = compatIoas(ictx);
  if (typeof ioas === "number") return ioas;
  return type === VFIO_TYPE1_IOMMU ? ioptDisableLargePages(ictx, ioas.iopt) : 0;
}

/** A u64 field as an `unsigned long` (exact to 2^64 − 1), or null when it does not fit. */
function u64(v: number | bigint): bigint | null {
  const b = toBigInt(v);
  return b < 0n || b > IOVA_MAX ? null : b;
}

/** VFIO_IOMMU_MAP_DMA: a fixed-IOVA map on the compat IOAS. */
export function iommufdVfioMapDma(ictx: Iommufd, map: VfioCompatDmaMap): number {
  if (map.argsz < 32 || map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) return EINVAL;
  let prot = IOMMU_CACHE;
  if (map.flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
  if (map.flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
  const ioas = compatIoas(ictx);
  if (typeof ioas === "number") return ioas;
  const iova = u64(map.iova);
  const size = u64(map.size);
  const vaddr = u64(map.vaddr);
  if (iova === null || size === null) return EOVERFLOW;
  if (vaddr === null) return EFAULT;
  return ioptMapUserPages(ictx, ioas.iopt, { iova }, vaddr, size, prot, 0);
}

/**
 * VFIO_IOMMU_UNMAP_DMA: unmap-all needs iova = size = 0; with large pages disabled (type1 v1)
 * the range's ends are cut first, so a partial unmap succeeds; otherwise whole areas only.
 */
export function iommufdVfioUnmapDma(ictx: Iommufd, unmap: VfioCompatDmaUnmap): number {
  if (unmap.argsz < 24 || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL) return EINVAL;
  const ioas = compatIoas(ictx);
  if (typeof ioas === "number") return ioas;
  const out = { unmapped: 0n };
  let rc: number;
  if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
    if (toBigInt(unmap.iova) !== 0n || toBigInt(unmap.size) !== 0n) return EINVAL;
    rc = ioptUnmapAll(ictx, ioas.iopt, out);
  } else {
    const iova = u64(unmap.iova);
    const size = u64(unmap.size);
    if (iova === null || size === null) return EOVERFLOW;
    rc = 0;
    if (ioas.iopt.disableLargePages)
      rc = ioptCutIova(
        ictx,
        ioas.iopt,
        iova ? [(iova + size - 1n) & IOVA_MAX, iova - 1n] : [(size - 1n) & IOVA_MAX],
      );
    if (!rc) rc = ioptUnmapIova(ictx, ioas.iopt, iova, size, out);
  }
  unmap.size = normalizeAddr(out.unmapped);
  return rc;
}
