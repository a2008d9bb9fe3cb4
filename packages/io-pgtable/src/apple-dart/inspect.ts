/**
 * drivers/iommu/io-pgtable-dart.c, read back: the inspection contract (@iommu/core
 * PageTableInspector) for APPLE_DART and APPLE_DART2 tables. Levels follow the kernel: the
 * TTBR selection is level `n_levels` (its "table" is the set of TTBR registers, not memory),
 * table levels count down to the leaf tables at level 1.
 */
import {
  type Addr,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  type PageTableGeometry,
  type PageTableInspector,
  type PageTableStats,
  type PageTableVisitOptions,
  type PageTableWalk,
  type PhysMem,
  type PteField,
  type PteInfo,
  pageTableStatsOf,
} from "@iommu/core";
import {
  addrField,
  type EntryWords,
  field,
  indexRange,
  ioPgtableFmtName,
  TableReader,
  u64,
  type VisitWindow,
  visitWindow,
} from "../inspect-util.js";
import type { AppleDartIoPgtable } from "./apple-dart.js";
import {
  APPLE_DART_PTE_VALID,
  APPLE_DART1_PTE_PROT_NO_READ,
  APPLE_DART1_PTE_PROT_NO_WRITE,
  APPLE_DART2_PTE_PROT_NO_CACHE,
  APPLE_DART2_PTE_PROT_NO_READ,
  APPLE_DART2_PTE_PROT_NO_WRITE,
  appleDartIopteToPaddr,
} from "./pte.js";

/** The `tableAddr` of a TTBR "entry": it is a register, not memory. */
const TTBR_REGISTER = -1;

/**
 * The IOMMU_* prot of a leaf (the inverse of `dart_prot_to_pte()`): READ/WRITE unless
 * NO_READ/NO_WRITE; DART2 also CACHE unless NO_CACHE. DART has no XN, MMIO or PRIV bits.
 */
export function leafProt(lo: number, dart2: boolean): number {
  let prot = 0;
  if (dart2) {
    if (!(lo & APPLE_DART2_PTE_PROT_NO_READ)) prot |= IOMMU_READ;
    if (!(lo & APPLE_DART2_PTE_PROT_NO_WRITE)) prot |= IOMMU_WRITE;
    if (!(lo & APPLE_DART2_PTE_PROT_NO_CACHE)) prot |= IOMMU_CACHE;
  } else {
    if (!(lo & APPLE_DART1_PTE_PROT_NO_READ)) prot |= IOMMU_READ;
    if (!(lo & APPLE_DART1_PTE_PROT_NO_WRITE)) prot |= IOMMU_WRITE;
  }
  return prot;
}

/** The fields of an entry (the kernel's APPLE_DART* field macros), top bit first. */
function fieldsOf(kind: PteInfo["kind"], raw: EntryWords, addr: bigint, dart2: boolean): PteField[] {
  const valid = field("valid", raw, 0);
  const [oaHi, oaLo] = dart2 ? [37, 10] : [35, 12];
  if (kind === "table") return [addrField("NLTA", oaHi, oaLo, addr), valid];
  if (kind === "invalid") return [valid];
  const prot = dart2
    ? [field("NO_READ", raw, 3), field("NO_WRITE", raw, 2), field("NO_CACHE", raw, 1)]
    : [field("NO_READ", raw, 8), field("NO_WRITE", raw, 7), field("SP_DIS", raw, 1)];
  return [
    field("SP_START", raw, 63, 52),
    field("SP_END", raw, 51, 40),
    addrField("OA", oaHi, oaLo, addr),
    ...prot,
    valid,
  ];
}

/**
 * Model-only (io-pgtable-dart.c has no walk op): the inspector of one DART table. The top
 * "table" has `n_ttbrs` entries, one per TTBR, each pointing at a TTBR table
 * (`tableAddr` -1, `raw` = the table's address as `apple_dart_cfg.ttbr[i]` holds it), so
 * `stats().tables` counts that register set as the root. Above level 1 any non-zero entry is
 * a table pointer (as `dart_get_last` follows it); at level 1 an entry is a leaf when VALID.
 * `iasBits` is what the tables can translate (DART checks no ias: 36 bits for 16K pages with
 * ias 32).
 */
export class AppleDartInspector implements PageTableInspector {
  private readonly mem: PhysMem;
  private readonly dart2: boolean;
  private readonly ttbrShift: number;

  constructor(private readonly iop: AppleDartIoPgtable) {
    this.mem = iop.cfg.allocator.mem;
    this.dart2 = iop.isDart2;
    this.ttbrShift = iop.levels * iop.bitsPerLevel + 3;
  }

  geometry(): PageTableGeometry {
    const iop = this.iop;
    return {
      format: ioPgtableFmtName(iop.fmt),
      root: iop.pgd[0]!,
      topLevel: iop.levels,
      levels: iop.levels,
      topEntries: iop.nTtbrs,
      entryBytes: 8,
      iasBits: this.ttbrShift + iop.tblBits,
      signExtended: false,
      pgsizeBitmap: BigInt(iop.pgsize),
    };
  }

  /** Bytes one entry at `level` covers: 2^(level·bpl + 3). */
  private span(level: number): number {
    return 2 ** (level * this.iop.bitsPerLevel + 3);
  }

  /** TTBR t as the top table's entry t. */
  private ttbrInfo(t: number): PteInfo {
    const pa = this.iop.pgd[t]!;
    const raw = BigInt(pa);
    const itemSize = this.span(this.iop.levels);
    return {
      level: this.iop.levels,
      depth: 0,
      tableAddr: TTBR_REGISTER,
      index: t,
      entryBytes: 8,
      raw,
      kind: "table",
      iova: BigInt(t) * BigInt(itemSize),
      itemSize,
      nextTable: pa,
      tableMissing: this.mem.chunk(pa) === undefined,
      fields: [addrField("TTBR", 63, 0, raw)],
    };
  }

  /** Entry `index` of the table at `tableAddr` (level `level`), loaded into `r`, decoded. */
  private info(level: number, tableAddr: number, index: number, r: TableReader, iova: bigint): PteInfo {
    const { lo, hi } = r;
    const raw = r.raw;
    const depth = this.iop.levels - level;
    const itemSize = this.span(level);
    if (raw === 0n || (level === 1 && !(lo & APPLE_DART_PTE_VALID)))
      return {
        level,
        depth,
        tableAddr,
        index,
        entryBytes: 8,
        raw,
        kind: "invalid",
        iova,
        itemSize,
        fields: fieldsOf("invalid", r, 0n, this.dart2),
      };
    const pa = appleDartIopteToPaddr(lo, hi, this.dart2);
    if (level > 1)
      return {
        level,
        depth,
        tableAddr,
        index,
        entryBytes: 8,
        raw,
        kind: "table",
        iova,
        itemSize,
        nextTable: pa,
        tableMissing: this.mem.chunk(pa) === undefined,
        fields: fieldsOf("table", r, BigInt(pa), this.dart2),
      };
    return {
      level,
      depth,
      tableAddr,
      index,
      entryBytes: 8,
      raw,
      kind: "leaf",
      iova,
      itemSize,
      phys: BigInt(pa),
      leafSize: this.iop.pgsize,
      contigIndex: 0,
      prot: leafProt(lo, this.dart2),
      fields: fieldsOf("leaf", r, BigInt(pa), this.dart2),
    };
  }

  walk(iova: Addr): PageTableWalk {
    const iop = this.iop;
    const va = u64(iova);
    const t = va >> BigInt(this.ttbrShift);
    if (t >= BigInt(iop.nTtbrs)) return { iova: va, steps: [], end: "out-of-range" };
    let e = this.ttbrInfo(Number(t));
    const steps: PteInfo[] = [e];
    for (let level = iop.levels - 1; level >= 1; level--) {
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      const shift = BigInt(level * iop.bitsPerLevel + 3);
      const index = Number((va >> shift) & BigInt(iop.ptesPerTable - 1));
      const r = new TableReader(this.mem, e.nextTable!, 8);
      r.load(index);
      e = this.info(level, e.nextTable!, index, r, va & ~((1n << shift) - 1n));
      steps.push(e);
      if (e.kind === "invalid") return { iova: va, steps, end: "hole", length: e.itemSize };
    }
    // iopte_to_paddr(pte) | (iova & (pgsize - 1)): an OR, as the kernel does.
    return {
      iova: va,
      steps,
      end: "leaf",
      phys: e.phys! | (va & BigInt(iop.pgsize - 1)),
      length: iop.pgsize,
    };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const iop = this.iop;
    const w = visitWindow(options);
    const { first, last } = indexRange(0n, 1n << BigInt(this.ttbrShift), iop.nTtbrs, w);
    for (let t = first; t <= last; t++) {
      const e = this.ttbrInfo(t);
      if (visitor(e) !== false && !e.tableMissing)
        this.visitTable(visitor, w, iop.levels - 1, e.nextTable!, e.iova);
    }
  }

  private visitTable(
    visitor: (entry: PteInfo) => unknown,
    w: VisitWindow,
    level: number,
    pa: number,
    base: bigint,
  ): void {
    const size = BigInt(this.span(level));
    const { first, last } = indexRange(base, size, this.iop.ptesPerTable, w);
    const r = new TableReader(this.mem, pa, 8);
    for (let i = first; i <= last; i++) {
      if (!r.load(i)) continue;
      const e = this.info(level, pa, i, r, base + BigInt(i) * size);
      if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
        this.visitTable(visitor, w, level - 1, e.nextTable!, e.iova);
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
