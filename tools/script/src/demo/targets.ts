/**
 * The driver/format combinations the demo runs on, from the registry (../registry.ts): today
 * arm-smmu-v3 on io-pgtable ARM_64_LPAE_S1 and _S2 (a stage-2-only SMMU) at 4K, 16K and 64K
 * granules, and the generic_pt formats behind the x86 and RISC-V drivers (amdv1, x86_64,
 * vtdss, riscv) at 4K.
 *
 * Each target hands out driver instances. Replay needs the second group to land in a new
 * domain: type1 reuses an existing domain whose ops table is the same, and every driver
 * instance has its own ops table, so the replay target is simply a second instance — another
 * IOMMU unit the existing domain cannot be attached to.
 */
import type { IommuDriver } from "@iommu/core";
import { demoTargetKinds } from "../registry.js";
import type { DriverLayout, Granule, ScenarioKind } from "./scenarios.js";

export interface DemoTarget {
  /** The driver column (`arm-smmu-v3`, `generic_pt`). */
  driver: string;
  /** Page-table format name (io-pgtable fmt or generic_pt format). */
  format: string;
  granule: Granule;
  /** The driver's gather syncs before a run that is not adjacent to it (see walkModel). */
  gapSyncs: boolean;
  /** A new driver instance (fresh unit, fresh tables); each run takes its own. */
  createDriver(): IommuDriver;
  /** A driver with its own table format: its scenarios come from `driverScenarios(layout)`. */
  layout?: DriverLayout;
  /** IOVA of the mapping (default 512 GiB). */
  iova?: number;
  /** RAM of the user pages (default [4 GiB, 64 GiB)). */
  userPhys?: { readonly base: number; readonly end: number };
  /** Run without `--all`: every scenario, none, or the scenarios of these kinds or names. */
  byDefault: boolean | readonly (ScenarioKind | string)[];
}

/** An `iommu demo --format` value: `s1`, `s2`, `amdv1`, ... (see {@link ALL_FORMATS}). */
export type TargetFormat = string;

/** Every `--format` value, in table order. */
export const ALL_FORMATS: readonly TargetFormat[] = demoTargetKinds().map((k) => k.key);

/** Targets for the given granules and formats, in the order of `formats` (a format runs at the granules it has). */
export function demoTargets(
  granules: readonly Granule[],
  formats: readonly TargetFormat[] = ALL_FORMATS,
): DemoTarget[] {
  const kinds = demoTargetKinds();
  const out: DemoTarget[] = [];
  for (const key of formats) {
    const kind = kinds.find((k) => k.key === key);
    if (!kind) continue;
    // A single-granule format runs once even when the list names its granule twice.
    const only = kind.granules.length === 1 ? kind.granules[0]! : undefined;
    const at =
      only === undefined
        ? granules.filter((g) => kind.granules.includes(g))
        : granules.includes(only)
          ? [only]
          : [];
    for (const granule of at)
      out.push({
        driver: kind.driver,
        format: kind.format,
        granule,
        gapSyncs: kind.gapSyncs,
        createDriver: () => kind.createDriver(granule),
        ...(kind.layout ? { layout: kind.layout } : {}),
        ...(kind.iova !== undefined ? { iova: kind.iova } : {}),
        ...(kind.userPhys ? { userPhys: kind.userPhys } : {}),
        byDefault: kind.byDefault ?? true,
      });
  }
  return out;
}
