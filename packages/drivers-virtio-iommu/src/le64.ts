// include/linux/byteorder (cpu_to_le64 / le64_to_cpu) for request fields in simulated memory:
// a 64-bit field is two little-endian 32-bit words, composed as a number without a BigInt.
// Exact for values below 2^53 and for multiples of 4 KiB up to 2^64 (every aligned address).

import type { PhysMem } from "@iommu/core";

const TWO32 = 2 ** 32;

/** Write `v` (an exact number < 2^64) as a le64 at `pa`. */
export function writeLe64(mem: PhysMem, pa: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  mem.write32(pa, v - hi * TWO32);
  mem.write32(pa + 4, hi);
}

/** Write `end − 1` as a le64 at `pa`: an inclusive `last` from an exclusive end ≤ 2^64, exactly. */
export function writeLe64Last(mem: PhysMem, pa: number, end: number): void {
  const hi = Math.floor(end / TWO32);
  const lo = end - hi * TWO32;
  if (lo === 0) {
    mem.write32(pa, 0xffffffff);
    mem.write32(pa + 4, (hi - 1) >>> 0);
  } else {
    mem.write32(pa, lo - 1);
    mem.write32(pa + 4, hi);
  }
}

/** Read a le64 at `pa` as a number (rounded when not exact; see the file header). */
export function readLe64(mem: PhysMem, pa: number): number {
  return mem.read32(pa + 4) * TWO32 + mem.read32(pa);
}

/** Read an inclusive le64 `last` at `pa` as the exclusive end `last + 1` (≤ 2^64). */
export function readLe64End(mem: PhysMem, pa: number): number {
  return mem.read32(pa + 4) * TWO32 + (mem.read32(pa) + 1);
}
