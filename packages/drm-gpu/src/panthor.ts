/**
 * drivers/gpu/drm/panthor: `@iommu/drm-gpu/panthor` — the CSF GPU MMU model: VMs on
 * ARM_64_LPAE_S1 4K with the per-operation page-table reserve, VM_BIND map/unmap through
 * drm_gpuvm's split, the map rollback, the unmap error path (kernel quirk reproduced, `fixed`
 * option) and the huge-page remap (folio heuristic or leaf-size lookup).
 */
// What a driver's user needs besides the driver: BOs, their memory, the MMU registers.
export { GpuBo, type GpuBoOptions } from "./gem.js";
export { type BackingKind, GpuMemory, type GpuMemoryOptions } from "./gpu-memory.js";
export { type AsCommandCounts, GpuMmuHw } from "./gpu-mmu-hw.js";
export type { LookupMode } from "./lookup-mode.js";
export {
  drmGpuvmSmMap,
  drmGpuvmSmUnmap,
  type GpuVa,
  type GpuVaPiece,
  type GpuvmSteps,
} from "./panthor/gpuvm.js";
export {
  DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC,
  DRM_PANTHOR_VM_BIND_OP_MAP_READONLY,
  DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MASK,
  DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  flagsToProt,
  iovaMappedAsHugePage,
  mapPtCount,
  PanthorDevice,
  type PanthorDeviceOptions,
  PanthorVm,
  type PanthorVmBindOp,
  type PanthorVmOpCtx,
  type PanthorVmOptions,
  panthorVmActive,
  panthorVmBindExecSyncOp,
  panthorVmCleanupOpCtx,
  panthorVmCreate,
  panthorVmDeclareUnusable,
  panthorVmExecOp,
  panthorVmExpandRegion,
  panthorVmFree,
  panthorVmIdle,
  panthorVmLockRegion,
  panthorVmMapBoRange,
  panthorVmMapPages,
  panthorVmPrepareMapOpCtx,
  panthorVmPrepareUnmapOpCtx,
  panthorVmUnlockRegion,
  panthorVmUnmapPages,
  panthorVmUnmapRange,
  unmapHugepageAlign,
  unmapPtCount,
} from "./panthor/panthor-vm.js";
export { PanthorPtAllocator, type RsvdPageTables } from "./panthor/pt-allocator.js";
