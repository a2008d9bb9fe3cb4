/**
 * drivers/iommu/apple-dart.c: @iommu/drivers-apple-dart's public surface — a DART instance
 * (an IommuDriver) probed from its variant and PARAMS registers, its paging domains on
 * io-pgtable APPLE_DART / APPLE_DART2, and what tests and tools read back (TCR/TTBR, TLB
 * commands).
 */

// The DART instance, its masters and domains.
export {
  AppleDart,
  type AppleDartDomainAllocOptions,
  type AppleDartMaster,
  type AppleDartOptions,
  type AppleDartStreams,
  type AppleDartTlbCommand,
  appleDartMaster,
} from "./apple-dart.js";
export { type AppleDartDomain, type AppleDartDomainStreamMap, appleDartDomainFlushTlb } from "./domain.js";
// The variants and the probe.
export {
  APPLE_DART_HW,
  type AppleDartCaps,
  type AppleDartHw,
  type AppleDartHwConfig,
  type AppleDartParams,
  type AppleDartType,
  type AppleDartVariant,
  encodeDartParams,
  probeDart,
} from "./hw.js";
// Model-only: the TLB commands applied to the core's IOTLB model.
export { type AppleDartIotlbFeedOptions, appleDartIotlbFeed, appleDartIotlbModel } from "./iotlb.js";
// Register fields tests and tools read TCR/TTBR values with.
export {
  DART_MAX_STREAMS,
  DART_MAX_TTBR,
  DART_T8020_STREAM_COMMAND_INVALIDATE,
  DART_T8020_TCR_BYPASS_DAPF,
  DART_T8020_TCR_BYPASS_DART,
  DART_T8020_TCR_TRANSLATE_ENABLE,
  DART_T8020_TTBR_VALID,
  DART_T8110_TCR_BYPASS_DAPF,
  DART_T8110_TCR_BYPASS_DART,
  DART_T8110_TCR_FOUR_LEVEL,
  DART_T8110_TCR_TRANSLATE_ENABLE,
  DART_T8110_TLB_CMD_OP_FLUSH_SID,
  DART_T8110_TTBR_VALID,
  MAX_DARTS_PER_DEVICE,
} from "./regs.js";
