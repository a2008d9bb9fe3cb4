/**
 * drivers/iommu/sprd-iommu.c: the C integer conversions the driver relies on —
 * `(u32)paddr` PA truncation and the `unsigned long` aperture arithmetic — on the
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
  if (typeof a === "number") return modPow2(Math.floor(a / 2 ** shift), TWO32);
  return Number(BigInt.asUintN(32, a >> BigInt(shift)));
}

/** `a mod m` for a power of two m ≤ 2^32 (alignment checks). */
export function modAddr(a: Addr, m: number): number {
  return typeof a === "number" ? modPow2(a, m) : Number(a % BigInt(m));
}
