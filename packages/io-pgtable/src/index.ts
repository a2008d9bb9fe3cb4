/**
 * include/linux/io-pgtable.h, drivers/iommu/io-pgtable*.c: @iommu/io-pgtable's public
 * surface — the framework (formats behind one ops interface), the domain-ops base io-pgtable
 * drivers build on, and what tools need of each format (its table class, its selftest). Tools
 * read tables through each format's inspector (`ops.inspect()`, @iommu/core's
 * PageTableInspector), never through descriptor bits.
 */

// The registry (io-pgtable.c).
export { allocIoPgtableOps, freeIoPgtableOps, ioPgtableOpsToPgtable } from "./alloc.js";
// Apple DART (io-pgtable-dart.c).
export { AppleDartIoPgtable } from "./apple-dart/apple-dart.js";
// ARM LPAE (io-pgtable-arm.c).
export { ArmLpaeIoPgtable } from "./arm-lpae/pgtable.js";
export {
  ARM_LPAE_SELFTEST_ADDRESS_SIZES,
  ARM_LPAE_SELFTEST_PGSIZES,
  type ArmLpaeSelftestOptions,
  type ArmLpaeSelftestResult,
  armLpaeDoSelftests,
} from "./arm-lpae/selftest.js";
// ARMv7 short descriptor (io-pgtable-arm-v7s.c).
export { ArmV7sIoPgtable } from "./arm-v7s/arm-v7s.js";
export {
  type ArmV7sSelftestResult,
  type ArmV7sSelftestState,
  armV7sDoSelftests,
} from "./arm-v7s/selftest.js";
// Domains over an io-pgtable: the drivers' shared ops, and a driver-less domain.
export {
  allocIoPgtableOpsFor,
  type GranuleName,
  IO_PGTABLE_FORMAT_NAMES,
  type IoPgtableDomainOptions,
  type IoPgtableFormatName,
  ioPgtableCfgFor,
} from "./create-domain.js";
// The framework: formats, quirks, cfg and ops (io-pgtable.h).
export {
  type AppleDartCfg,
  type ArmLpaeS1Cfg,
  type ArmLpaeS2Cfg,
  type ArmLpaeWalkData,
  type ArmMaliLpaeCfg,
  type ArmV7sCfg,
  IO_PGTABLE_CAP_CUSTOM_ALLOCATOR,
  IO_PGTABLE_NUM_FMTS,
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IommuFlushOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
  type IoPgtableOps,
} from "./io-pgtable.js";
export { createIoPgtableDomain, IO_PGTABLE_DOMAIN_OPS } from "./io-pgtable-domain.js";
export {
  IO_PGTABLE_DIRTY_OPS,
  type IoPgtableDomain,
  type IoPgtableDomainOpsExtra,
  ioPgtableDomainOps,
} from "./io-pgtable-domain-ops.js";
export { ioPgtableIovaToPhys } from "./iova-to-phys.js";
