/** One measured scenario: a table row of `iommu demo`, and the `--json` document around the rows. */
import { sizeName } from "./scenarios.js";

export interface Pair {
  legacy: number;
  length: number;
}

export interface DemoRow {
  scenario: string;
  /** The caller measured (`vfio` when absent: VFIO type1). */
  caller?: string;
  driver: string;
  /** Page-table format of the domain, e.g. `ARM_64_LPAE_S1`, `vtdss 4-level`, `intervals`. */
  format: string;
  /** Sizes in bytes. */
  granule: number;
  leafSize: number;
  regionSize: number;
  /** iommu_iova_to_phys(_length) calls made by the caller. */
  walks: Pair;
  /** Page-table entries read during the operation (lookups and unmap walks). */
  pteReads: Pair;
  unmapCalls: Pair;
  iotlbSyncs: Pair;
  /** Wall time of the measured operation, nanoseconds. */
  ns: Pair;
  /** Walks the walk-count model predicts (docs/walk-count-model.md). */
  expected?: Pair;
  /**
   * The third mode (beyond the series): range lookups that return whole physically contiguous
   * runs (`iommuIovaToPhysRuns`), for the callers that have it (VFIO type1 `runs`).
   */
  runs?: RunsMeasurement;
}

/** Walks (range lookups, or fallback steps) and PTE reads of the `runs` mode. */
export interface RunsMeasurement {
  walks: number;
  pteReads: number;
}

/** The `--json` document's version: bump it when a field changes meaning or goes away. */
export const DEMO_JSON_SCHEMA_VERSION = 2;

/**
 * A row's stable id: `caller/driver/format/granule/scenario`, e.g.
 * `vfio/arm-smmu-v3/ARM_64_LPAE_S1/4K/1G-on-2M` (spaces in a format name become `-`).
 */
export function rowId(r: DemoRow): string {
  return [r.caller ?? "vfio", r.driver, r.format.replace(/ /g, "-"), sizeName(r.granule), r.scenario].join(
    "/",
  );
}

/** The model check: `pass` when the walks are the prediction, `fail` when not, `none` without one. */
export function rowCheck(r: DemoRow): "pass" | "fail" | "none" {
  const e = r.expected;
  if (!e) return "none";
  return e.legacy === r.walks.legacy && e.length === r.walks.length ? "pass" : "fail";
}

/** legacy walks / length-aware walks; null when the length-aware run made none. */
export function walkRatio(p: Pair): number | null {
  return p.length === 0 ? (p.legacy === 0 ? 1 : null) : p.legacy / p.length;
}

/** Who produced a `--json` document. */
export interface DemoJsonMeta {
  /** The tool's version (`iommu --version`). */
  version: string;
  /** ISO time of the run, when wanted. */
  generated?: string;
}

/**
 * The `--json` document (schema: demo-output.schema.json next to this file): the schema
 * version, the tool, and every row with its id, caller, the model's prediction, the check and
 * the walk ratio.
 */
export function toJson(rows: readonly DemoRow[], meta: DemoJsonMeta): string {
  const pair = (p: Pair) => ({ legacy: p.legacy, length: p.length });
  const doc = {
    schemaVersion: DEMO_JSON_SCHEMA_VERSION,
    tool: { name: "iommu", version: meta.version },
    ...(meta.generated ? { generated: meta.generated } : {}),
    rows: rows.map((r) => ({
      id: rowId(r),
      caller: r.caller ?? "vfio",
      scenario: r.scenario,
      driver: r.driver,
      format: r.format,
      granule: r.granule,
      leafSize: r.leafSize,
      regionSize: r.regionSize,
      walks: pair(r.walks),
      expected: r.expected ? pair(r.expected) : null,
      check: rowCheck(r),
      ratio: walkRatio(r.walks),
      pteReads: pair(r.pteReads),
      unmapCalls: pair(r.unmapCalls),
      iotlbSyncs: pair(r.iotlbSyncs),
      ns: pair(r.ns),
      runs: r.runs ? { walks: r.runs.walks, pteReads: r.runs.pteReads } : null,
    })),
  };
  return JSON.stringify(doc, null, 2);
}
