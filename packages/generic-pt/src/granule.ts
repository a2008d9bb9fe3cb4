/**
 * drivers/iommu/generic_pt/pt_fmt_defaults.h `PT_GRANULE_LG2SZ` against `PAGE_SHIFT`: the
 * conversions between the core's addresses (4 KiB frame + offset, `Addr`) and the walker's
 * frames of the format's granule, for formats whose granule is below 4 KiB (amdv1_mock: 2 KiB).
 * 4 KiB formats never call these: their frames are the core's.
 */
import { type Addr, fromPfn, offOf, type PhysLength, pfnOf } from "@iommu/core";
import { P2 } from "./pt-log2.js";

/** Model-only: the granule frame of `a` (granule 2^`g` bytes, `g` ≤ 12). */
export function gFrameOf(g: number, a: Addr): number {
  return pfnOf(a) * P2[12 - g]! + Math.floor(offOf(a) / P2[g]!);
}

/** Model-only: the offset of `a` inside its granule frame. */
export function gOffOf(g: number, a: Addr): number {
  const o = offOf(a);
  return o - Math.floor(o / P2[g]!) * P2[g]!;
}

/** Model-only: the address of granule frame `frame` plus `off` (a number when safe, else a bigint). */
export function gAddr(g: number, frame: number, off: number): Addr {
  const s = P2[12 - g]!;
  const p = Math.floor(frame / s);
  return fromPfn(p, (frame - p * s) * P2[g]! + off);
}

/** Model-only: `out.setMapped` for a physical address given as granule frame + offset. */
export function gSetMapped(g: number, out: PhysLength, frame: number, off: number, length: number): void {
  const s = P2[12 - g]!;
  const p = Math.floor(frame / s);
  out.setMapped(p, (frame - p * s) * P2[g]! + off, length);
}
