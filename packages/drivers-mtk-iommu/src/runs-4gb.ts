/**
 * drivers/iommu/mtk_iommu.c (issue 17, model extension): the run lookup in 4GB mode. Map adds
 * PA bit 32, and `mtk_iommu_iova_to_phys` strips it again from results at or above
 * 0x1_4000_0000; the runs must report what that lookup reports, so every leaf the v7s walk
 * reports passes through the same strip before the core's collector merges it. A v7s leaf
 * (at most a 16M supersection) never straddles 0x1_4000_0000 (1 GiB aligned), so the strip
 * applies per leaf; where it splits a stretch that was PA-contiguous in the table (stored
 * 0x1_3fff_f000 → 0x1_4000_0000 reads back as 0x1_3fff_f000 → 0x4000_0000), the collector
 * ends the run there, as a per-page lookup would.
 *
 * Hot path: frame numbers only (plain doubles), nothing allocated per leaf.
 */
import { PhysRunCollector } from "@iommu/core";

/** Bit 32 of a PA as a bit of its 4 KiB frame number. */
const PFN_BIT32 = 2 ** 20;
/** `MTK_IOMMU_4GB_MODE_REMAP_BASE` >> 12. */
const REMAP_BASE_PFN = 0x1_4000_0000 / 4096;

/**
 * `mtk_iommu_iova_to_phys`'s 4GB-mode strip on a 4 KiB frame number: `pa >=
 * MTK_IOMMU_4GB_MODE_REMAP_BASE` → `pa &= ~BIT_ULL(32)`.
 */
export function mtkIommuStrip4gbPfn(pfn: number): number {
  if (pfn < REMAP_BASE_PFN) return pfn;
  return Math.floor(pfn / PFN_BIT32) % 2 === 1 ? pfn - PFN_BIT32 : pfn;
}

/**
 * Model-only: a {@link PhysRunCollector} in front of the core's that strips bit 32 from each
 * leaf's frame (4GB mode) and forwards everything else unchanged. Reused across lookups
 * ({@link mtkIommu4gbRuns}); the range is copied from the core's collector at {@link wrap}.
 */
export class MtkIommu4gbRuns extends PhysRunCollector {
  private inner: PhysRunCollector | null = null;

  /** Front `inner` for one lookup. */
  wrap(inner: PhysRunCollector): this {
    this.inner = inner;
    this.startPfn = inner.startPfn;
    this.endPfn = inner.endPfn;
    this.startOffset = inner.startOffset;
    return this;
  }

  /** Stop fronting (the lookup is over). */
  release(): void {
    this.inner = null;
  }

  override get wanted(): boolean {
    return this.inner?.wanted ?? false;
  }

  override leaf(iovaPfn: number, pfns: number, physPfn: number, prot: number, leafSize: number): boolean {
    return this.inner!.leaf(iovaPfn, pfns, mtkIommuStrip4gbPfn(physPfn), prot, leafSize);
  }

  override hole(iovaPfn: number, pfns: number, slotSize: number): boolean {
    return this.inner!.hole(iovaPfn, pfns, slotSize);
  }

  override finish(): number {
    throw new Error("MtkIommu4gbRuns: the core's collector finishes the lookup");
  }
}

const pool: MtkIommu4gbRuns[] = [];

/**
 * Model-only: run `walk` with a 4GB-mode front on `inner` — one reused front per nesting
 * depth (a visitor may look up runs again from inside a lookup), nothing allocated per call
 * once warm.
 */
export function mtkIommu4gbRuns<T>(
  inner: PhysRunCollector,
  arg: T,
  walk: (arg: T, runs: PhysRunCollector) => void,
): void {
  const front = pool.pop() ?? new MtkIommu4gbRuns();
  try {
    walk(arg, front.wrap(inner));
  } finally {
    front.release();
    pool.push(front);
  }
}
