/**
 * The VFIO type1 user ABI (include/uapi/linux/vfio.h) as far as the model uses it: ioctl
 * argument records, flag bits and the `argsz` the kernel checks against.
 */
import type { Addr } from "@iommu/core";

/** `VFIO_TYPE1_IOMMU` / `VFIO_TYPE1v2_IOMMU`: the `arg` of VFIO_SET_IOMMU (our `open`). */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
/** Extensions answered by VFIO_CHECK_EXTENSION. */
export const VFIO_DMA_CC_IOMMU = 4;
export const __VFIO_RESERVED_TYPE1_NESTING_IOMMU = 6;
export const VFIO_UPDATE_VADDR = 10;
export const VFIO_UNMAP_ALL = 9;

/** `struct vfio_iommu_type1_dma_map.flags` */
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
export const VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;

/** `struct vfio_iommu_type1_dma_unmap.flags` */
export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
export const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
export const VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;

/** `struct vfio_iommu_type1_dirty_bitmap.flags` (VFIO_IOMMU_DIRTY_PAGES) */
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1 << 0;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 1 << 1;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2;
/** `offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags)` */
export const VFIO_DIRTY_PAGES_MINSZ = 8;
/** `sizeof(struct vfio_iommu_type1_dirty_bitmap_get)`: iova, size, struct vfio_bitmap. */
export const VFIO_DIRTY_BITMAP_GET_SIZE = 40;

/** `struct vfio_iommu_type1_info.flags` */
export const VFIO_IOMMU_INFO_PGSIZES = 1 << 0;
export const VFIO_IOMMU_INFO_CAPS = 1 << 1;

/** Capability ids chained behind `struct vfio_iommu_type1_info`. */
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

/** `sizeof(struct vfio_iommu_type1_dma_map)`: argsz u32, flags u32, vaddr, iova, size u64. */
export const VFIO_DMA_MAP_ARGSZ = 32;
/** `sizeof(struct vfio_iommu_type1_dma_unmap)` without the trailing bitmap. */
export const VFIO_DMA_UNMAP_ARGSZ = 24;
/** `sizeof(struct vfio_bitmap)`: pgsize, size, data pointer. */
export const VFIO_BITMAP_SIZE = 24;
/** `offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)` */
export const VFIO_IOMMU_INFO_MINSZ = 16;

/**
 * `DIRTY_BITMAP_SIZE_MAX`: bitmap_set() takes an int, so at most INT_MAX pages, rounded to
 * u64 words, in bytes.
 */
export const DIRTY_BITMAP_PAGES_MAX = 0x7fffffff;
export const DIRTY_BITMAP_SIZE_MAX = (Math.ceil(DIRTY_BITMAP_PAGES_MAX / 64) * 64) / 8;

/** `struct vfio_iommu_type1_dma_map` (VFIO_IOMMU_MAP_DMA). */
export interface VfioDmaMap {
  /** Defaults to {@link VFIO_DMA_MAP_ARGSZ}. */
  argsz?: number;
  flags: number;
  vaddr: Addr;
  iova: Addr;
  size: Addr;
}

/** `struct vfio_bitmap` appended to an unmap request with GET_DIRTY_BITMAP. */
export interface VfioBitmap {
  pgsize: Addr;
  /** Bytes available at `data`. */
  size: Addr;
  /** Receives the dirty bits (u64 words). */
  data?: BigUint64Array;
}

/**
 * `struct vfio_iommu_type1_dma_unmap` (VFIO_IOMMU_UNMAP_DMA). On success the kernel writes
 * the number of bytes unmapped back into `size`; the model does the same.
 */
export interface VfioDmaUnmap {
  /** Defaults to {@link VFIO_DMA_UNMAP_ARGSZ} (+ {@link VFIO_BITMAP_SIZE} with a bitmap). */
  argsz?: number;
  flags: number;
  iova: Addr;
  size: Addr;
  bitmap?: VfioBitmap;
}

/** `struct vfio_iommu_type1_dirty_bitmap` (+ the GET_BITMAP range behind it). */
export interface VfioDirtyBitmap {
  /** Defaults to {@link VFIO_DIRTY_PAGES_MINSZ} (+ {@link VFIO_DIRTY_BITMAP_GET_SIZE} with a range). */
  argsz?: number;
  flags: number;
  range?: { iova: Addr; size: Addr; bitmap: VfioBitmap };
}

/** One `struct vfio_iova_range` of the IOVA_RANGE capability (inclusive end). */
export interface VfioIovaRange {
  start: bigint;
  end: bigint;
}

/** `struct vfio_iommu_type1_info` with its capability chain decoded. */
export interface VfioIommuInfo {
  flags: number;
  /** `iova_pgsizes`: the container's pgsize_bitmap (a number below 2^64, exact). */
  iovaPgsizes: number;
  migration: { flags: number; pgsizeBitmap: number; maxDirtyBitmapSize: number };
  dmaAvail: number;
  /** Absent when the container has no IOVA window yet (no domain attached). */
  iovaRanges?: VfioIovaRange[];
}
