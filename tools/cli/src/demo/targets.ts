/**
 * The driver/format combinations the demo runs on, each a factory of paging domains:
 *
 * - arm-smmu-v3 (`@iommu/drivers-arm-smmu-v3`) on io-pgtable ARM_64_LPAE_S1 and _S2 (a
 *   stage-2-only SMMU), 4K, 16K and 64K granules;
 * - the generic_pt formats (`@iommu/generic-pt`) behind the x86 and RISC-V drivers: amdv1
 *   (AMD IOMMU v1 tables), x86_64 (AMD v2 / Intel first stage), vtdss (Intel second stage),
 *   riscv; 4K granule.
 *
 * Replay needs the second group to land in a new domain: type1 reuses an existing domain
 * whose ops table is the same (and whose attach succeeds). A second SMMU instance has its own
 * ops table; for generic_pt, whose ops are one table per format, the second domain gets a
 * copy of it, which stands for "another IOMMU unit the existing domain cannot attach to".
 */
import type { IommuDomain } from "@iommu/core";
import { ArmSmmuV3, type ArmSmmuV3Options } from "@iommu/drivers-arm-smmu-v3";
import { createPtDomain, type PtFormatName } from "@iommu/generic-pt";
import type { Granule } from "./scenarios.js";

/** Makes the domains of one run: `second` = the replay target's domain. */
export type DomainFactory = (second: boolean) => IommuDomain;

export interface DemoTarget {
  driver: string;
  /** Page-table format name (io-pgtable fmt or generic_pt format). */
  format: string;
  granule: Granule;
  /** The driver's gather syncs before a run that is not adjacent to it (see walkModel). */
  gapSyncs: boolean;
  /** A fresh factory per run (fresh SMMU instances / tables). */
  factory(): DomainFactory;
}

export type SmmuFormat = "s1" | "s2";
export const PT_DEMO_FORMATS: readonly PtFormatName[] = ["amdv1", "x86_64", "vtdss", "riscv"];
export type TargetFormat = SmmuFormat | PtFormatName;
export const ALL_FORMATS: readonly TargetFormat[] = ["s1", "s2", ...PT_DEMO_FORMATS];

function smmuTarget(format: SmmuFormat, granule: Granule): DemoTarget {
  // A stage-2-only SMMU makes the default paging domain a stage-2 one.
  const hw: ArmSmmuV3Options = { granules: [granule], stage1: format === "s1", oas: 48 };
  return {
    driver: "arm-smmu-v3",
    format: format === "s1" ? "ARM_64_LPAE_S1" : "ARM_64_LPAE_S2",
    granule,
    // arm_smmu_tlb_inv_page_nosync → iommu_iotlb_gather_add_page
    gapSyncs: true,
    factory() {
      const smmus = [new ArmSmmuV3(hw), new ArmSmmuV3(hw)];
      return (second) => smmus[second ? 1 : 0]!.domainAllocPaging();
    },
  };
}

function ptTarget(format: PtFormatName): DemoTarget {
  return {
    driver: "generic_pt",
    format,
    granule: 0x1000,
    // The default features use PT_FEAT_FLUSH_RANGE (not _NO_GAPS): gaps are absorbed.
    gapSyncs: false,
    factory() {
      return (second) => {
        const d = createPtDomain(format);
        if (second && d.ops) d.ops = { ...d.ops };
        return d;
      };
    },
  };
}

/** Targets for the given granules and formats, in table order (generic_pt only has 4K). */
export function demoTargets(
  granules: readonly Granule[],
  formats: readonly TargetFormat[] = ALL_FORMATS,
): DemoTarget[] {
  const out: DemoTarget[] = [];
  for (const format of formats) {
    if (format === "s1" || format === "s2") for (const g of granules) out.push(smmuTarget(format, g));
    else if (granules.includes(0x1000)) out.push(ptTarget(format));
  }
  return out;
}
