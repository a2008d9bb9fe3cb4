/**
 * Helpers over the inspection contract (inspector.ts): reach a domain's inspector, derive
 * table statistics from any inspector's visit so every format reports them alike, and the
 * small pieces every format's inspector needs (fields, visit windows, entry reads straight
 * from memory). Inspection is not a hot path: bigints are fine here.
 */
import type { Addr } from "./addr.js";
import type { IommuDomain } from "./domain.js";
import type {
  PageTableInspector,
  PageTableStats,
  PageTableVisitOptions,
  PteField,
  PteInfo,
} from "./inspector.js";
import type { MemChunk, PhysMem } from "./phys-mem.js";

/** Model-only: the inspector of a domain's page table, or null (no table, or not inspectable). */
export function iommuDomainInspector(domain: IommuDomain): PageTableInspector | null {
  return domain.ops?.inspect?.(domain) ?? null;
}

/**
 * Model-only: {@link PageTableStats} computed from a visit. Formats implement `stats()` with
 * it: `stats() { return pageTableStatsOf((v) => this.visit(v)); }`.
 */
export function pageTableStatsOf(visit: (visitor: (e: PteInfo) => void) => void): PageTableStats {
  const tablesByDepth: number[] = [1];
  const leavesBySize = new Map<number, number>();
  let tables = 1;
  let leafItems = 0;
  let invalidNonZero = 0;
  let missingTables = 0;
  let mappedBytes = 0n;
  visit((e) => {
    if (e.kind === "table") {
      if (e.tableMissing) {
        missingTables++;
        return;
      }
      tables++;
      tablesByDepth[e.depth + 1] = (tablesByDepth[e.depth + 1] ?? 0) + 1;
    } else if (e.kind === "leaf") {
      leafItems++;
      mappedBytes += BigInt(e.itemSize);
      if (!e.contigIndex) {
        const size = e.leafSize ?? e.itemSize;
        leavesBySize.set(size, (leavesBySize.get(size) ?? 0) + 1);
      }
    } else invalidNonZero++;
  });
  for (let i = 0; i < tablesByDepth.length; i++) tablesByDepth[i] ??= 0;
  return { tables, tablesByDepth, leafItems, leavesBySize, invalidNonZero, missingTables, mappedBytes };
}

/** Model-only: `(u64)addr`, an Addr as the u64 the kernel's `unsigned long` holds (inspection helper). */
export function u64Of(a: Addr): bigint {
  return (typeof a === "bigint" ? a : BigInt(Math.trunc(a))) & ((1n << 64n) - 1n);
}

/** Model-only: a {@link PteField} holding bits top..bottom of the entry. */
export function pteField(name: string, raw: bigint, top: number, bottom: number = top): PteField {
  const v = (raw >> BigInt(bottom)) & ((1n << BigInt(top - bottom + 1)) - 1n);
  return {
    name,
    bits: top === bottom ? `${top}` : `${top}:${bottom}`,
    value: v <= 0xffff_ffffn ? Number(v) : v,
  };
}

/** Model-only: a {@link PteField} whose value is decoded elsewhere (an output or table address). */
export function pteAddrField(name: string, top: number, bottom: number, value: bigint | number): PteField {
  return { name, bits: `${top}:${bottom}`, value };
}

/** Model-only: the inclusive IOVA window of a visit, as u64 (default: everything). */
export interface VisitWindow {
  readonly from: bigint;
  readonly to: bigint;
}

/** Model-only: the {@link VisitWindow} of visit options. */
export function visitWindow(options?: PageTableVisitOptions): VisitWindow {
  return {
    from: options?.from === undefined ? 0n : u64Of(options.from),
    to: options?.to === undefined ? (1n << 64n) - 1n : u64Of(options.to),
  };
}

/**
 * Model-only: the index range [first, last] of a table whose entry i covers
 * [base + i·size, base + (i + 1)·size − 1] that overlaps the window; first > last when none.
 */
export function visitIndexRange(
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

/**
 * Model-only: entry i of the table at `pa` as its two 32-bit words, read straight from memory (one chunk
 * lookup per 4 KiB page of the table); entries on pages that are not backed read as zero.
 */
export class PteReader {
  private page = -1;
  private chunk: MemChunk | undefined;
  lo = 0;
  hi = 0;

  constructor(
    private readonly mem: PhysMem,
    private readonly pa: number,
    private readonly entryBytes: 4 | 8,
  ) {}

  /** True when the table's first page is backed by memory. */
  get present(): boolean {
    return this.mem.chunk(this.pa) !== undefined;
  }

  /** Load entry i into lo/hi; false when its page is not backed. */
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
    return true;
  }

  /** The loaded entry as a bigint. */
  get raw(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}
