/**
 * Demo rows measured by a caller other than VFIO type1 (iommufd, the DRM GPU drivers, VFIO on
 * a driver without a page table): each scenario runs its own operation once per lookup mode
 * and reports the same counters as the VFIO rows (run.ts), plus the walks the
 * kernel-callers.md §7 model predicts for it.
 *
 * A package's scenarios live next to its other script glue (e.g. `demo/callers/iommufd.ts`)
 * and are listed once in `CALLER_SCENARIOS` (callers/index.ts).
 */
import type { Clock } from "../clock.js";
import type { Pair } from "./row.js";
import type { Measurement } from "./run.js";

/** The lookup mode of one measured run: today's per-page walk or the length-aware one. */
export type LookupMode = "legacy" | "length";

/** One caller scenario: a table row of `iommu demo`. */
export interface CallerScenario {
  /** Stable id and scenario column, e.g. `iommufd-unmap-2M-on-2M`, `panthor-unmap-mismatch`. */
  readonly id: string;
  /** The caller measured: `iommufd`, `panfrost`, `panthor`, `vfio`. */
  readonly caller: string;
  /** Driver column (`amdv1_mock`, `panfrost`, `virtio-iommu`, ...). */
  readonly driver: string;
  /** Format column (io-pgtable fmt, generic_pt format, or `intervals`). */
  readonly format: string;
  /** Sizes in bytes (granule = the smallest page size of the domain). */
  readonly granule: number;
  readonly leafSize: number;
  readonly regionSize: number;
  /** In the default run (without `--all`). */
  readonly byDefault: boolean;
  /** The §7 model's walks for both modes (the table's ✓ column compares them). */
  readonly expected: Pair;
  /**
   * Build the state from scratch and run the measured operation once in `mode`; the counts
   * must not depend on the clock, which only times the measured operation.
   */
  measure(mode: LookupMode, clock: Clock): Measurement;
  /**
   * The same operation with the range lookup (`iommuIovaToPhysRuns`), for callers that have a
   * `runs` mode (the table's runs column; omitted → "—").
   */
  measureRuns?(clock: Clock): Measurement;
}
