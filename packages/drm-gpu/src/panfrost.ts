/**
 * drivers/gpu/drm/panfrost: `@iommu/drm-gpu/panfrost` — the Midgard/Bifrost GPU MMU model:
 * per-address-space io-pgtable (ARM_MALI_LPAE, or ARM_64_LPAE_S1 with
 * GPU_QUIRK_FORCE_AARCH64_PGTABLE), BO mapping over scatter-gather tables, heap BOs grown on
 * GPU fault, and the unmap with its per-step lookups (legacy or length-aware).
 */
// What a driver's user needs besides the driver: BOs, their memory, the MMU registers.
export { GpuBo, type GpuBoOptions } from "./gem.js";
export { type BackingKind, GpuMemory, type GpuMemoryOptions } from "./gpu-memory.js";
export { type AsCommandCounts, GpuMmuHw } from "./gpu-mmu-hw.js";
export type { LookupMode } from "./lookup-mode.js";
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
} from "./panfrost/panfrost-mmu.js";
