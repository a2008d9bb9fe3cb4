/**
 * drivers/iommu/generic_pt/ (+ include/linux/generic_pt/): the generic page-table framework and
 * its amdv1, vtdss, x86_64 and riscv formats, and the iommufd selftest's amdv1_mock. The public surface, by kernel seam.
 */

// Domains and the ops drivers compose (include/linux/generic_pt/iommu.h).
export {
  type CreatePtDomainOptions,
  createPtDomain,
  PtDomain,
  type PtDomainOps,
  type PtIommu,
  ptDirtyOps,
  ptDomainOps,
} from "./domain.js";
// Feature bits (include/linux/generic_pt/common.h).
export {
  COMMON_FEATURE_NAMES,
  featureBit,
  featureList,
  featureName,
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FMT_START,
  PT_FEAT_FULL_VA,
  PT_FEAT_RISCV_SVNAPOT_64K,
  PT_FEAT_SIGN_EXTEND,
  PT_FEAT_VTDSS_FORCE_COHERENCE,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
  PT_FEAT_X86_64_AMD_ENCRYPT_TABLES,
} from "./features.js";
// The formats (fmt/*.h) and their registry.
export {
  AMDV1,
  AMDV1_MOCK,
  PT_FORMAT_DEFAULTS,
  PT_FORMAT_NAMES,
  PT_FORMATS,
  type PtFormatName,
  ptFormatOf,
  RISCV,
  VTDSS,
  X86_64,
} from "./formats/index.js";
// Table init (iommu_pt.h pt_iommu_<fmt>_init).
export { ptIommuInit } from "./init.js";
// Inspection (model-only; core's PageTableInspector).
export { PtInspector, type PtPteInfo, type PtWalkStep, ptWalkSteps } from "./inspector.js";
// The format API (pt_common.h) and definitions (pt_defs.h).
export type { PtEntryLayout, PtFormat, PtFormatDefaults, PtKunitCfg } from "./pt-common.js";
export {
  IncoherentStats,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtAttrs,
  type PtCommonInit,
  type PtDriverHooks,
  type PtEntryType,
  type PtHwInfoField,
  type PtIommuConfig,
} from "./pt-defs.js";
// The table (struct pt_iommu + pt_common).
export { PtTable } from "./pt-table.js";
