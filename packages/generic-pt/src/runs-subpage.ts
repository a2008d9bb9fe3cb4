// drivers/iommu/generic_pt/iommu_pt.h (issue 17, model extension) for a granule below 4 KiB
// (amdv1_mock, `PT_GRANULE_LG2SZ` 11): the sink runs.ts's range walk reports granule frames
// to, folding them into the 4 KiB frames core's PhysRunCollector counts in.
//
// A piece that covers whole 4 KiB frames goes through unchanged (converted). The granules of
// a frame that several pieces share are gathered first: when they form one PA-contiguous
// mapping of one prot (or are all empty) the frame is reported as such, with the smallest
// unit (2 KiB) as its leafSize. When they do not — a 2 KiB leaf beside a hole, or two 2 KiB
// leaves that are not PA-contiguous — the collector's 4 KiB frames cannot say it; the frame
// is then reported as the granule at its first byte in the range translates it (the answer
// of one iova_to_phys_length per page at that byte, the convention of core's fallback for
// sub-page units). No allocation and no BigInt per item.
import type { PhysRunCollector } from "@iommu/core";
import type { RunSink } from "./runs.js";

/** Model-only: the 4 KiB frame being assembled from granule pieces (one per lookup, reused). */
class FrameFold implements RunSink {
  runs: PhysRunCollector | null = null;
  /** Granules per 4 KiB frame. */
  per = 2;
  /** The granule of the frame the range starts in that is its first byte in range. */
  startFrame = 0;
  startIdx = 0;
  frame = -1;
  got = 0;
  uniform = true;
  mapped = false;
  /** Phys granule of the frame's first granule, if the run so far is PA-contiguous. */
  physStart = 0;
  prot = 0;
  size = 0;
  /** The granule at the frame's first byte in range: mapped?, its phys granule, prot, unit. */
  dMapped = false;
  dPhys = 0;
  dProt = 0;
  dSize = 0;

  constructor() {
    this.physStart = this.dPhys = this.size = this.dSize = 0.5;
    this.physStart = this.dPhys = this.size = this.dSize = 0;
  }

  begin(runs: PhysRunCollector, per: number, gSize: number): void {
    this.runs = runs;
    this.per = per;
    this.startFrame = runs.startPfn;
    this.startIdx = Math.floor(runs.startOffset / gSize);
    this.frame = -1;
    this.got = 0;
  }

  /** RunSink: granules [f, f + n) mapped from phys granule `phys`. */
  leaf(f: number, n: number, phys: number, prot: number, size: number): boolean {
    return this.piece(true, f, n, phys, prot, size);
  }

  /** RunSink: granules [f, f + n) empty. */
  hole(f: number, n: number, size: number): boolean {
    return this.piece(false, f, n, 0, 0, size);
  }

  /** Granules [f, f + n) mapped to phys granules from `phys` (or a hole): false when done. */
  private piece(mapped: boolean, f: number, n: number, phys: number, prot: number, size: number): boolean {
    const runs = this.runs!;
    const per = this.per;
    while (n > 0) {
      const frame = Math.floor(f / per);
      const idx = f - frame * per;
      // Whole frames go through at once, but for the range's first frame (its phys is taken
      // at the first byte in range, see add()).
      if (idx === 0 && n >= per && frame !== this.startFrame) {
        const frames = Math.floor(n / per);
        const ok = mapped
          ? runs.leaf(frame, frames, Math.floor(phys / per), prot, size)
          : runs.hole(frame, frames, size);
        if (!ok) return false;
        f += frames * per;
        n -= frames * per;
        if (mapped) phys += frames * per;
        continue;
      }
      const take = Math.min(n, per - idx);
      if (!this.add(frame, idx, take, mapped, phys, prot, size)) return false;
      f += take;
      n -= take;
      if (mapped) phys += take;
    }
    return true;
  }

  /** Granules [idx, idx + take) of `frame`; reports the frame once all its granules are in. */
  private add(
    frame: number,
    idx: number,
    take: number,
    mapped: boolean,
    phys: number,
    prot: number,
    size: number,
  ): boolean {
    if (this.got === 0) {
      this.frame = frame;
      this.uniform = true;
      this.mapped = mapped;
      this.physStart = mapped ? phys - idx : 0;
      this.prot = mapped ? prot : 0;
      this.size = size;
    } else {
      if (mapped !== this.mapped || (mapped && (phys - idx !== this.physStart || prot !== this.prot)))
        this.uniform = false;
      if (size < this.size) this.size = size;
    }
    const d = frame === this.startFrame ? this.startIdx : 0;
    if (d >= idx && d < idx + take) {
      this.dMapped = mapped;
      this.dPhys = mapped ? phys + (d - idx) : 0;
      this.dProt = mapped ? prot : 0;
      this.dSize = size;
    }
    this.got += take;
    if (this.got < this.per) return true;
    this.got = 0;
    const runs = this.runs!;
    const per = this.per;
    // The frame's phys is read at its first byte in range (as one lookup per page there
    // reads it): exact whenever the phys keeps the IOVA's offset in its 4 KiB page.
    if (this.uniform)
      return this.mapped
        ? runs.leaf(frame, 1, Math.floor(this.dPhys / per), this.prot, this.size)
        : runs.hole(frame, 1, this.size);
    return this.dMapped
      ? runs.leaf(frame, 1, Math.floor(this.dPhys / per), this.dProt, this.dSize)
      : runs.hole(frame, 1, this.dSize);
  }
}

const fold = new FrameFold();

/** The fold of a lookup over a granule `per` times smaller than 4 KiB, ready for runs.ts's walk (reused). */
export function subPageSink(runs: PhysRunCollector, per: number, gSize: number): RunSink {
  fold.begin(runs, per, gSize);
  return fold;
}
