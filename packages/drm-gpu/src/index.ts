/**
 * drivers/gpu/drm/{panfrost,panthor}: @iommu/drm-gpu's public surface — the two GPU drivers
 * that drive io-pgtable directly (also published alone as `@iommu/drm-gpu/panfrost` and
 * `@iommu/drm-gpu/panthor`) and what they share: buffer objects and their memory, sg tables,
 * `get_pgsize()`, the AS registers and their command counts, and the lookup mode.
 */

// Buffer objects, their pages and sg tables.
export { GpuBo, type GpuBoOptions } from "./gem.js";
// get_pgsize(), shared by both drivers.
export { alignBits, getPgsize, PgCount } from "./get-pgsize.js";
export { type BackingKind, GpuMemory, type GpuMemoryOptions, GpuPages } from "./gpu-memory.js";
// The GPU's MMU registers.
export {
  type AsCommandCounts,
  type AsCommandLogEntry,
  type AsRegs,
  GpuMmuHw,
  type GpuMmuHwOptions,
} from "./gpu-mmu-hw.js";
// The GPU MMU's AS commands for the core's IOTLB model (issue 17).
export { type GpuMmuIotlbFeedOptions, gpuIotlbDomain, gpuMmuIotlbFeed, gpuMmuIotlbModel } from "./iotlb.js";
export type { LookupMode } from "./lookup-mode.js";
export {
  AS_COMMAND_FLUSH_MEM,
  AS_COMMAND_FLUSH_PT,
  AS_COMMAND_LOCK,
  AS_COMMAND_NOP,
  AS_COMMAND_UNLOCK,
  AS_COMMAND_UPDATE,
  AS_LOCK_REGION_MIN_SIZE,
  AS_TRANSCFG_ADRMODE_AARCH64_4K,
  AS_TRANSCFG_ADRMODE_LEGACY,
  AS_TRANSCFG_ADRMODE_UNMAPPED,
  AS_TRANSCFG_PTW_MEMATTR_WB,
  AS_TRANSCFG_PTW_RA,
  AS_TRANSCFG_PTW_SH_OS,
  AS_TRANSTAB_AARCH64_4K_ADDR_MASK,
  asTranscfgInaBits,
  gpuMmuFeaturesPaBits,
  gpuMmuFeaturesVaBits,
  type LockRegion,
  lockRegion,
  mairToMemattr,
} from "./mmu-regs.js";
// panfrost (also `@iommu/drm-gpu/panfrost`).
export {
  mmuMapSg,
  NUM_FAULT_PAGES,
  PANFROST_VA_END,
  PANFROST_VA_START,
  PanfrostDevice,
  type PanfrostDeviceOptions,
  PanfrostGemMapping,
  type PanfrostGemOpenOptions,
  PanfrostMmu,
  panfrostGemClose,
  panfrostGemOpen,
  panfrostMmuAsGet,
  panfrostMmuAsPut,
  panfrostMmuCtxCreate,
  panfrostMmuCtxPut,
  panfrostMmuFlushRange,
  panfrostMmuMap,
  panfrostMmuMapFaultAddr,
  panfrostMmuPageFault,
  panfrostMmuUnmap,
} from "./panfrost.js";
// panthor (also `@iommu/drm-gpu/panthor`).
export {
  DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC,
  DRM_PANTHOR_VM_BIND_OP_MAP_READONLY,
  DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MASK,
  DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  drmGpuvmSmMap,
  drmGpuvmSmUnmap,
  flagsToProt,
  type GpuVa,
  type GpuVaPiece,
  type GpuvmSteps,
  iovaMappedAsHugePage,
  mapPtCount,
  PanthorDevice,
  type PanthorDeviceOptions,
  PanthorPtAllocator,
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
  type RsvdPageTables,
  unmapHugepageAlign,
  unmapPtCount,
} from "./panthor.js";
export { SG_MAX_SEGMENT, SgTable, sgAllocTableFromPages } from "./sg-table.js";
