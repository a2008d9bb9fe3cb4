// drivers/iommu/io-pgtable-dart.c (issue 17, model extension): one descent over the DART
// tables of [iova, iova + size), reporting each leaf and empty entry to a PhysRunCollector.
//
// Each table entry of the range is read once (pteReads); no allocation, no BigInt per entry.
// DART indexes every level with a mask, so the input space repeats with the period of the
// TTBR index (what dart_iova_to_phys answers for an alias); the walk follows that, and once
// a whole period holds no leaf, every later period is the same hole and is reported as one.
import type { PhysRunCollector } from "@iommu/core";
import type { AppleDartIoPgtable } from "./apple-dart.js";
import { leafProt } from "./inspect.js";
import { appleDartIopteToPaddr } from "./pte.js";

const PAGE = 4096;
const TWO52 = 2 ** 52;

/**
 * Leaves reported so far, by every walk: a period saw a leaf iff it moved. Only ever increased,
 * so a lookup started from a visitor (nested) can only make the outer one skip its shortcut.
 */
let leavesSeen = 0;

/** Model-only `iova_to_phys_runs` for APPLE_DART / APPLE_DART2. */
export function appleDartIovaToPhysRuns(t: AppleDartIoPgtable, runs: PhysRunCollector): void {
  const ttbrPfns = 2 ** (t.levels * t.bitsPerLevel + 3 - 12);
  const period = ttbrPfns * t.ptesPerTable;
  const xlat = ttbrPfns * t.nTtbrs;
  for (let p = Math.floor(runs.startPfn / period) * period; p < runs.endPfn; p += period) {
    const before = leavesSeen;
    for (let tbl = 0; tbl < t.nTtbrs; tbl++) {
      const first = p + tbl * ttbrPfns;
      if (first + ttbrPfns <= runs.startPfn) continue;
      if (!walk(t, runs, t.pgd[tbl]!, t.levels - 1, first)) return;
    }
    if (xlat < period && !runs.hole(p + xlat, period - xlat, (period - xlat) * PAGE)) return;
    if (leavesSeen === before && p >= runs.startPfn && p + period < TWO52) {
      // This whole period is empty, so is every alias of it.
      runs.hole(p + period, TWO52 - p - period, (TWO52 - p - period) * PAGE);
      return;
    }
  }
}

/** The table at `tpa` (level `level`, entry 0 at frame `first`): false when the collector is done. */
function walk(
  t: AppleDartIoPgtable,
  runs: PhysRunCollector,
  tpa: number,
  level: number,
  first: number,
): boolean {
  const per = 2 ** (level * t.bitsPerLevel + 3 - 12);
  const n = t.ptesPerTable;
  const c = t.cfg.allocator.mem.chunk(tpa);
  // A pointer to absent memory (an adopted image): nothing is mapped below it.
  if (!c) return runs.hole(first, n * per, n * per * PAGE);
  const words = c.words;
  const base = ((tpa - c.pa) / 4) | 0;
  const counters = t.cfg.counters;
  const dart2 = t.isDart2;
  const pgsize = t.pgsize;
  const end = runs.endPfn;
  for (let i = Math.max(0, Math.floor((runs.startPfn - first) / per)); i < n; i++) {
    const pfn = first + i * per;
    if (pfn >= end) return true;
    const lo = words[base + 2 * i]!;
    const hi = words[base + 2 * i + 1]!;
    counters.pteReads++;
    if (lo === 0 && hi === 0) {
      if (!runs.hole(pfn, per, per * PAGE)) return false;
      continue;
    }
    const pa = appleDartIopteToPaddr(lo, hi, dart2);
    if (level > 1) {
      if (!walk(t, runs, pa, level - 1, pfn)) return false;
      continue;
    }
    // A leaf: VALID is not checked, as in dart_iova_to_phys.
    leavesSeen++;
    const prot = leafProt(lo, dart2);
    const low = pa & (pgsize - 1);
    if (low === 0) {
      if (!runs.leaf(pfn, per, pa / PAGE, prot, pgsize)) return false;
      continue;
    }
    // PA bits below the page size (DART1 keeps 13:12) are ORed with the iova's: not linear.
    for (let k = 0; k < per; k++) {
      if (!runs.leaf(pfn + k, 1, (pa - low + (low | (k * PAGE))) / PAGE, prot, pgsize)) return false;
    }
  }
  return true;
}
