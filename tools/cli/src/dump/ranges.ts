/**
 * The mapped ranges of a table, found with iova_to_phys_length: one walk per leaf (a mapped
 * lookup returns the leaf size) and one per hole (an unmapped lookup returns the size of the
 * empty span the walk stopped at), so a sparse 48-bit space costs a handful of walks.
 */
import { type Addr, hex, iommuIovaToPhysLength, PhysLength, toBigInt } from "@iommu/core";
import type { ScriptTable } from "../script/target.js";

export interface MappedRange {
  /** First IOVA and byte length of the run (exact numbers: leaves are ≥ 4 KiB aligned). */
  iova: number;
  bytes: number;
  /** Physical address of the first byte. */
  pa: number;
  /** Prot letters of the run's leaves, `?` when the table cannot tell. */
  prot: string;
}

/**
 * Walk [start, end) (end exclusive, both 4 KiB aligned) and merge runs of leaves that are
 * contiguous in IOVA and PA with the same prot.
 */
export function mappedRanges(table: ScriptTable, start: number, end: number): MappedRange[] {
  const out: MappedRange[] = [];
  const pl = new PhysLength();
  let iova = start;
  while (iova < end) {
    iommuIovaToPhysLength(table.domain, iova, pl);
    // A malformed answer must not stall the scan: never step by less than a page.
    const len = Math.max(pl.length, 4096);
    const leafStart = iova - (iova % len);
    const next = leafStart + len;
    if (pl.mapped) {
      const bytes = Math.min(next, end) - iova;
      const paHere = pl.physPfn * 4096 + pl.physOffset;
      const prot = table.leafProt?.(iova) ?? "?";
      const last = out[out.length - 1];
      if (last && last.iova + last.bytes === iova && last.pa + last.bytes === paHere && last.prot === prot)
        last.bytes += bytes;
      else out.push({ iova, bytes, pa: paHere, prot });
    }
    iova = next;
  }
  return out;
}

/** `4K`, `2M`, `12K`, `1G`: the largest binary unit that divides the size, else hex. */
export function formatSize(bytes: number): string {
  const units: Array<[number, string]> = [
    [2 ** 50, "P"],
    [2 ** 40, "T"],
    [2 ** 30, "G"],
    [2 ** 20, "M"],
    [2 ** 10, "K"],
  ];
  for (const [u, s] of units) if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  return hex(bytes);
}

/** `0x<iova>..0x<iova-end> → 0x<pa>..0x<pa-end> <size> <prot>` (ends inclusive). */
export function formatRange(r: MappedRange): string {
  const last = (a: number, n: number): Addr => fromPfnExact(a, n - 1);
  return `${hex(r.iova)}..${hex(last(r.iova, r.bytes))} → ${hex(r.pa)}..${hex(last(r.pa, r.bytes))} ${formatSize(r.bytes)} ${r.prot}`;
}

/** a + d exactly, also above 2^53 (a page aligned, d < 2^53 or page aligned minus one). */
function fromPfnExact(a: number, d: number): Addr {
  const v = a + d;
  if (Number.isSafeInteger(v)) return v;
  const b = toBigInt(a) + BigInt(d);
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}
