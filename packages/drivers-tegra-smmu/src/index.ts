/**
 * drivers/iommu/tegra-smmu.c: @iommu/drivers-tegra-smmu's public surface — the SMMU instance
 * (an IommuDriver), its address spaces and their ops, the entry encoders, the inspector and
 * the SoC parameters.
 */

export { TegraSmmuInspector, tegraPteProt } from "./inspect.js";
export {
  type TegraSmmuDecodeState,
  type TegraSmmuIotlbFeedOptions,
  type TegraSmmuMmioAccess,
  tegraSmmuDecodeMmio,
  tegraSmmuIotlbFeed,
  tegraSmmuIotlbModel,
} from "./iotlb.js";
export {
  SMMU_NUM_PDE,
  SMMU_NUM_PTE,
  SMMU_PDE_ATTR,
  SMMU_PDE_NEXT,
  SMMU_PDE_SHIFT,
  SMMU_PTB_ASID,
  SMMU_PTB_DATA,
  SMMU_PTC_FLUSH,
  SMMU_PTC_FLUSH_HI,
  SMMU_PTE_NONSECURE,
  SMMU_PTE_READABLE,
  SMMU_PTE_SHIFT,
  SMMU_PTE_WRITABLE,
  SMMU_SIZE_PD,
  SMMU_SIZE_PT,
  SMMU_TLB_FLUSH,
  TEGRA_SMMU_SOCS,
  type TegraSmmuSocInfo,
  type TegraSoc,
} from "./regs.js";
export {
  createTegraSmmuOps,
  ptbDataValue,
  TEGRA_SMMU_QUIRKS,
  TegraSmmu,
  type TegraSmmuDomain,
  type TegraSmmuMmioTap,
  type TegraSmmuOptions,
  type TegraSmmuQuirk,
  tegraMkPde,
  tegraMkPte,
} from "./tegra-smmu.js";
