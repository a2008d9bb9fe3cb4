/**
 * The @iommu/testing conformance suite (≥ 10,000 map/unmap/lookup operations against the
 * reference model per suite, lengths, inspector, allocation failure, counters) on arm-smmu and
 * qcom_iommu domains as callers get them: allocated from a master behind the SMMU and
 * attached, so the table exists. The driver's TLB maintenance and, on stage-1 contexts with
 * translation operations, the ATS1PR cross-check run on every operation.
 */
import { SZ_1M, SZ_4K, SZ_16M } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import type { ArmSmmuOptions } from "./arm-smmu.js";
import { attachedDomain, attachedQcomDomain } from "./testing/domains.js";

const TABLES_KEPT =
  "io-pgtable frees no table on leaf unmap, so the core's rollback leaves the tables the map installed";
const NO_WRITE_ONLY = "the format has no write-only permission: IOMMU_WRITE alone maps read/write";

/** arm-smmu LPAE contexts are io-pgtable ARM LPAE tables: its kernel behaviours. */
const LPAE: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "replace",
    unmapHole: -2,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: { allocFailureKeepsTables: TABLES_KEPT, writeImpliesRead: NO_WRITE_ONLY },
};

/** AArch32-S contexts are io-pgtable ARMv7s tables. */
const V7S: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "replace",
    entrySpan: (s) => (s < SZ_1M ? SZ_4K : SZ_1M),
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: {
    allocFailureKeepsTables: TABLES_KEPT,
    writeImpliesRead: NO_WRITE_ONLY,
    tablesShareBlocks: "L2 tables are 1 KiB objects of a kmem_cache carved out of 4 KiB blocks",
  },
  iovaWindow: { start: 0x8000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
};

function smmu(hw: ArmSmmuOptions) {
  return () => {
    const t = attachedDomain(hw);
    return { domain: t.domain, allocator: t.allocator };
  };
}

// 4K and 2M leaves keep the per-granule TLBIVA of a removed 1 GiB table out of the hot loop.
describeDomainConformance(
  "arm-smmu v2 S1 AArch64 4K 48/48 (ATS1PR path, cross-checked)",
  smmu({ granules: [0x1000] }),
  { ...LPAE, pageSizes: [0x1000, 0x20_0000] },
);
describeDomainConformance(
  "arm-smmu v2 S1 AArch64 64K 48/48 (no ATOS: software walk)",
  smmu({ granules: [0x10000], atos: false }),
  LPAE,
);
describeDomainConformance(
  "arm-smmu v2 S2-only AArch64 4K 40/40 (concatenated pgd)",
  smmu({ stage1: false, ias: 40, oas: 40 }),
  { ...LPAE, pageSizes: [0x1000, 0x20_0000], iovaWindow: { start: 2 ** 39 - 2 ** 26, size: 2 ** 27 } },
);
describeDomainConformance(
  "arm-smmu v1 S2 AArch32-L 4K 40/40 (TLBIVMID per leaf)",
  smmu({ version: "v1", stage1: false, ias: 40, oas: 40 }),
  { ...LPAE, pageSizes: [0x1000, 0x20_0000], iovaWindow: { start: 2 ** 39 - 2 ** 26, size: 2 ** 27 } },
);
describeDomainConformance(
  "arm-smmu v1 S1 AArch32-L 4K 32/40 (ATS1PR path)",
  smmu({ version: "v1", stage2: false, ias: 40 }),
  LPAE,
);
describeDomainConformance(
  "arm-smmu v2 S1 AArch32-S on a 32-bit kernel (ARM_V7S, ATS1PR path)",
  smmu({ kernel: "arm32", aarch32S: true, ias: 32, ubs: 32 }),
  V7S,
);
describeDomainConformance(
  "qcom_iommu ARM_32_LPAE_S1 4K 32/40, two context banks",
  () => {
    const t = attachedQcomDomain([1, 3]);
    return { domain: t.domain, allocator: t.allocator };
  },
  {
    ...LPAE,
    skip: {
      reference:
        "4K-only LPAE: the kit requires block-over-table maps and unmaps that stop early, which need leaves above 4K; qcom-iommu.test.ts runs ≥ 10,000 ops against its own reference",
    },
  },
);
