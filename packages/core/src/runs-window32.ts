// Model-only (issue 17): the outer loop of a run lookup over a table that translates 32-bit
// IOVAs, shared by the drivers whose kernel lookup truncates the IOVA to u32 (exynos, rockchip,
// sun50i, tegra-smmu, omap): every 4 GiB window of the 64-bit space aliases the table, or, for
// a domain that refuses the aliasing (the model's strict mode), everything above 4 GiB is one
// hole. See docs/iova-to-phys-runs.md. Nothing is allocated per window or per entry.
import type { PhysRunCollector } from "./runs.js";

/** Frames of one 4 GiB window. */
const WINDOW_PFNS = 2 ** 20;
const PFN_LIMIT = 2 ** 52;

/**
 * Model-only: walk the table once for the 4 GiB window whose first frame is `window`, from
 * frame `fromPfn` up to frame `end` (exclusive), reporting to `runs`. Returns -1 once the
 * collector is done, else the number of live entries below the top level it found (any
 * non-negative value when the caller passes no `emptyHoleSize`).
 */
export type Window32Walk<D> = (
  d: D,
  runs: PhysRunCollector,
  window: number,
  fromPfn: number,
  end: number,
) => number;

/**
 * Model-only: drive `walk` over the collector's range window by window. `strict`: one hole from
 * 4 GiB to 2^64. `emptyHoleSize` > 0: a whole window without a live entry ends the lookup with
 * one hole of that slot size to the end of the range (every alias of an empty table is empty).
 */
export function runsOver32BitWindows<D>(
  d: D,
  runs: PhysRunCollector,
  strict: boolean,
  emptyHoleSize: number,
  walk: Window32Walk<D>,
): void {
  const end = runs.endPfn;
  let pfn = runs.startPfn;
  while (pfn < end) {
    if (strict && pfn >= WINDOW_PFNS) {
      runs.hole(WINDOW_PFNS, PFN_LIMIT - WINDOW_PFNS, (PFN_LIMIT - WINDOW_PFNS) * 4096);
      return;
    }
    const window = pfn - (pfn % WINDOW_PFNS);
    const live = walk(d, runs, window, pfn, end);
    if (live < 0) return;
    const next = window + WINDOW_PFNS;
    if (emptyHoleSize > 0 && live === 0 && pfn === window) {
      if (next < end) runs.hole(next, end - next, emptyHoleSize);
      return;
    }
    pfn = next;
  }
}
