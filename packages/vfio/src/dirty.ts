/**
 * Dirty page tracking (VFIO_IOMMU_DIRTY_PAGES, UNMAP_DMA with GET_DIRTY_BITMAP): one bitmap per
 * vfio_dma at the smallest IOMMU page size, merged into the user's bitmap at the dma's bit
 * offset exactly as `update_user_bitmap` does — including its word-granular shifts and ORs.
 *
 * Bitmaps are kept as 32-bit words: on a little-endian machine that is the same memory as the
 * kernel's `unsigned long` words, so bit i is bit (i mod 32) of word i / 32 either way.
 */

import type { VfioDma } from "./dma.js";
import { DIRTY_BITMAP_PAGES_MAX } from "./uapi.js";

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
