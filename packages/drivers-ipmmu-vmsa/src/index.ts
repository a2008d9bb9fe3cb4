/**
 * drivers/iommu/ipmmu-vmsa.c: @iommu/drivers-ipmmu-vmsa's public surface — an IPMMU instance
 * (an IommuDriver) from its SoC's feature table, its paging domains on io-pgtable
 * ARM_32_LPAE_S1 (allocated at the first attach), the context/micro-TLB registers it programs
 * and its whole-context TLB flushes.
 */

export type { IpmmuVmsaDomain } from "./domain.js";
// SoC feature tables and the device filter.
export {
  IPMMU_DEVICES_ALLOWLIST,
  IPMMU_FEATURES_DEFAULT,
  IPMMU_FEATURES_RCAR_GEN3,
  IPMMU_FEATURES_RCAR_GEN4,
  IPMMU_OF_IDS,
  IPMMU_SOCS,
  type IpmmuFeatures,
  type IpmmuSocInfo,
  ipmmuDeviceIsAllowed,
} from "./features.js";
// The IOTLB model's feed (issue 17): whole-context IMCTR flushes and their completion.
export { type IpmmuIotlbFeedOptions, ipmmuIotlbFeed, ipmmuIotlbModel, ipmmuIotlbTag } from "./iotlb.js";
// The IPMMU instance, its devices and domains.
export {
  IPMMU_PGSIZE_BITMAP,
  type IpmmuMaster,
  type IpmmuMasterOptions,
  type IpmmuTlbEvent,
  IpmmuVmsa,
  type IpmmuVmsaOptions,
} from "./ipmmu-vmsa.js";
// Registers tests and tools read back.
export {
  IM_NS_ALIAS_OFFSET,
  IMBUSCR,
  IMCTR,
  IMCTR_FLUSH,
  IMCTR_INTEN,
  IMCTR_MMUEN,
  IMMAIR0,
  IMSTR,
  IMTTBCR,
  IMTTBCR_EAE,
  IMTTBCR_IRGN0_WB_WA,
  IMTTBCR_ORGN0_WB_WA,
  IMTTBCR_SH0_INNER_SHAREABLE,
  IMTTBCR_SL0_LVL_1,
  IMTTBCR_SL0_TWOBIT_LVL_1,
  IMTTLBR0,
  IMTTUBR0,
  IMUASID,
  IMUCTR,
  IMUCTR_FLUSH,
  IMUCTR_MMUEN,
  IMUCTR_TTSEL_MMU,
  IPMMU_CTX_MAX,
  IPMMU_UTLB_MAX,
} from "./regs.js";
