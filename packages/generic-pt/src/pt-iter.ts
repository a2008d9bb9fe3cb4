/**
 * drivers/iommu/generic_pt/pt_iter.h: the `pt_range` cursor of a table and the range
 * iteration on it (make/check range, index and end index, `pt_index_to_va`,
 * `pt_entry_fully_covered`, `pt_compute_best_pgsize`). {@link PtTable} extends {@link PtRange},
 * so the op files walk with `pt.idxAt(level)` etc.: method calls V8 resolves through the
 * class, where free functions imported across modules would cost a module-binding load per
 * call on the hot paths (measured: +5–8 ns per map/unmap when running from source).
 */
import { ERRNO } from "@iommu/core";
import { ctz, flsIdx, P2, P2INV } from "./pt-log2.js";

// Local copies: hot paths avoid loading imported bindings.
const EINVAL = -ERRNO.EINVAL;
const ERANGE = -ERRNO.ERANGE;
const EOVERFLOW = -ERRNO.EOVERFLOW;
const MAX_LEVELS = 6;
const INV512 = 1 / 512;

/**
 * `struct pt_range` (with the per-level constants of `pt_state` the walks need): the cursor
 * [va, last_va] as frame + offset, the top range's check constants and the level scales.
 * The base of {@link PtTable}; {@link PtTable.computeTopRange} fills the constants.
 *
 * Frames are granules of the format (`PT_GRANULE_LG2SZ`: 4 KiB, amdv1_mock 2 KiB), so a
 * level-0 item is one frame whatever the granule and the index arithmetic is the same.
 */
export class PtRange {
  /** `PT_GRANULE_LG2SZ`, the granule in bytes and its reciprocal (set once by the table). */
  gLg2 = 12;
  gSize = 4096;
  gInv = 1 / 4096;
  /** Frames in 2^64 bytes. */
  gPfnLimit = 2 ** 52;
  /** `range->top_level` */
  topLevel = 0;
  /** `pt_feature(SIGN_EXTEND)`, resolved once. */
  fSign = false;
  /** pt_check_range constants for the top range: 2^-(max_vasz-g), 2^-(max_vasz-g-1), upper prefix (g = granule lg2). */
  rangeInv = 0;
  rangeSignInv = 0;
  rangeUpper = 0;
  /** Items the top table indexes: 2^(range max_vasz - top item size). */
  topItems = 512;
  invTopItems = 1 / 512;

  // Level constants.
  readonly scale = new Float64Array(MAX_LEVELS + 1);
  /** 1 / scale: exact, and a multiply is several times cheaper than a divide. */
  readonly invScale = new Float64Array(MAX_LEVELS + 1);
  /** Items a table at each level indexes (512; the top: topItems), minus one: powers of two ≤ 512. */
  readonly levelMask = new Int32Array(MAX_LEVELS + 1);
  readonly tableOaScale = new Float64Array(MAX_LEVELS + 1);
  readonly invTableOaScale = new Float64Array(MAX_LEVELS + 1);
  /** bestBelow[b] = the largest size of the domain bitmap ≤ 2^b (lg2), 0 if none. */
  readonly bestBelow = new Int32Array(65);

  // The cursor: va = curPfn·gSize + curOff, last_va = lastPfn·gSize + lastOff.
  curPfn = 0;
  curOff = 0;
  lastPfn = 0;
  lastOff = 0;

  constructor() {
    for (let l = 0; l <= MAX_LEVELS; l++) {
      this.scale[l] = P2[9 * l]!;
      this.invScale[l] = 2 ** (-9 * l);
    }
  }

  /** `make_range_no_check` for [va, va + len): 0, -EINVAL or -EOVERFLOW. */
  makeRange(vaPfn: number, vaOff: number, len: number): number {
    if (len === 0) return EINVAL;
    if (len >= P2[64]!) return EOVERFLOW;
    const g = this.gSize;
    const lenPfn = Math.floor(len * this.gInv);
    let lo = vaOff + (len - lenPfn * g) - 1;
    let lp = vaPfn + lenPfn;
    if (lo < 0) {
      lo += g;
      lp -= 1;
    } else if (lo >= g) {
      lo -= g;
      lp += 1;
    }
    if (lp >= this.gPfnLimit) return EOVERFLOW;
    this.curPfn = vaPfn;
    this.curOff = vaOff;
    this.lastPfn = lp;
    this.lastOff = lo;
    return 0;
  }

  /** `pt_check_range` against the current top range. */
  checkTopRange(): number {
    if (this.rangeInv === 0) return 0; // FULL_VA: every u64 is inside
    const want = this.fSign && Math.floor(this.curPfn * this.rangeSignInv) !== 0 ? this.rangeUpper : 0;
    if (Math.floor(this.curPfn * this.rangeInv) !== want || Math.floor(this.lastPfn * this.rangeInv) !== want)
      return ERANGE;
    return 0;
  }

  /** `pt_check_range` against a top range of `mv` VA bits. */
  checkRange(mv: number): number {
    let upper = false;
    if (this.fSign) upper = Math.floor(this.curPfn / P2[mv - this.gLg2 - 1]!) !== 0;
    if (mv >= 64) return 0; // FULL_VA: every u64 is inside
    const d = P2[mv - this.gLg2]!;
    const want = upper ? Math.floor((this.gPfnLimit - 1) / d) : 0;
    if (Math.floor(this.curPfn / d) !== want || Math.floor(this.lastPfn / d) !== want) return ERANGE;
    return 0;
  }

  /** `pt_range_to_index` */
  idxAt(level: number): number {
    // q mod items: ToInt32 keeps q's low 32 bits exactly (q is an integer below 2^53) and the
    // mask only needs 9 of them. The int32 result keeps callers' index arithmetic in integers.
    return Math.floor(this.curPfn * this.invScale[level]!) & this.levelMask[level]!;
  }

  /** `pt_range_to_end_index` (exclusive) */
  endIdx(level: number, idx: number): number {
    if (this.curPfn === this.lastPfn && this.curOff === this.lastOff) return idx + 1;
    const inv = this.invScale[level]!;
    const q = Math.floor(this.lastPfn * inv);
    if (level === this.topLevel) return (q - Math.floor(q * this.invTopItems) * this.topItems + 1) | 0;
    const qs = Math.floor(q * INV512);
    if (Math.floor(Math.floor(this.curPfn * inv) * INV512) === qs) return (q - qs * 512 + 1) | 0;
    return 512;
  }

  /** `pt_index_to_va` */
  indexToVa(level: number, idx: number): void {
    const t = this.tableOaScale[level]!;
    this.curPfn = Math.floor(this.curPfn * this.invTableOaScale[level]!) * t + idx * this.scale[level]!;
    this.curOff = 0;
  }

  /** VA frame of item `idx` at `level` in the table the cursor is in (no cursor change). */
  itemVaPfn(level: number, idx: number): number {
    const t = this.tableOaScale[level]!;
    return Math.floor(this.curPfn * this.invTableOaScale[level]!) * t + idx * this.scale[level]!;
  }

  /** `pt_entry_fully_covered(pts, oasz_lg2)` for the cursor. */
  fullyCovered(lg2: number): boolean {
    const k = lg2 - this.gLg2;
    const s = P2[k]!;
    const inv = P2INV[k]!;
    const q = Math.floor(this.curPfn * inv);
    if (this.curOff !== 0 || this.curPfn !== q * s) return false;
    const ql = Math.floor(this.lastPfn * inv);
    if (q !== ql) return true;
    return this.lastOff === this.gSize - 1 && this.lastPfn - ql * s === s - 1;
  }

  /** `log2_mod(range->va, lg2) == 0` */
  vaAligned(lg2: number): boolean {
    if (this.curOff !== 0) return false;
    const k = lg2 - this.gLg2;
    return this.curPfn === Math.floor(this.curPfn * P2INV[k]!) * P2[k]!;
  }

  /** `pt_compute_best_pgsize` on the cursor range and `oa`; 0 = nothing fits. */
  bestPgsizeLg2(oaPfn: number, oaOff: number): number {
    if (this.curPfn > this.lastPfn || (this.curPfn === this.lastPfn && this.curOff >= this.lastOff)) return 0;
    if (this.curOff !== 0 || oaOff !== 0) return 0;
    let n = this.lastPfn - this.curPfn;
    if (this.lastOff === this.gSize - 1) n += 1;
    if (n === 0) return 0;
    let best = flsIdx(n);
    const a = ctz(this.curPfn);
    if (a < best) best = a;
    const b = ctz(oaPfn);
    if (b < best) best = b;
    return this.bestBelow[best + this.gLg2]!;
  }
}

/**
 * `pt_compute_best_pgsize(bitmap, va, last_va, oa)` on frame-split addresses (frames of
 * 2^`granuleLg2` bytes, 4 KiB unless given): the lg2 of the largest size in `sizesDesc` (bitmap
 * bits, descending) that va and oa are aligned to and that fits in [va, last]; 0 when none
 * does (also for va ≥ last, as the kernel).
 */
export function computeBestPgsizeLg2(
  sizesDesc: readonly number[],
  vaPfn: number,
  vaOff: number,
  lastPfn: number,
  lastOff: number,
  oaPfn: number,
  oaOff: number,
  granuleLg2 = 12,
): number {
  if (vaPfn > lastPfn || (vaPfn === lastPfn && vaOff >= lastOff)) return 0;
  // Sizes below the granule do not exist: sub-granule alignment leaves no candidate.
  if (vaOff !== 0 || oaOff !== 0) return 0;
  let n = lastPfn - vaPfn;
  if (lastOff === P2[granuleLg2]! - 1) n += 1;
  if (n === 0) return 0;
  // mask = va | oa | 2^(fls(len)-1): its lowest set bit bounds the size.
  let best = flsIdx(n);
  const a = ctz(vaPfn);
  if (a < best) best = a;
  const b = ctz(oaPfn);
  if (b < best) best = b;
  best += granuleLg2;
  for (let i = 0; i < sizesDesc.length; i++) if (sizesDesc[i]! <= best) return sizesDesc[i]!;
  return 0;
}

/** Model-only: the bit numbers of a page-size bitmap, largest first (`for_each_set_bit` reversed). */
export function bitmapSizesDesc(bitmap: number): number[] {
  const sizes: number[] = [];
  for (let b = 63; b >= 0; b--) if (Math.floor(bitmap / P2[b]!) % 2 === 1) sizes.push(b);
  return sizes;
}
