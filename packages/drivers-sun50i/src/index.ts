/**
 * drivers/iommu/sun50i-iommu.c: @iommu/drivers-sun50i's public surface — the IOMMU instance
 * (an IommuDriver), its domains and their ops, the entry encodings with the ACI permissions,
 * the inspector, the strict-mode quirk error, the run lookup and the IOTLB feed.
 */

// The table format.
export {
  DT_SIZE,
  DTE_SPAN,
  NUM_DT_ENTRIES,
  NUM_PT_ENTRIES,
  PT_SIZE,
  SPAGE_SIZE,
  SUN50I_DTE_PT_ADDRESS_MASK,
  SUN50I_DTE_PT_ATTRS,
  SUN50I_DTE_PT_VALID,
  SUN50I_IOMMU_ACI_DO_NOT_USE,
  SUN50I_IOMMU_ACI_NONE,
  SUN50I_IOMMU_ACI_RD,
  SUN50I_IOMMU_ACI_RD_WR,
  SUN50I_IOMMU_ACI_WR,
  SUN50I_PGSIZE_BITMAP,
  SUN50I_PTE_ACI_MASK,
  SUN50I_PTE_PAGE_ADDRESS_MASK,
  SUN50I_PTE_PAGE_VALID,
  sun50iAciToProt,
  sun50iDteGetPtAddress,
  sun50iDteIsPtValid,
  sun50iGetPteAci,
  sun50iIovaGetDteIndex,
  sun50iIovaGetPteIndex,
  sun50iMkDte,
  sun50iMkPte,
  sun50iProtToAci,
  sun50iPteGetPageAddress,
  sun50iPteIsPageValid,
} from "./defs.js";
// The driver instance.
export { type Sun50iDomainAllocOptions, Sun50iIommu, type Sun50iIommuOptions } from "./driver.js";
// Inspection.
export { createSun50iInspector, Sun50iInspector, type Sun50iTableParams } from "./inspect.js";
// The IOTLB feed (issue 17): the TLB / PTW-cache maintenance, decoded for the core's IOTLB model.
export {
  type Sun50iInvalidationRegs,
  type Sun50iIotlbFeedOptions,
  sun50iDecodeAccess,
  sun50iIotlbFeed,
  sun50iIotlbModel,
} from "./iotlb.js";
export { type Sun50iQuirk, Sun50iQuirkError } from "./quirks.js";
// The run lookup (issue 17).
export { sun50iIommuIovaToPhysRuns } from "./runs.js";
// Domains and their ops.
export {
  createSun50iDomainOps,
  Sun50iDomain,
  sun50iIommuDomainFree,
  sun50iIommuFlushIotlbAll,
  sun50iIommuIotlbSyncMap,
  sun50iIommuIovaToPhysLength,
  sun50iIommuMap,
  sun50iIommuUnmap,
} from "./sun50i-iommu.js";
export {
  IOMMU_PC_IVLD_ADDR_REG,
  IOMMU_PC_IVLD_ENABLE_REG,
  IOMMU_TLB_FLUSH_MACRO_TLB,
  IOMMU_TLB_FLUSH_MICRO_TLBS,
  IOMMU_TLB_FLUSH_PTW_CACHE,
  IOMMU_TLB_FLUSH_REG,
  IOMMU_TLB_IVLD_ADDR_MASK_REG,
  IOMMU_TLB_IVLD_ADDR_REG,
  IOMMU_TLB_IVLD_ENABLE_REG,
  type Sun50iTlbAccess,
  Sun50iTlbLog,
} from "./tlb-log.js";
