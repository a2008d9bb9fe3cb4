/**
 * drivers/iommu/generic_pt/iommu_pt.h `__iova_to_phys` behind the series' `iova_to_phys_length`
 * (which replaced `iova_to_phys`): one descent from the walk cache or the top, no allocation, no BigInt.
 * Frames are the format's granule (4 KiB; amdv1_mock's 2 KiB through granule.ts).
 */
import { type Addr, ERRNO, holeSpanOutside, offOf, type PhysLength, pfnOf } from "@iommu/core";
import type { PtIommu } from "./domain.js";
import { cContig, cPfn, cType } from "./entry-codec.js";
import { gFrameOf, gOffOf, gSetMapped } from "./granule.js";
import type { PtFormat } from "./pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE } from "./pt-defs.js";
import { P2, P2INV } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";

// Local copies: hot paths avoid loading imported bindings.
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INV_4K = 1 / 4096;
const ERANGE = -ERRNO.ERANGE;
const ENOENT = -ERRNO.ENOENT;

/**
 * `__iova_to_phys`: one lookup walk: 0 with lPhysPfn/lLenLg2 set, -ENOENT with lLenLg2 =
 * the empty item's size, or -ERANGE (outside the table).
 */
export function lookup(pt: PtTable, vaPfn: number, vaOff: number): number {
  pt.curPfn = pt.lastPfn = vaPfn;
  pt.curOff = pt.lastOff = vaOff;
  if (vaPfn >= pt.lkLow && vaPfn < pt.lkHigh) return ERANGE;
  const codec = pt.codec;
  const top = pt.topLevel;
  let level = pt.cachedLevel(vaPfn, top);
  let words = level === top ? pt.topWords : pt.wcHit;
  for (;;) {
    const w = 2 * pt.idxAt(level);
    const lo = words[w]!;
    const hi = words[w + 1]!;
    const t = cType(codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      words = pt.wordsOfPfn(cPfn(codec, lo, hi));
      level--;
      continue;
    }
    // Reads of the whole descent from the top, cached levels included.
    pt.counters.pteReads += top - level + 1;
    if (level !== top) pt.rememberWalk(vaPfn, level, words);
    pt.lLevel = level;
    if (t === PT_ENTRY_EMPTY) {
      pt.lLenLg2 = pt.gLg2 + 9 * level;
      return ENOENT;
    }
    // Contiguous entries out of line: the plain-leaf walk stays small enough for V8 to
    // inline it, with iova_to_phys, into the caller's loop (no boxed double per call).
    if (cContig(codec, lo, hi)) return lookupContig(pt, vaPfn, lo, hi, level);
    pt.lLenLg2 = pt.gLg2 + 9 * level;
    // OA of the item plus the iova's frame offset inside it.
    pt.lPhysPfn =
      cPfn(codec, lo, hi) +
      (level === 0 ? 0 : vaPfn - Math.floor(vaPfn * pt.invScale[level]!) * pt.scale[level]!);
    return 0;
  }
}

/**
 * {@link lookup} when the walk cache holds the level-0 table of `vaPfn` and its item there is a
 * plain leaf: true with lPhysPfn/lLenLg2/lLevel and the reads as the walk leaves them; false,
 * nothing counted, when the full walk must run. No loop: an op inlines it and {@link lookup}
 * is compiled only if it runs, which shortens a process's first pass (it waits for that code).
 */
function lookupCachedLeaf(pt: PtTable, vaPfn: number, vaOff: number): boolean {
  if (vaPfn >= pt.lkLow && vaPfn < pt.lkHigh) return false;
  const w = pt.cachedItem0(vaPfn, vaOff, vaOff);
  if (w < 0) return false;
  const words = pt.wcWords[0]!;
  const lo = words[w]!;
  const hi = words[w + 1]!;
  const codec = pt.codec;
  if (cType(codec, lo, hi, 0) !== PT_ENTRY_OA || cContig(codec, lo, hi)) return false;
  pt.counters.pteReads += pt.topLevel + 1;
  pt.lLevel = 0;
  pt.lLenLg2 = pt.gLg2;
  pt.lPhysPfn = cPfn(codec, lo, hi);
  return true;
}

/** `iova_to_phys_length` of a number IOVA below 2^53, 4 KiB granule: a cached leaf in line, else the walk. */
function iovaToPhysLengthNumber(pt: PtTable, iova: number, out: PhysLength): void {
  const pfn = Math.floor(iova * INV_4K);
  const off = iova - pfn * 4096;
  if (lookupCachedLeaf(pt, pfn, off)) {
    out.setMapped(pt.lPhysPfn, off, 4096);
    return;
  }
  const r = lookup(pt, pfn, off);
  if (r === 0) out.setMapped(pt.lPhysPfn, off, P2[pt.lLenLg2]!);
  else lengthMiss(pt, iova, r, out);
}

/** `__iova_to_phys` at a contiguous leaf entry (out of line, see {@link lookup}). */
export function lookupContig(pt: PtTable, vaPfn: number, lo: number, hi: number, level: number): number {
  const lg2 = pt.gLg2 + 9 * level + pt.contigLg2(lo, hi, level);
  const k = lg2 - pt.gLg2;
  pt.lLenLg2 = lg2;
  pt.lPhysPfn =
    pt.oaPfnOf(lo, hi, level) + (lg2 >= 64 ? vaPfn : vaPfn - Math.floor(vaPfn * P2INV[k]!) * P2[k]!);
  return 0;
}

/**
 * `iova_to_phys_length`: phys + translation-unit size, or the size of the hole. Outside the top
 * range (-ERANGE: above an amdv1 table's current top, beyond max_vasz, non-canonical) the hole
 * is the largest naturally aligned block around the iova that misses `pt.translatableRanges`.
 */
export function ptIovaToPhysLength(pt: PtTable, iova: Addr, out: PhysLength): void {
  // A number IOVA below 2^53 with the 4 KiB granule, in few bytecodes so that callers' loops
  // inline the whole lookup; the rest out of line.
  if (typeof iova === "number" && iova <= MAX_SAFE && pt.gLg2 === 12) {
    iovaToPhysLengthNumber(pt, iova, out);
    return;
  }
  if (pt.gLg2 !== 12) {
    subIovaToPhysLength(pt, iova, out);
    return;
  }
  const pfn = pfnOf(iova);
  const off = offOf(iova);
  const r = lookup(pt, pfn, off);
  if (r === 0) out.setMapped(pt.lPhysPfn, off, P2[pt.lLenLg2]!);
  else lengthMiss(pt, iova, r, out);
}

/** The unmapped answers of the lookups, out of line (see {@link ptIovaToPhysLength}). */
function lengthMiss(pt: PtTable, iova: Addr, r: number, out: PhysLength): void {
  if (r === ENOENT) out.setUnmapped(P2[pt.lLenLg2]!);
  else out.setUnmapped(holeSpanOutside(iova, pt.translatableRanges));
}

/** {@link ptIovaToPhysLength} for a granule below 4 KiB (amdv1_mock). */
function subIovaToPhysLength(pt: PtTable, iova: Addr, out: PhysLength): void {
  const g = pt.gLg2;
  const off = gOffOf(g, iova);
  const r = lookup(pt, gFrameOf(g, iova), off);
  if (r === 0) gSetMapped(g, out, pt.lPhysPfn, off, P2[pt.lLenLg2]!);
  else if (r === ENOENT) out.setUnmapped(P2[pt.lLenLg2]!);
  else out.setUnmapped(holeSpanOutside(iova, pt.translatableRanges));
}

/**
 * `IOMMU_PT_DOMAIN_OPS(fmt).iova_to_phys_length` (the series' op; it replaced `NS(iova_to_phys)`),
 * made once per format like the kernel's per-format instantiation. A number IOVA goes straight
 * to the 4 KiB number path, skipping {@link ptIovaToPhysLength}'s granule dispatch (a call level
 * less on the lookup path: 2–4 ns, 5–10% per lookup, when running from source). A format with a
 * granule below 4 KiB gets the converting version instead.
 */
export function lookupOps(fmt: PtFormat): {
  iovaToPhysLength(d: PtIommu, iova: Addr, out: PhysLength): void;
} {
  if (fmt.granuleLg2 !== 12)
    return { iovaToPhysLength: (d, iova, out) => subIovaToPhysLength(d.pt, iova, out) };
  return {
    iovaToPhysLength(d: PtIommu, iova: Addr, out: PhysLength): void {
      if (typeof iova === "number" && iova <= MAX_SAFE) iovaToPhysLengthNumber(d.pt, iova, out);
      else ptIovaToPhysLength(d.pt, iova, out);
    },
  };
}
