// drivers/iommu/virtio-iommu.c, `viommu_iova_to_phys()` read as a range (issue 17, a model
// extension): the physically contiguous runs of [iova, iova + size) from ONE ordered walk of the
// domain's interval tree — the first interval overlapping the range is found in O(log n), the
// following ones are its in-order successors (O(k)). There is no table: each interval is one
// "entry". Pieces go to the core's PhysRunCollector as the naturally aligned blocks
// `viommu_iova_to_phys_length` reports, so merged runs, holes and leaf sizes agree with one
// length lookup per page. Nothing is allocated per interval (one closure per call).

import {
  IOMMU_MMIO,
  IOMMU_READ,
  IOMMU_WRITE,
  PAGE_SIZE,
  type PhysRunCollector,
  U64_LIMIT,
} from "@iommu/core";
import type { ViommuDomain } from "./viommu-domain.js";
import {
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
} from "./virtio-iommu-uapi.js";

/** Model-only: `IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO` of a mapping's `VIRTIO_IOMMU_MAP_F_*` flags. */
export function viommuProtOfFlags(flags: number): number {
  return (
    (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_READ : 0) |
    (flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_WRITE : 0) |
    (flags & VIRTIO_IOMMU_MAP_F_MMIO ? IOMMU_MMIO : 0)
  );
}

/**
 * Model-only: bytes of the largest naturally aligned power-of-two block that starts at `a` and
 * ends at or before `b` (both multiples of 4 KiB, a < b ≤ 2^64): the greedy split of [a, b)
 * gives exactly the blocks {@link alignedBlockIn} answers for each of their IOVAs.
 */
export function alignedBlockAt(a: number, b: number): number {
  let p = PAGE_SIZE;
  while (2 * p <= b - a && a % (2 * p) === 0) p *= 2;
  return p;
}

const PAGE_FLOOR = (x: number): number => Math.floor(x / PAGE_SIZE) * PAGE_SIZE;
const PAGE_CEIL = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

/**
 * Model-only (issue 17; the kernel's lookup is `viommu_iova_to_phys()`): the `iovaToPhysRuns`
 * op. One ordered traversal of the interval tree from the first interval overlapping the
 * range (`interval_tree_iter_first/next`). An IOVA is translated by the first interval (in
 * start, then insertion order) that contains it, as `viommu_iova_to_phys` answers — so an
 * interval is visible from the largest end of the intervals before it onwards (overlaps
 * inserted by `map_pages`, which never checks, stay shadowed). Mapped pieces are reported as
 * the aligned blocks of the visible extent, holes as the aligned blocks of the gap between the
 * neighbouring intervals, split at the aperture bounds (the units `viommuIovaToPhysLength`
 * answers); the collector merges IOVA- and PA-adjacent intervals of equal prot into one run.
 *
 * Counts, as the length lookup does (one `pteReads` per interval read): one `pteReads` per
 * interval node the traversal reads — the overlapping ones, any shadowed one between them, and
 * the one past the range whose start bounds a trailing hole — and at least 1 (the descent that
 * found nothing). The core counts the one `walks`. Apertures are taken page-aligned.
 */
export function viommuIovaToPhysRuns(d: ViommuDomain, runs: PhysRunCollector): void {
  const t = d.mappings;
  const lo = runs.startPfn * PAGE_SIZE;
  const hi = runs.endPfn * PAGE_SIZE;
  const apLo = PAGE_FLOOR(d.apLo);
  const apHi = Math.min(PAGE_CEIL(d.apHi), U64_LIMIT);
  // Everything below `cov` has been reported; `cov` is also the largest end seen so far.
  let cov = -1;
  let more = true;
  const next = t.visitOverlaps(lo, hi, (n, before) => {
    if (cov < 0) cov = before;
    const s = t.startOf(n);
    const e = t.endOf(n);
    if (s > cov) {
      more = holes(runs, cov, s, apLo, apHi);
      if (!more) return false;
    }
    const vs = Math.max(s, cov);
    if (e > vs) {
      const prot = viommuProtOfFlags(t.flagsAt(n));
      const paddr = t.paddrOf(n);
      let a = vs;
      while (a < e) {
        const size = alignedBlockAt(a, e);
        more = runs.leaf(a / PAGE_SIZE, size / PAGE_SIZE, (paddr + (a - s)) / PAGE_SIZE, prot, size);
        if (!more) return false;
        a += size;
      }
      cov = e;
    }
    return true;
  });
  d.counters.pteReads += Math.max(1, t.lastReads);
  if (!more) return;
  // The hole after the last interval (or the whole range): from the largest end before it
  // (found by the descent when nothing overlapped) to the next interval's start.
  const from = cov >= 0 ? cov : t.maxEndAtOrBefore(lo);
  if (from < hi) holes(runs, from, Math.min(next, U64_LIMIT), apLo, apHi);
}

/**
 * Report the gap [a, b) between intervals as the aligned blocks the length lookup answers
 * inside it, split at the aperture bounds; false once the collector wants no more.
 */
function holes(runs: PhysRunCollector, a: number, b: number, apLo: number, apHi: number): boolean {
  if (a < apLo && !holeBlocks(runs, a, Math.min(b, apLo))) return false;
  const inLo = Math.max(a, apLo);
  const inHi = Math.min(b, apHi);
  if (inLo < inHi && !holeBlocks(runs, inLo, inHi)) return false;
  const upLo = Math.max(a, apHi);
  return upLo < b ? holeBlocks(runs, upLo, b) : true;
}

function holeBlocks(runs: PhysRunCollector, a: number, b: number): boolean {
  // Skip the blocks wholly before the range without reporting them one by one.
  while (a < b) {
    const size = alignedBlockAt(a, b);
    if (a + size > runs.startPfn * PAGE_SIZE && !runs.hole(a / PAGE_SIZE, size / PAGE_SIZE, size))
      return false;
    a += size;
  }
  return true;
}
