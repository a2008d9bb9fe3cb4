/**
 * The walk-count model of kernel-callers.md §7 for VFIO's vfio_unmap_unpin / vfio_iommu_replay
 * loops (rows 1 and 2 of its table), as closed formulas of a scenario's layout:
 *
 * - legacy: `S/PG + (R − 1)`, one lookup per CPU page (hole pages included) plus the
 *   discarded lookup that ends every run but the last, + 1 when the dma ends in a hole;
 * - length (ideal): `N + H`, one lookup per leaf and per empty span, the run-ending lookup
 *   reused as the next start;
 * - length-naive: `N + (R − 1) + H` (+ 1 when the dma ends in a hole), the run-ending lookup
 *   repeated as today's loop does.
 *
 * Unmap calls are R (one iommu_unmap_fast per run) in every mode. IOTLB syncs on the first
 * domain are ⌈R / 512⌉ (VFIO_IOMMU_TLB_SYNC_MAX), plus, for drivers whose gather cannot
 * cover disjoint ranges, one per run that follows a hole (§7 counts only the first cause;
 * the layouts here never start with a hole). Replay makes no unmap calls and no syncs (it
 * maps R runs into the new domain).
 */
import { PG, type Scenario } from "./scenarios.js";

export interface WalkModel {
  legacy: number;
  length: number;
  lengthNaive: number;
  unmapCalls: number;
  iotlbSyncs: number;
}

/**
 * `gapSyncs`: the driver gathers unmapped pages with iommu_iotlb_gather_add_page() (SMMUv3,
 * or generic_pt with PT_FEAT_FLUSH_RANGE_NO_GAPS), which syncs before a run that is not
 * adjacent to the gathered range. generic_pt with PT_FEAT_FLUSH_RANGE widens the gather over
 * the gap instead, so holes cost no extra sync.
 */
export function walkModel(s: Scenario, gapSyncs = true): WalkModel {
  const breaks = s.runs - 1 + (s.endsInHole ? 1 : 0);
  const unmapping = s.op === "unmap";
  return {
    legacy: s.regionSize / PG + breaks,
    length: s.leaves + s.holeSpans,
    lengthNaive: s.leaves + s.holeSpans + breaks,
    unmapCalls: unmapping ? s.runs : 0,
    iotlbSyncs: unmapping
      ? Math.ceil(s.runs / 512) + (gapSyncs ? s.holeSpans - (s.endsInHole ? 1 : 0) : 0)
      : 0,
  };
}
