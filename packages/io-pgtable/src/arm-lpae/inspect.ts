/**
 * drivers/iommu/io-pgtable-arm.c, read back: the inspection contract (@iommu/core
 * PageTableInspector) for every ARM LPAE format — 64/32-bit stage 1 and 2, Mali, concatenated
 * stage-2 pgds, TTBR1 upper-half IOVAs, 52-bit output addresses. Entries are decoded with the
 * Arm ARM's field names; `prot` is the reading of `arm_lpae_prot_to_pte()` backwards.
 */
import {
  type Addr,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type PageTableGeometry,
  type PageTableInspector,
  type PageTableStats,
  type PageTableVisitOptions,
  type PageTableWalk,
  type PteField,
  type PteInfo,
  type PteKind,
  pageTableStatsOf,
} from "@iommu/core";
import {
  addrField,
  type EntryWords,
  field,
  indexRange,
  ioPgtableFmtName,
  TableReader,
  U64_MAX,
  u64,
  type VisitWindow,
  visitWindow,
} from "../inspect-util.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { HI_DBM, HI_XN, LO_AP_RDONLY, LO_AP_UNPRIV, LO_HAP_READ, LO_HAP_WRITE } from "./constants.js";
import type { ArmLpaeIoPgtable } from "./pgtable.js";

const LAST_LEVEL = 3;

/** Which of the three descriptor dialects a format writes. */
export type Dialect = "s1" | "s2" | "mali";

export function dialectOf(fmt: IoPgtableFmt): Dialect {
  if (fmt === IoPgtableFmt.ARM_64_LPAE_S1 || fmt === IoPgtableFmt.ARM_32_LPAE_S1) return "s1";
  if (fmt === IoPgtableFmt.ARM_MALI_LPAE) return "mali";
  return "s2";
}

/**
 * The IOMMU_* prot a leaf grants, from its two words (the inverse of
 * `arm_lpae_prot_to_pte()`): stage 1 reads AP (a write-clean leaf, AP_RDONLY with DBM, is
 * writable: the walker clears AP_RDONLY on the first write), stage 2 and Mali read HAP; the
 * memory type comes from AttrIndx (S1, Mali) or MemAttr (S2); XN is NOEXEC.
 */
export function leafProt(dialect: Dialect, lo: number, hi: number): number {
  const attr = dialect === "s2" ? (lo >> 2) & 0xf : (lo >> 2) & 7;
  let prot = 0;
  if (dialect === "s1") {
    prot |= IOMMU_READ;
    if (!(lo & LO_AP_RDONLY) || hi & HI_DBM) prot |= IOMMU_WRITE;
  } else {
    if (lo & LO_HAP_READ) prot |= IOMMU_READ;
    if (lo & LO_HAP_WRITE) prot |= IOMMU_WRITE;
  }
  if (dialect === "s2" ? attr === 0xf || attr === 0x6 : attr === 1) prot |= IOMMU_CACHE;
  if (hi & HI_XN) prot |= IOMMU_NOEXEC;
  if (dialect === "s2" ? attr === 0x1 : attr === 2) prot |= IOMMU_MMIO;
  if (dialect === "s1" && !(lo & LO_AP_UNPRIV)) prot |= IOMMU_PRIV;
  return prot;
}

/** The fields of a descriptor, top bit first. */
function fieldsOf(dialect: Dialect, kind: PteKind, raw: EntryWords, addr: bigint): PteField[] {
  const type = [field("type", raw, 1), field("valid", raw, 0)];
  if (kind === "invalid") return type;
  if (kind === "table") {
    const attrs =
      dialect === "s1"
        ? [
            field("NSTable", raw, 63),
            field("APTable", raw, 62, 61),
            field("XNTable", raw, 60),
            field("PXNTable", raw, 59),
          ]
        : [];
    return [...attrs, field("SW_SYNC", raw, 55), addrField("NLTA", 47, 12, addr), ...type];
  }
  const oa = addrField("OA", 47, 12, addr);
  if (dialect === "s1")
    return [
      field("XN", raw, 54),
      field("PXN", raw, 53),
      field("Contiguous", raw, 52),
      field("DBM", raw, 51),
      oa,
      field("nG", raw, 11),
      field("AF", raw, 10),
      field("SH", raw, 9, 8),
      field("AP", raw, 7, 6),
      field("NS", raw, 5),
      field("AttrIndx", raw, 4, 2),
      ...type,
    ];
  if (dialect === "s2")
    return [
      field("XN", raw, 54, 53),
      field("Contiguous", raw, 52),
      field("DBM", raw, 51),
      oa,
      field("AF", raw, 10),
      field("SH", raw, 9, 8),
      field("S2AP", raw, 7, 6),
      field("MemAttr", raw, 5, 2),
      ...type,
    ];
  return [
    field("XN", raw, 54, 53),
    oa,
    field("SH", raw, 9, 8),
    field("S2AP", raw, 7, 6),
    field("AttrIndx", raw, 4, 2),
    ...type,
  ];
}

/**
 * Model-only (the kernel's nearest is `arm_lpae_pgtable_walk`): the inspector of one ARM
 * LPAE table. Levels are the kernel's (0 = top of a 4-level walk … 3); a concatenated
 * stage-2 pgd is one top table of up to 16 pages; with IO_PGTABLE_QUIRK_ARM_TTBR1 IOVAs are
 * the sign-extended upper half. The Contiguous hint is decoded but, as io-pgtable-arm never
 * sets it and its iova_to_phys ignores it, does not widen `leafSize`.
 */
export class ArmLpaeInspector implements PageTableInspector {
  private readonly dialect: Dialect;

  constructor(private readonly d: ArmLpaeIoPgtable) {
    this.dialect = dialectOf(d.fmt);
  }

  geometry(): PageTableGeometry {
    const d = this.d;
    return {
      format: ioPgtableFmtName(d.fmt),
      root: d.pgdPa,
      topLevel: d.startLevel,
      levels: 4 - d.startLevel,
      topEntries: 2 ** d.pgdBits,
      entryBytes: 8,
      iasBits: d.ias,
      signExtended: d.ttbr1,
      pgsizeBitmap: BigInt(d.pgsizeBitmap),
    };
  }

  /** The first IOVA of the top table: 0, or 2^64 − 2^ias for TTBR1. */
  private rootBase(): bigint {
    return this.d.ttbr1 ? U64_MAX + 1n - (1n << BigInt(this.d.ias)) : 0n;
  }

  /** The entry just loaded into `r`, decoded. */
  private info(lvl: number, tableAddr: number, index: number, r: TableReader, iova: bigint): PteInfo {
    const d = this.d;
    const { lo, hi } = r;
    const raw = r.raw;
    const itemSize = d.blockSize[lvl]!;
    const depth = lvl - d.startLevel;
    if ((lo & 3) === d.leafType[lvl]) {
      const phys = BigInt(d.ptePa(lo, hi));
      return {
        level: lvl,
        depth,
        tableAddr,
        index,
        entryBytes: 8,
        raw,
        kind: "leaf",
        iova,
        itemSize,
        phys,
        leafSize: itemSize,
        contigIndex: 0,
        prot: leafProt(this.dialect, lo, hi),
        fields: fieldsOf(this.dialect, "leaf", r, phys),
      };
    }
    if (lvl < LAST_LEVEL && (lo & 3) === 3) {
      const next = d.ptePa(lo, hi);
      return {
        level: lvl,
        depth,
        tableAddr,
        index,
        entryBytes: 8,
        raw,
        kind: "table",
        iova,
        itemSize,
        nextTable: next,
        tableMissing: d.mem.chunk(next) === undefined,
        fields: fieldsOf(this.dialect, "table", r, BigInt(next)),
      };
    }
    return {
      level: lvl,
      depth,
      tableAddr,
      index,
      entryBytes: 8,
      raw,
      kind: "invalid",
      iova,
      itemSize,
      fields: fieldsOf(this.dialect, "invalid", r, 0n),
    };
  }

  walk(iova: Addr): PageTableWalk {
    const d = this.d;
    const va = u64(iova);
    const span = 1n << BigInt(d.ias);
    const inRange = d.ttbr1 ? va >= U64_MAX + 1n - span : va < span;
    if (!inRange) return { iova: va, steps: [], end: "out-of-range" };
    const steps: PteInfo[] = [];
    let lvl = d.startLevel;
    let tablePa = d.pgdPa;
    if (d.mem.chunk(tablePa) === undefined) return { iova: va, steps, end: "missing-table" };
    for (;;) {
      const shift = BigInt(d.levelShift(lvl));
      const entries = d.entriesAt(lvl);
      const index = Number((va >> shift) & BigInt(entries - 1));
      const r = new TableReader(d.mem, tablePa, 8);
      r.load(index);
      const size = BigInt(d.blockSize[lvl]!);
      const e = this.info(lvl, tablePa, index, r, va & ~(size - 1n));
      steps.push(e);
      if (e.kind === "leaf")
        return { iova: va, steps, end: "leaf", phys: e.phys! | (va & (size - 1n)), length: e.itemSize };
      if (e.kind === "invalid") return { iova: va, steps, end: "hole", length: e.itemSize };
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      tablePa = e.nextTable!;
      lvl++;
    }
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const d = this.d;
    if (d.mem.chunk(d.pgdPa) === undefined) return;
    this.visitTable(visitor, visitWindow(options), d.startLevel, d.pgdPa, this.rootBase());
  }

  private visitTable(
    visitor: (entry: PteInfo) => unknown,
    w: VisitWindow,
    lvl: number,
    pa: number,
    base: bigint,
  ): void {
    const d = this.d;
    const size = BigInt(d.blockSize[lvl]!);
    const { first, last } = indexRange(base, size, d.entriesAt(lvl), w);
    const r = new TableReader(d.mem, pa, 8);
    for (let i = first; i <= last; i++) {
      if (!r.load(i)) continue;
      const iova = base + BigInt(i) * size;
      const e = this.info(lvl, pa, i, r, iova);
      const ret = visitor(e);
      if (e.kind === "table" && !e.tableMissing && ret !== false)
        this.visitTable(visitor, w, lvl + 1, e.nextTable!, iova);
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
