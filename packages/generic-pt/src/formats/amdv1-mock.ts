/**
 * drivers/iommu/generic_pt/fmt/iommu_mock.c (`AMDV1_IOMMUFD_SELFTEST`, `PT_FMT amdv1`,
 * `PT_FMT_VARIANT mock`, `PT_SUPPORTED_FEATURES 0`): the AMDv1 format with a 2 KiB granule that
 * the iommufd selftest's mock domain (`pt_iommu_amdv1_mock_init`) builds, so that the IOMMU
 * page size differs from the CPU's.
 *
 * Against amdv1: `PT_GRANULE_LG2SZ` 11 (items of 2K, 1M, 512M, 256G, 128T at levels 0..4;
 * tables are still 4 KiB of 512 items), `PT_MAX_VA_ADDRESS_LG2` 56, `PT_MAX_OUTPUT_ADDRESS_LG2`
 * 51, `PT_MAX_TOP_LEVEL` 4 (the level that holds no leaves); the OA field (bits 51:12) counts
 * 2 KiB frames. No feature is supported, none forced: no dynamic top (a start level 2 table
 * covers 2^38 bytes), no FC bit, no flush-range reporting. With `PT_FMT_VARIANT` set there is
 * no `pt_iommu_amdv1_mock_hw_info`.
 */
import type { PtFormat } from "../pt-common.js";
import { amdv1Variant } from "./amdv1.js";

/** `fmt/iommu_mock.c`: amdv1 compiled with `AMDV1_IOMMUFD_SELFTEST`, as a {@link PtFormat}. */
export const AMDV1_MOCK: PtFormat<"amdv1_mock"> = amdv1Variant({
  name: "amdv1_mock",
  maxVaLg2: 56,
  maxOaLg2: 51,
  maxTopLevel: 4,
  granuleLg2: 11,
  supported: 0,
  forced: 0,
  // mock_domain_alloc_pgtable (MOCK_IOMMUPT_DEFAULT / _HUGE): hw va 56, hw oa 51, start 2.
  defaults: { features: 0, vaBits: 56, oaBits: 51, level: 2 },
  // amdv1.h's kunit_fmt_cfgs, which kunit_iommu_mock.o compiles too (fmt/Makefile).
  kunitCfgs: [{ name: "amdv1_mock start 2", features: 0, level: 2 }],
  hasHwInfo: false,
});
