/**
 * drivers/iommu/rockchip-iommu.c: @iommu/drivers-rockchip's public surface — the IOMMU
 * instance (an IommuDriver), its domains and their ops, the v1/v2 entry encodings, the
 * inspector, the strict-mode quirk error, the run lookup and the IOTLB feed.
 */

// The table format and its two encodings.
export {
  DTE_SPAN,
  NUM_DT_ENTRIES,
  NUM_PT_ENTRIES,
  RK_DTE_PT_ADDRESS_MASK,
  RK_DTE_PT_VALID,
  RK_IOMMU_OPS_V1,
  RK_IOMMU_OPS_V2,
  RK_IOMMU_PGSIZE_BITMAP,
  RK_PTE_PAGE_ADDRESS_MASK,
  RK_PTE_PAGE_FLAGS_MASK,
  RK_PTE_PAGE_READABLE,
  RK_PTE_PAGE_VALID,
  RK_PTE_PAGE_WRITABLE,
  type RkIommuOps,
  rkDteIsPtValid,
  rkDtePtAddress,
  rkDtePtAddressV2,
  rkIovaDteIndex,
  rkIovaPteIndex,
  rkMkDte,
  rkMkDteV2,
  rkMkPte,
  rkMkPteInvalid,
  rkMkPteV2,
  rkPteIsPageValid,
  SPAGE_SIZE,
} from "./defs.js";
// The driver instance.
export { type RockchipDomainAllocOptions, RockchipIommu, type RockchipIommuOptions } from "./driver.js";
// Inspection.
export { createRockchipInspector, RockchipInspector, type RockchipTableParams } from "./inspect.js";
// The IOTLB feed (issue 17): the RK_MMU_ZAP_ONE_LINE writes, decoded for the core's IOTLB model.
export {
  type RockchipIotlbFeedOptions,
  rockchipDecodeWrite,
  rockchipIotlbFeed,
  rockchipIotlbModel,
} from "./iotlb.js";
export { type RockchipQuirk, RockchipQuirkError } from "./quirks.js";
// Domains and their ops.
export {
  createRockchipDomainOps,
  RockchipDomain,
  rkIommuDomainFree,
  rkIommuIovaToPhysLength,
  rkIommuMap,
  rkIommuUnmap,
} from "./rockchip-iommu.js";
// The run lookup (issue 17).
export { rkIommuIovaToPhysRuns } from "./runs.js";
export { RK_MMU_ZAP_ONE_LINE, RockchipTlbLog, type RockchipTlbWrite } from "./tlb-log.js";
