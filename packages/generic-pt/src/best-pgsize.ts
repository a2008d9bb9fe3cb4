/** `pt_compute_best_pgsize` (pt_iter.h) on frame-split addresses, and bitmap helpers. */
import { ctz, flsIdx, P2 } from "./format.js";

const PAGE = 4096;

/**
 * `pt_compute_best_pgsize(bitmap, va, last_va, oa)` on frame-split addresses: the lg2 of the
 * largest size in `sizesDesc` (bitmap bits, descending) that va and oa are aligned to and that
 * fits in [va, last]; 0 when none does (also for va ≥ last, as the kernel).
 */
export function computeBestPgsizeLg2(
  sizesDesc: readonly number[],
  vaPfn: number,
  vaOff: number,
  lastPfn: number,
  lastOff: number,
  oaPfn: number,
  oaOff: number,
): number {
  if (vaPfn > lastPfn || (vaPfn === lastPfn && vaOff >= lastOff)) return 0;
  // Sizes below 4 KiB do not exist in these formats: sub-page alignment leaves no candidate.
  if (vaOff !== 0 || oaOff !== 0) return 0;
  let n = lastPfn - vaPfn;
  if (lastOff === PAGE - 1) n += 1;
  if (n === 0) return 0;
  // mask = va | oa | 2^(fls(len)-1): its lowest set bit bounds the size.
  let best = flsIdx(n);
  const a = ctz(vaPfn);
  if (a < best) best = a;
  const b = ctz(oaPfn);
  if (b < best) best = b;
  best += 12;
  for (let i = 0; i < sizesDesc.length; i++) if (sizesDesc[i]! <= best) return sizesDesc[i]!;
  return 0;
}

/** Bit numbers of a page-size bitmap, largest first. */
export function bitmapSizesDesc(bitmap: number): number[] {
  const sizes: number[] = [];
  for (let b = 63; b >= 0; b--) if (Math.floor(bitmap / P2[b]!) % 2 === 1) sizes.push(b);
  return sizes;
}
