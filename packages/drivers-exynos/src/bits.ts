/**
 * drivers/iommu/exynos-iommu.c: the C integer conversions the driver relies on —
 * `(sysmmu_iova_t)l_iova` (u32 truncation) and `(sysmmu_pte_t)(pa >> PG_ENT_SHIFT)` — on the
 * model's {@link Addr} values. Numbers take the arithmetic path; a bigint (only raw callers
 * pass one) is converted once per call, never per PTE.
 */
import { type Addr, modPow2 } from "@iommu/core";

const TWO32 = 2 ** 32;

/** `(u32)a`: the low 32 bits of an address. */
export function low32(a: Addr): number {
  if (typeof a === "number") return a < TWO32 ? a : modPow2(a, TWO32);
  return Number(BigInt.asUintN(32, a));
}

/** Whether `a ≥ limit` (`limit` a power of two ≤ 2^53). */
export function atOrAbove(a: Addr, limit: number): boolean {
  return typeof a === "number" ? a >= limit : a >= BigInt(limit);
}

/** `(u32)(a >> shift)` for a shift of 0..31. */
export function shiftedLow32(a: Addr, shift: number): number {
  if (typeof a === "number") {
    // Exact integer paths for a u32 and for a safe integer split in 32-bit halves; the float
    // path (`2 ** shift` is a pow call for a variable shift) only for anything else.
    if (a >>> 0 === a) return a >>> shift;
    if (a >= 0 && a <= Number.MAX_SAFE_INTEGER) {
      const hi = Math.floor(a / TWO32);
      const lo = a - hi * TWO32;
      return shift === 0 ? lo >>> 0 : ((hi << (32 - shift)) | (lo >>> shift)) >>> 0;
    }
    return modPow2(Math.floor(a / 2 ** shift), TWO32);
  }
  return Number(BigInt.asUintN(32, a >> BigInt(shift)));
}

/** `a mod m` for a power of two m ≤ 2^32 (alignment checks). */
export function modAddr(a: Addr, m: number): number {
  return typeof a === "number" ? modPow2(a, m) : Number(a % BigInt(m));
}
