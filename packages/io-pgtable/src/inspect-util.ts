/**
 * drivers/iommu/io-pgtable*.c have no inspection code of their own: these are the helpers
 * the three format inspectors (arm-lpae/inspect.ts, arm-v7s/inspect.ts, apple-dart/inspect.ts)
 * share — u64 IOVAs, field decoding, range clipping. Not a hot path: bigints throughout.
 */
import type { Addr, MemChunk, PageTableVisitOptions, PhysMem, PteField } from "@iommu/core";
import { IoPgtableFmt } from "./io-pgtable.js";

/** Model-only: 2^64 − 1. */
export const U64_MAX = (1n << 64n) - 1n;

/** Model-only: an Addr as the u64 the kernel's `unsigned long` would hold. */
export function u64(a: Addr): bigint {
  return (typeof a === "bigint" ? a : BigInt(Math.trunc(a))) & U64_MAX;
}

/** Model-only: an entry as its low and high 32-bit words (`hi` is 0 for 32-bit entries). */
export interface EntryWords {
  readonly lo: number;
  readonly hi: number;
}

/** Model-only: A field holding bits hi..lo (within one 32-bit word) of an entry, its value as a number. */
export function field(name: string, e: EntryWords, hi: number, lo: number = hi): PteField {
  const word = lo >= 32 ? e.hi : e.lo;
  const shift = lo & 31;
  const width = hi - lo + 1;
  const value = width === 32 ? word >>> 0 : (word >>> shift) & (2 ** width - 1);
  return { name, bits: hi === lo ? `${hi}` : `${hi}:${lo}`, value };
}

/** Model-only: A field whose value is decoded elsewhere (an output or table address). */
export function addrField(name: string, hi: number, lo: number, value: bigint): PteField {
  return { name, bits: `${hi}:${lo}`, value };
}

/** Model-only: the inclusive IOVA window of a visit, as u64 (default: everything). */
export interface VisitWindow {
  readonly from: bigint;
  readonly to: bigint;
}

/** Model-only: the {@link VisitWindow} of visit options. */
export function visitWindow(options?: PageTableVisitOptions): VisitWindow {
  return {
    from: options?.from === undefined ? 0n : u64(options.from),
    to: options?.to === undefined ? U64_MAX : u64(options.to),
  };
}

/**
 * Model-only: the index range [first, last] of a table whose entry i covers
 * [base + i·size, base + (i + 1)·size − 1] that overlaps the window; first > last when none.
 */
export function indexRange(
  base: bigint,
  size: bigint,
  entries: number,
  w: VisitWindow,
): { first: number; last: number } {
  const end = base + size * BigInt(entries) - 1n;
  if (w.to < base || w.from > end) return { first: 1, last: 0 };
  const first = w.from <= base ? 0 : Number((w.from - base) / size);
  const last = w.to >= end ? entries - 1 : Number((w.to - base) / size);
  return { first, last };
}

/** Model-only: the `enum io_pgtable_fmt` member name of a format value (`ARM_64_LPAE_S1`, …). */
export function ioPgtableFmtName(fmt: IoPgtableFmt): string {
  for (const [name, v] of Object.entries(IoPgtableFmt)) if (v === fmt) return name;
  return `fmt ${fmt}`;
}

/**
 * Model-only: entry i of the table at `pa` as its two 32-bit words, read straight from memory: one
 * chunk lookup per 4 KiB page of the table, so scanning a table costs no bigint per empty
 * entry. Entries on pages that are not backed read as zero.
 */
export class TableReader {
  private page = -1;
  private chunk: MemChunk | undefined;
  lo = 0;
  hi = 0;

  constructor(
    private readonly mem: PhysMem,
    private readonly pa: number,
    private readonly entryBytes: 4 | 8,
  ) {}

  /** Load entry i into lo/hi; true when it is non-zero. */
  load(i: number): boolean {
    const epa = this.pa + this.entryBytes * i;
    const page = Math.floor(epa / 4096);
    if (page !== this.page) {
      this.page = page;
      this.chunk = this.mem.chunk(epa);
    }
    const c = this.chunk;
    if (!c) {
      this.lo = 0;
      this.hi = 0;
      return false;
    }
    const w = (epa - c.pa) / 4;
    this.lo = c.words[w] ?? 0;
    this.hi = this.entryBytes === 8 ? (c.words[w + 1] ?? 0) : 0;
    return this.lo !== 0 || this.hi !== 0;
  }

  /** The loaded entry as a bigint. */
  get raw(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}
