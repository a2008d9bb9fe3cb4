/**
 * drivers/iommu/mtk_iommu.c: @iommu/drivers-mtk-iommu's public surface — the M4U (an
 * IommuDriver built from a SoC's plat data), its paging domains on a shared ARM_V7S table,
 * the cfg rules of `mtk_iommu_domain_finalise()`, and the bank registers the TLB code writes.
 */

// The IOTLB model's feed (issue 17): range flushes, CPE_DONE, full flushes.
export {
  type MtkIommuIotlbFeedOptions,
  mtkIommuIotlbFeed,
  mtkIommuIotlbModel,
  mtkIommuIotlbTag,
  mtkIommuTlbAddrDecode,
} from "./iotlb.js";
// The M4U and its domains.
export {
  MTK_IOMMU_PGSIZES,
  MtkIommu,
  type MtkIommuDomainAllocOptions,
  type MtkIommuMaster,
  type MtkIommuOptions,
  type MtkIommuPgtableCfg,
  type MtkIommuTlbWrite,
  type MtkLarbIommu,
  MtkM4uList,
  mtkIommuGetBankId,
  mtkIommuGetIovaRegionId,
  mtkIommuPgtableCfg,
} from "./mtk-iommu.js";
export { MTK_IOMMU_4GB_MODE_REMAP_BASE, type MtkIommuDomain } from "./mtk-iommu-domain.js";
// The SoC tables (struct mtk_iommu_plat_data) and their flags.
export {
  CFG_IFA_MASTER_IN_ATF,
  DCM_DISABLE,
  DL_WITH_MULTI_LARB,
  HAS_4GB_MODE,
  HAS_BCLK,
  HAS_LEGACY_IVRP_PADDR,
  HAS_SUB_COMM_2BITS,
  HAS_SUB_COMM_3BITS,
  HAS_VLD_PA_RNG,
  IFA_IOMMU_PCIE_SUPPORT,
  INT_ID_PORT_WIDTH_6,
  IOVA_34_EN,
  MT8189_MULTI_DOM_APU,
  MT8192_MULTI_DOM,
  MTK_IOMMU_IOVA_SZ_4G,
  MTK_IOMMU_PLAT_DATA,
  MTK_IOMMU_SOCS,
  MTK_IOMMU_TYPE_APU,
  MTK_IOMMU_TYPE_INFRA,
  MTK_IOMMU_TYPE_MASK,
  MTK_IOMMU_TYPE_MM,
  type MtkHwListName,
  type MtkIommuIovaRegion,
  type MtkIommuPlatData,
  type MtkIommuSoc,
  mtkIommuHasFlag,
  mtkIommuIsType,
  OUT_ORDER_WR_EN,
  PGTABLE_PA_35_EN,
  PM_CLK_AO,
  REG_MMU_INV_SEL_GEN1,
  REG_MMU_INV_SEL_GEN2,
  RESET_AXI,
  SHARE_PGTABLE,
  SINGLE_DOMAIN,
  STD_AXI_MODE,
  TF_PORT_TO_ADDR_MT8173,
  WR_THROT_EN,
} from "./plat-data.js";
// The run lookup's 4GB-mode front (issue 17).
export { MtkIommu4gbRuns, mtkIommu4gbRuns, mtkIommuStrip4gbPfn } from "./runs-4gb.js";
// The bank registers and TLB maintenance.
export {
  F_ALL_INVLD,
  F_MMU_INV_RANGE,
  MTK_IOMMU_TLB_SYNC_TIMEOUT_US,
  MtkIommuBank,
  mtkIommuTlbAddr,
  REG_MMU_CPE_DONE,
  REG_MMU_INVALIDATE,
  REG_MMU_INVLD_END_A,
  REG_MMU_INVLD_START_A,
} from "./tlb.js";
