/**
 * drivers/iommu/sprd-iommu.c: @iommu/drivers-sprd's public surface — the IOMMU instance (an
 * IommuDriver), its domains and their ops, the flat table's constants, the inspector and the
 * strict-mode quirk error, the run lookup and the IOTLB feed.
 */

// The table format.
export {
  SPRD_APERTURE_END,
  SPRD_EX_REGS,
  SPRD_IOMMU_PAGE_SHIFT,
  SPRD_IOMMU_PAGE_SIZE,
  SPRD_PGT_ENTRIES,
  SPRD_PGT_SIZE,
  SPRD_VAU_REGS,
  type SprdIommuVersion,
  type SprdRegs,
  sprdMkEntry,
} from "./defs.js";
// The driver instance.
export { type SprdDomainAllocOptions, SprdIommu, type SprdIommuOptions } from "./driver.js";
// Inspection.
export { createSprdInspector, SprdInspector, type SprdTableParams } from "./inspect.js";
// The IOTLB feed (issue 17): the TLB clears, decoded for the core's IOTLB model.
export { type SprdIotlbFeedOptions, sprdDecodeWrite, sprdIotlbFeed, sprdIotlbModel } from "./iotlb.js";
export { type SprdQuirk, SprdQuirkError } from "./quirks.js";
// The run lookup (issue 17).
export { sprdIommuIovaToPhysRuns } from "./runs.js";
// Domains and their ops.
export {
  createSprdDomainOps,
  SprdDomain,
  sprdIommuDomainFree,
  sprdIommuIovaToPhysLength,
  sprdIommuMap,
  sprdIommuSyncMap,
  sprdIommuUnmap,
} from "./sprd-iommu.js";
export { SprdTlbLog, type SprdTlbWrite } from "./tlb-log.js";
