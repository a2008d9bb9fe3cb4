// drivers/iommu/omap-iommu.c (issue 17, model extension): one descent over the first MMU's L1
// and L2 tables for [iova, iova + size), reporting each leaf and empty entry to a
// PhysRunCollector, as the length lookup (`iova_to_phys_length`) reads them.
//
// A 16M supersection or 64K large page is read once for its 16 replicas — exact while the
// replicas agree, which only an overwrite or a wild write (both counted kernel quirks) can
// break: in a domain where one happened, the replicas are compared as the length lookup does
// (16 reads) and a group that disagrees is reported entry by entry. No allocation and no BigInt
// per entry.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type PhysRunCollector,
  runsOver32BitWindows,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
} from "@iommu/core";
import type { OmapDomain } from "./omap-iommu.js";
import {
  IOLARGE_MASK,
  IOSECTION_MASK,
  IOSUPER_MASK,
  iopgdIsSection,
  iopgdIsSuper,
  iopgdIsTable,
  iopgdPagePaddr,
  iopteIsLarge,
  iopteIsSmall,
  PTRS_PER_IOPGD,
  PTRS_PER_IOPTE,
} from "./omap-iopgtable.js";

const TWO52 = 2 ** 52;
/**
 * Model-only: the 16 copies of a large page or supersection can differ only after an overwrite
 * or a wild write (counted kernel quirks of a non-strict domain); until then one copy is the group.
 */
export function replicasMayDisagree(d: OmapDomain): boolean {
  return !d.strict && d.quirks.overwrite + d.quirks["wild-write"] > 0;
}

/** No descriptor carries permissions (as the inspector reports them). */
const RW = IOMMU_READ | IOMMU_WRITE;

/**
 * Model-only `iova_to_phys_runs` for omap-iommu. IOVAs are u32 in the kernel (`truncation`): a
 * default domain's runs above 4 GiB repeat the 4 GiB table, as its `iova_to_phys_length` does;
 * a strict domain reports everything above 4 GiB as one hole; a domain with no device attached
 * is all hole.
 */
export function omapIovaToPhysRuns(d: OmapDomain, runs: PhysRunCollector): void {
  if (!d.attached) {
    runs.hole(0, TWO52, SZ_4K);
    return;
  }
  runsOver32BitWindows(d, runs, d.strict, SZ_1M, windowRuns);
}

/** The first MMU's L1 table for the 4 GiB window at frame `window`, from `fromPfn` to `end` (Window32Walk). */
function windowRuns(
  d: OmapDomain,
  runs: PhysRunCollector,
  window: number,
  fromPfn: number,
  end: number,
): number {
  const mmu = d.iommus[0]!.mmu;
  const w = mmu.pgdWords;
  const b = mmu.pgdOff;
  const counters = d.counters;
  const mem = d.allocator.mem;
  const view = d.l2View;
  // Replicas can disagree only after an overwrite or a wild write (kernel mode).
  const verify = replicasMayDisagree(d);
  let live = 0;
  for (let i = (fromPfn - window) >>> 8; i < PTRS_PER_IOPGD; i++) {
    const first = window + i * 256;
    if (first >= end) return live;
    const e = w[b + i]!;
    counters.pteReads++;
    if (e !== 0 && iopgdIsTable(e)) {
      live++;
      const pt = iopgdPagePaddr(e);
      const base = pt === view.pa ? view.base : view.resolve(mem, pt);
      const from = Math.max(0, fromPfn - first);
      if (base < 0) {
        // A table pointer into absent memory: every entry reads 0.
        const n = Math.min(PTRS_PER_IOPTE, end - first) - from;
        counters.pteReads += n;
        if (!runs.hole(first + from, n, SZ_4K)) return -1;
        continue;
      }
      if (!l2Runs(runs, view.words, base, first, from, verify, counters)) return -1;
      continue;
    }
    if (iopgdIsSection(e)) {
      live++;
      if (!runs.leaf(first, 256, (e & IOSECTION_MASK) >>> 12, RW, SZ_1M)) return -1;
    } else if (iopgdIsSuper(e)) {
      live++;
      const g = i & ~0xf;
      if (verify && !agree(w, b + g, counters)) {
        // A group whose copies differ: this copy alone, 1 MiB at its offset.
        if (!runs.leaf(first, 256, ((e & IOSUPER_MASK) >>> 12) + (i & 0xf) * 256, RW, SZ_1M)) return -1;
      } else {
        if (!runs.leaf(window + g * 256, 4096, (e & IOSUPER_MASK) >>> 12, RW, SZ_16M)) return -1;
        i = g + 15;
      }
    } else if (!runs.hole(first, 256, SZ_1M)) return -1;
  }
  return live;
}

/** The L2 table at `words[base…]` for the 1 MiB from frame `first`, from entry `from`: false when done. */
function l2Runs(
  runs: PhysRunCollector,
  words: Uint32Array,
  base: number,
  first: number,
  from: number,
  verify: boolean,
  counters: { pteReads: number },
): boolean {
  const end = runs.endPfn;
  for (let j = from; j < PTRS_PER_IOPTE && first + j < end; j++) {
    const pte = words[base + j]!;
    counters.pteReads++;
    let ok: boolean;
    if (iopteIsSmall(pte)) ok = runs.leaf(first + j, 1, pte >>> 12, RW, SZ_4K);
    else if (iopteIsLarge(pte)) {
      const g = j & ~0xf;
      const pfn = (pte & IOLARGE_MASK) >>> 12;
      if (verify && !agree(words, base + g, counters))
        ok = runs.leaf(first + j, 1, pfn + (j & 0xf), RW, SZ_4K);
      else {
        ok = runs.leaf(first + g, 16, pfn, RW, SZ_64K);
        j = g + 15;
      }
    } else ok = runs.hole(first + j, 1, SZ_4K);
    if (!ok) return false;
  }
  return true;
}

/** The 16 replicas from `words[at]` are identical (16 reads, as the length lookup's check). */
function agree(words: Uint32Array, at: number, counters: { pteReads: number }): boolean {
  counters.pteReads += 16;
  const v = words[at];
  for (let k = 1; k < 16; k++) if (words[at + k] !== v) return false;
  return true;
}
