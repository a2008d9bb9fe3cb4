export type { UnmapMode, VfioDomain, VfioIommuGroup } from "./context.js";
export { UNMAP_MODES } from "./context.js";
export { type VfioCounterSnapshot, VfioCounters } from "./counters.js";
export type { IommuResvRegion, IommuResvType, IovaWindow } from "./iova-list.js";
export { RLIM_INFINITY, UserMm, type UserMmOptions } from "./mm.js";
export { SZ_1G, SZ_2M, SZ_4K, USER_PHYS_BASE, USER_PHYS_END } from "./phys-slots.js";
export { VFIO_BATCH_MAX_CAPACITY } from "./pin.js";
export { protName } from "./prot.js";
export * from "./script/index.js";
export { SplitMix64 } from "./splitmix64.js";
export * from "./uapi.js";
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
  type VfioDomainProvider,
  type VfioDomainRequest,
  type VfioEmulatedDevice,
  VfioIommu,
  type VfioIommuOptions,
} from "./vfio-iommu.js";
