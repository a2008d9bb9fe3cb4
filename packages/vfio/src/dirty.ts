/**
 * Dirty page tracking (VFIO_IOMMU_DIRTY_PAGES, UNMAP_DMA with GET_DIRTY_BITMAP): one bitmap per
 * vfio_dma at the smallest IOMMU page size, merged into the user's bitmap at the dma's bit
 * offset exactly as `update_user_bitmap` does — including its word-granular shifts and ORs.
 *
 * Bitmaps are kept as 32-bit words: on a little-endian machine that is the same memory as the
 * kernel's `unsigned long` words, so bit i is bit (i mod 32) of word i / 32 either way.
 */
import { ffs, negErrno, PAGE_SIZE, toBigInt } from "@iommu/core";
import type { VfioDma } from "./dma.js";
import { U64_MAX, type VfioIommuState } from "./state.js";
import {
  DIRTY_BITMAP_PAGES_MAX,
  DIRTY_BITMAP_SIZE_MAX,
  VFIO_DIRTY_BITMAP_GET_SIZE,
  VFIO_DIRTY_PAGES_MINSZ,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
  type VfioBitmap,
  type VfioDirtyBitmap,
} from "./uapi.js";

/** `DIRTY_BITMAP_BYTES(n)`: bytes of u64 words holding n bits. */
export function dirtyBitmapBytes(nbits: number): number {
  return Math.ceil(nbits / 64) * 8;
}

/** `vfio_dma_bitmap_alloc`: 0 or -EINVAL (more than INT_MAX pages). */
export function dmaBitmapAlloc(dma: VfioDma, pgsize: number): number {
  const npages = Math.floor(dma.size / pgsize);
  if (npages > DIRTY_BITMAP_PAGES_MAX) return -22;
  // One spare u64: update_user_bitmap shifts the bitmap left in place by up to 63 bits.
  dma.bitmap = new Uint32Array((dirtyBitmapBytes(npages) + 8) / 4);
  return 0;
}

/** Bits [b, b + take) of a 32-bit word (take + b ≤ 32). */
function wordMask(take: number, b: number): number {
  return ((2 ** take - 1) * 2 ** b) >>> 0;
}

/** `bitmap_set(map, start, n)` */
export function bitmapSet(map: Uint32Array, start: number, n: number): void {
  for (let i = start; i < start + n; ) {
    const b = i & 31;
    const take = Math.min(32 - b, start + n - i);
    map[i >>> 5]! |= wordMask(take, b);
    i += take;
  }
}

/** `bitmap_clear(map, start, n)` */
export function bitmapClear(map: Uint32Array, start: number, n: number): void {
  for (let i = start; i < start + n; ) {
    const b = i & 31;
    const take = Math.min(32 - b, start + n - i);
    map[i >>> 5]! &= ~wordMask(take, b);
    i += take;
  }
}

/** `vfio_dma_populate_bitmap`: pages pinned by devices are dirty by definition. */
export function dmaPopulateBitmap(dma: VfioDma, pgsize: number): void {
  for (const vpfn of dma.pfnList.values())
    bitmapSet(dma.bitmap!, Math.floor((vpfn.iova - dma.iova) / pgsize), 1);
}

/**
 * `__bitmap_shift_left(map, map, shift, nbits)` for shift < 64, in place, over
 * BITS_TO_LONGS(nbits) u64 words: each word takes the bits that fall off the one below it;
 * bits shifted out of the top word are lost, nothing above `nbits` is masked.
 */
function shiftLeftInPlace(map: Uint32Array, shift: number, nbits: number): void {
  const words32 = Math.ceil(nbits / 64) * 2;
  const off = shift >>> 5;
  const rem = shift & 31;
  for (let k = words32 - 1; k >= 0; k--) {
    const src = k - off;
    const upper = src >= 0 ? (map[src]! << rem) >>> 0 : 0;
    const lower = rem && src - 1 >= 0 ? map[src - 1]! >>> (32 - rem) : 0;
    map[k] = (upper | lower) >>> 0;
  }
}

/**
 * `update_user_bitmap`: merge `dma`'s bits into the user bitmap whose bit 0 is `baseIova`.
 * With an IOMMU-backed group that cannot report dirty pages, every page of a mapped dma is
 * dirty. Returns 0 or -EFAULT when the user buffer is too small.
 */
export function updateUserBitmap(
  user: Uint32Array,
  dma: VfioDma,
  baseIova: number,
  pgsize: number,
  allDirty: boolean,
): number {
  const bitmap = dma.bitmap!;
  const nbits = Math.floor(dma.size / pgsize);
  const bitOffset = Math.floor((dma.iova - baseIova) / pgsize);
  const copyOffset = Math.floor(bitOffset / 64) * 2;
  const shift = bitOffset % 64;
  if (allDirty) bitmapSet(bitmap, 0, nbits);
  if (shift) {
    shiftLeftInPlace(bitmap, shift, nbits + shift);
    if (copyOffset + 2 > user.length) return -14;
    // bitmap_or over `shift` bits touches the whole first word.
    bitmap[0]! |= user[copyOffset]!;
    bitmap[1]! |= user[copyOffset + 1]!;
  }
  const words = dirtyBitmapBytes(nbits + shift) / 4;
  if (copyOffset + words > user.length) return -14;
  user.set(bitmap.subarray(0, words), copyOffset);
  return 0;
}

/** `verify_bitmap_size`: a nonzero bitmap, within DIRTY_BITMAP_SIZE_MAX, big enough for npages bits. */
export function verifyBitmapSize(npages: bigint, bytes: bigint): boolean {
  return (
    npages > 0n &&
    bytes > 0n &&
    bytes <= BigInt(DIRTY_BITMAP_SIZE_MAX) &&
    bytes >= ((npages + 63n) / 64n) * 8n
  );
}

/** The user's u64 words as 32-bit words (the same memory on a little-endian machine). */
export function userBitmap(bm: VfioBitmap): Uint32Array {
  const data = bm.data ?? new BigUint64Array(0);
  return new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
}

/** Every page of a mapped dma is dirty while an IOMMU-backed group cannot report dirtying. */
export function allDirty(st: VfioIommuState, dma: VfioDma): boolean {
  return st.numNonPinnedGroups > 0 && dma.iommuMapped;
}

/**
 * `VFIO_IOMMU_DIRTY_PAGES` (`vfio_iommu_type1_dirty_pages`): START / STOP tracking, or
 * GET_BITMAP of [iova, iova + size) into `range.bitmap.data`. 0 or -errno.
 */
export function vfioIommuType1DirtyPages(st: VfioIommuState, req: VfioDirtyBitmap): number {
  if (!st.v2) return negErrno("EACCES");
  const mask =
    VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
    VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
    VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
  const flags = req.flags;
  const argsz = req.argsz ?? VFIO_DIRTY_PAGES_MINSZ + (req.range ? VFIO_DIRTY_BITMAP_GET_SIZE : 0);
  if (argsz < VFIO_DIRTY_PAGES_MINSZ || flags & ~mask) return negErrno("EINVAL");
  // Exactly one flag.
  if (flags === 0 || (flags & (flags - 1)) !== 0) return negErrno("EINVAL");
  const pgsize = st.minPageSize;
  if (flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
    if (st.dirtyPageTracking) return 0;
    for (const dma of st.dmas.items) {
      const ret = dmaBitmapAlloc(dma, pgsize);
      if (ret) {
        for (const d of st.dmas.items) d.bitmap = null;
        return ret;
      }
      dmaPopulateBitmap(dma, pgsize);
    }
    st.dirtyPageTracking = true;
    return 0;
  }
  if (flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
    if (st.dirtyPageTracking) {
      st.dirtyPageTracking = false;
      for (const dma of st.dmas.items) dma.bitmap = null;
    }
    return 0;
  }
  const dataSize = argsz - VFIO_DIRTY_PAGES_MINSZ;
  const range = req.range;
  if (!dataSize || dataSize < VFIO_DIRTY_BITMAP_GET_SIZE || !range) return negErrno("EINVAL");
  const iova = toBigInt(range.iova);
  const size = toBigInt(range.size);
  if (iova < 0n || size < 0n || iova > U64_MAX || size > U64_MAX) return negErrno("EOVERFLOW");
  if (!size) return negErrno("EINVAL");
  if (iova + size - 1n > U64_MAX) return negErrno("EOVERFLOW");
  const bmPgsize = toBigInt(range.bitmap.pgsize);
  if (bmPgsize <= 0n) return negErrno("EINVAL");
  if (!verifyBitmapSize(size >> BigInt(ffs(Number(bmPgsize & -bmPgsize))), toBigInt(range.bitmap.size)))
    return negErrno("EINVAL");
  const pg = BigInt(pgsize);
  if (bmPgsize !== pg || iova & (pg - 1n) || size & (pg - 1n)) return negErrno("EINVAL");
  if (!st.dirtyPageTracking) return negErrno("EINVAL");
  return iovaDirtyBitmap(st, userBitmap(range.bitmap), Number(iova), Number(iova + size), pgsize);
}

/** `vfio_iova_dirty_bitmap`: whole dmas only; each dma's bitmap restarts from its device pins. */
function iovaDirtyBitmap(
  st: VfioIommuState,
  user: Uint32Array,
  start: number,
  endExcl: number,
  pgsize: number,
): number {
  let dma = st.dmas.find(start, 1);
  if (dma && dma.iova !== start) return negErrno("EINVAL");
  dma = st.dmas.find(endExcl - PAGE_SIZE, PAGE_SIZE);
  if (dma && dma.end !== endExcl) return negErrno("EINVAL");
  for (const d of st.dmas.items) {
    if (d.iova < start) continue;
    if (d.iova >= endExcl) break;
    const ret = updateUserBitmap(user, d, start, pgsize, allDirty(st, d));
    if (ret) return ret;
    bitmapClear(d.bitmap!, 0, Math.floor(d.size / pgsize));
    dmaPopulateBitmap(d, pgsize);
  }
  return 0;
}
