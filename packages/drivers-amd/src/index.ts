/**
 * drivers/iommu/amd/ (iommu.c, init.c, amd_iommu_types.h): @iommu/drivers-amd's public
 * surface — an AMD-Vi unit as an IommuDriver, its v1/v2 paging domains on generic_pt, the
 * cfg it derives from the EFR and the command line, and the command buffer tests and tools
 * inspect.
 */

// The unit (driver instance) and the cfg derivation.
export {
  AMD_GENOA_EFR,
  AMD_IOMMU_PGSIZES,
  AMD_IOMMU_PGSIZES_4K,
  AMD_IOMMU_PGSIZES_V2,
  type AmdHw,
  AmdIommu,
  type AmdIommuCmdline,
  type AmdIommuOptions,
  type AmdPtCfg,
  amdCfgFor,
  amdHdSupport,
  amdPgsizeBitmap,
  amdV1Cfg,
  amdV2Cfg,
  MAX_DOMAIN_ID,
} from "./amd-iommu.js";
// The command buffer.
export {
  type AmdCmd,
  AmdCmdBuf,
  buildInvAddress,
  CMD_COMPL_WAIT,
  CMD_INV_DEV_ENTRY,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS,
  CMD_INV_IOMMU_PAGES,
  CMD_INV_IOMMU_PAGES_GN_MASK,
  CMD_INV_IOMMU_PAGES_PDE_MASK,
  CMD_INV_IOMMU_PAGES_SIZE_MASK,
} from "./cmd.js";
export { type AmdPdMode, type PdomIommuInfo, ProtectionDomain } from "./domain.js";
// The Extended Feature Register.
export {
  type AmdEfr,
  amdGptLevel,
  amdHatDis,
  amdHptLevel,
  amdV2PgtblSupported,
  decodeAmdEfr,
  encodeAmdEfr,
  PAGE_MODE_4_LEVEL,
  PAGE_MODE_5_LEVEL,
  type Reg64,
} from "./efr.js";
// Model-only: the queued commands applied to the core's IOTLB model.
export { type AmdIotlbFeedOptions, amdDecodeCmd, amdIotlbFeed, amdIotlbModel } from "./iotlb.js";
