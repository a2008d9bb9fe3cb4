/**
 * drivers/iommu/exynos-iommu.c: @iommu/drivers-exynos's public surface — the SysMMU instance
 * (an IommuDriver), its domains and their ops, the table format's constants and entry
 * builders, the inspector, the strict-mode quirk error, the run lookup and the IOTLB feed.
 */

// The table format.
export {
  EXYNOS_PGSIZE_BITMAP,
  LPAGE_SIZE,
  LV1TABLE_SIZE,
  LV2ENTCNT_SIZE,
  LV2TABLE_SIZE,
  lv1entFault,
  lv1entPage,
  lv1entSection,
  lv2entFault,
  lv2entLarge,
  lv2entSmall,
  lv2tableBase,
  makeMmuVer,
  mmuMajVer,
  mmuMinVer,
  NUM_LV1ENTRIES,
  NUM_LV2ENTRIES,
  SECT_SIZE,
  SPAGE_SIZE,
  SPAGES_PER_LPAGE,
  SYSMMU_LV1_PROT,
  SYSMMU_LV2_PROT,
  SYSMMU_PG_ENT_SHIFT,
  SYSMMU_V5_LV1_PROT,
  SYSMMU_V5_LV2_PROT,
  SYSMMU_V5_PG_ENT_SHIFT,
  sectToPhys,
} from "./defs.js";
// Domains and their ops.
export {
  createExynosDomainOps,
  ExynosDomain,
  type ExynosSysmmuHw,
  exynosIommuDomainFree,
  exynosIommuIovaToPhysLength,
  exynosIommuMap,
  exynosIommuUnmap,
  mkLv1entPage,
  mkLv1entSect,
  mkLv2entLpage,
  mkLv2entSpage,
} from "./exynos-iommu.js";
// Inspection.
export {
  createExynosInspector,
  ExynosInspector,
  type ExynosTableParams,
  exynosLeafProt,
} from "./inspect.js";
// The IOTLB feed (issue 17): the TLB maintenance writes, decoded for the core's IOTLB model.
export {
  type ExynosIotlbFeedOptions,
  exynosDecodeWrite,
  exynosIotlbFeed,
  exynosIotlbModel,
} from "./iotlb.js";
export { type ExynosQuirk, ExynosQuirkError } from "./quirks.js";
// The run lookup (issue 17).
export { exynosIommuIovaToPhysRuns } from "./runs.js";
// The driver instance.
export {
  type ExynosDomainAllocOptions,
  ExynosSysmmu,
  type ExynosSysmmuOptions,
  parseSysmmuVersion,
} from "./sysmmu.js";
export { ExynosTlbLog, type ExynosTlbReg, type ExynosTlbWrite } from "./tlb-log.js";
