/**
 * @iommu/vfio: the VFIO type1 IOMMU backend (drivers/vfio/vfio_iommu_type1.c). A caller of the
 * IOMMU core: a group is attached with the `IommuDriver` (@iommu/core) behind its device, and
 * the container asks that driver for the group's paging domain.
 */
// The container (vfio_iommu_driver_ops_type1) and its options.
export { UNMAP_MODES, type UnmapMode, type VfioDomain, type VfioIommuGroup } from "./context.js";
export { type VfioCounterSnapshot, VfioCounters } from "./counters.js";
export type { IommuResvRegion, IommuResvType, IovaWindow } from "./iova-list.js";
// The user process: memory, GUP, locked_vm.
export { RLIM_INFINITY, UserMm, type UserMmOptions } from "./mm.js";
export { USER_PHYS_BASE, USER_PHYS_END } from "./phys-slots.js";
export { VFIO_BATCH_MAX_CAPACITY } from "./pin.js";
export { protName } from "./prot.js";
export { SplitMix64 } from "./splitmix64.js";
// include/uapi/linux/vfio.h
export {
  __VFIO_RESERVED_TYPE1_NESTING_IOMMU,
  DIRTY_BITMAP_PAGES_MAX,
  DIRTY_BITMAP_SIZE_MAX,
  VFIO_BITMAP_SIZE,
  VFIO_DIRTY_BITMAP_GET_SIZE,
  VFIO_DIRTY_PAGES_MINSZ,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_ARGSZ,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_ARGSZ,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_MINSZ,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
  type VfioBitmap,
  type VfioDirtyBitmap,
  type VfioDmaMap,
  type VfioDmaUnmap,
  type VfioIommuInfo,
  type VfioIovaRange,
} from "./uapi.js";
export { VFIO_IOMMU_TLB_SYNC_MAX } from "./unmap-unpin.js";
export {
  chunkSizeOf,
  type LayoutPiece,
  MEM_KINDS,
  type MemKind,
  MemRegion,
  type MemRegionSpec,
  UserMemory,
  UserMemoryError,
} from "./user-memory.js";
export {
  DEFAULT_DMA_ENTRY_LIMIT,
  PAGE_MASK_BITMAP,
  type VfioAttachOptions,
  type VfioDmaInfo,
  type VfioEmulatedDevice,
  VfioIommu,
  type VfioIommuOptions,
} from "./vfio-iommu.js";
