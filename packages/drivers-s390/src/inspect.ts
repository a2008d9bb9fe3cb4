/**
 * drivers/iommu/s390-iommu.c + arch/s390/include/asm/pci_dma.h, read back: the inspection
 * contract (@iommu/core PageTableInspector) for a zPCI DMA translation table — what the
 * hardware walk reads from the root (RT, RS or RF) down to the page table. Region/segment
 * entries are valid when bit 5 (I) is clear, PTEs when bit 10 (I) is clear; entries still at
 * their empty value (0x20, 0x400) are not visited, stale invalid ones are.
 */
import {
  type Addr,
  IOMMU_READ,
  IOMMU_WRITE,
  type PageTableGeometry,
  type PageTableInspector,
  type PageTableStats,
  type PageTableVisitOptions,
  type PageTableWalk,
  type PteField,
  type PteInfo,
  PteReader,
  pageTableStatsOf,
  pteAddrField,
  pteField,
  SZ_4K,
  u64Of,
  type VisitWindow,
  visitIndexRange,
  visitWindow,
} from "@iommu/core";
import {
  ZPCI_PT_ENTRIES,
  ZPCI_PTE_INVALID,
  ZPCI_RTE_FLAG_MASK,
  ZPCI_STE_FLAG_MASK,
  ZPCI_TABLE_ENTRIES,
  ZPCI_TABLE_INVALID,
  ZPCI_TABLE_PROTECTED,
  ZPCI_TABLE_TYPE_MASK,
  ZPCI_TABLE_TYPE_RFX,
  ZPCI_TABLE_TYPE_RSX,
  ZPCI_TABLE_TYPE_RTX,
  ZPCI_TABLE_TYPE_SX,
} from "./pci-dma.js";
import type { S390Domain } from "./s390-iommu.js";

/** Table kinds from the top of a 5-level table down. */
const KINDS = ["RF", "RS", "RT", "ST", "PT"] as const;
/** IOVA bits below each kind's index. */
const SHIFTS = [53, 42, 31, 20, 12] as const;
const TYPES = [ZPCI_TABLE_TYPE_RFX, ZPCI_TABLE_TYPE_RSX, ZPCI_TABLE_TYPE_RTX, ZPCI_TABLE_TYPE_SX] as const;

/** `IOMMU_READ` always, `IOMMU_WRITE` unless ZPCI_TABLE_PROTECTED: a PTE's permissions. */
export function s390PteProt(lo: number): number {
  return lo & ZPCI_TABLE_PROTECTED ? IOMMU_READ : IOMMU_READ | IOMMU_WRITE;
}

/**
 * `struct s390_domain` (model-only inspector). Levels count from the root (1) to the page
 * tables (3, 4 or 5), as the harness's dump numbers them; the table kind of each level is
 * `levelKind(level)`.
 */
export class S390Inspector implements PageTableInspector {
  /** Index into KINDS of the root's kind. */
  private readonly top: number;

  constructor(private readonly d: S390Domain) {
    this.top = 5 - d.levels;
  }

  /** The table kind (RF, RS, RT, ST, PT) at `level` (1 = root). */
  levelKind(level: number): (typeof KINDS)[number] {
    return KINDS[this.top + level - 1]!;
  }

  geometry(): PageTableGeometry {
    return {
      format: `s390-${this.d.levels === 3 ? "rtx" : this.d.levels === 4 ? "rsx" : "rfx"}`,
      root: this.d.dmaTable,
      topLevel: 1,
      levels: this.d.levels,
      topEntries: ZPCI_TABLE_ENTRIES,
      entryBytes: 8,
      iasBits: this.d.levels === 3 ? 42 : this.d.levels === 4 ? 53 : 64,
      signExtended: false,
      pgsizeBitmap: BigInt(SZ_4K),
    };
  }

  private info(
    level: number,
    tableAddr: number,
    index: number,
    lo: number,
    hi: number,
    iova: bigint,
  ): PteInfo {
    const k = this.top + level - 1;
    const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const base = {
      level,
      depth: level - 1,
      tableAddr,
      index,
      entryBytes: 8,
      raw,
      iova,
      itemSize: 2 ** SHIFTS[k]!,
    };
    if (k === 4) {
      const fields: PteField[] = [
        pteAddrField("PFAA", 63, 12, raw & ~0xfffn),
        pteField("I", raw, 10),
        pteField("P", raw, 9),
      ];
      if (lo & ZPCI_PTE_INVALID) return { ...base, kind: "invalid", fields };
      return { ...base, kind: "leaf", phys: raw & ~0xfffn, leafSize: SZ_4K, prot: s390PteProt(lo), fields };
    }
    const region = k < 3;
    const mask = BigInt(region ? ZPCI_RTE_FLAG_MASK : ZPCI_STE_FLAG_MASK);
    const next = raw & ~mask;
    const fields: PteField[] = [
      pteAddrField(region ? `${KINDS[k + 1]}O` : "PTO", 63, region ? 14 : 11, next),
      pteField("P", raw, 9),
      ...(region ? [pteField("TF", raw, 7, 6)] : []),
      pteField("I", raw, 5),
      pteField("TT", raw, 3, 2),
      ...(region ? [pteField("TL", raw, 1, 0)] : []),
    ];
    // A valid entry whose type bits do not name its table: the kernel's get_*() returns NULL.
    if (lo & ZPCI_TABLE_INVALID || (lo & ZPCI_TABLE_TYPE_MASK) !== TYPES[k])
      return { ...base, kind: "invalid", fields };
    const nextTable = Number(next);
    return {
      ...base,
      kind: "table",
      nextTable,
      tableMissing: this.d.allocator.mem.chunk(nextTable) === undefined,
      fields,
    };
  }

  walk(iova: Addr): PageTableWalk {
    const va = u64Of(iova);
    const ias = BigInt(this.geometry().iasBits);
    if (ias < 64n && va >> ias !== 0n) return { iova: va, steps: [], end: "out-of-range" };
    const mem = this.d.allocator.mem;
    let table = this.d.dmaTable;
    if (!mem.chunk(table)) return { iova: va, steps: [], end: "missing-table" };
    const steps: PteInfo[] = [];
    for (let level = 1; ; level++) {
      const k = this.top + level - 1;
      const shift = BigInt(SHIFTS[k]!);
      const idx = Number((va >> shift) & BigInt(k === 4 ? ZPCI_PT_ENTRIES - 1 : ZPCI_TABLE_ENTRIES - 1));
      const r = new PteReader(mem, table, 8);
      r.load(idx);
      const e = this.info(level, table, idx, r.lo, r.hi, (va >> shift) << shift);
      steps.push(e);
      if (e.kind === "leaf")
        return { iova: va, steps, end: "leaf", phys: e.phys! + (va & 0xfffn), length: SZ_4K };
      if (e.kind === "invalid") return { iova: va, steps, end: "hole", length: e.itemSize };
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      table = e.nextTable!;
    }
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    if (!this.d.allocator.mem.chunk(this.d.dmaTable)) return;
    this.visitTable(visitor, visitWindow(options), 1, this.d.dmaTable, 0n);
  }

  private visitTable(
    visitor: (entry: PteInfo) => unknown,
    w: VisitWindow,
    level: number,
    pa: number,
    base: bigint,
  ) {
    const k = this.top + level - 1;
    const span = 1n << BigInt(SHIFTS[k]!);
    const entries = k === 4 ? ZPCI_PT_ENTRIES : ZPCI_TABLE_ENTRIES;
    const empty = k === 4 ? ZPCI_PTE_INVALID : ZPCI_TABLE_INVALID;
    const { first, last } = visitIndexRange(base, span, entries, w);
    const r = new PteReader(this.d.allocator.mem, pa, 8);
    for (let i = first; i <= last; i++) {
      r.load(i);
      if (r.lo === empty && r.hi === 0) continue;
      const e = this.info(level, pa, i, r.lo, r.hi, base + BigInt(i) * span);
      if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
        this.visitTable(visitor, w, level + 1, e.nextTable!, e.iova);
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
