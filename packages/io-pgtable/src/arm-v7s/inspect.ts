/**
 * drivers/iommu/io-pgtable-arm-v7s.c, read back: the inspection contract (@iommu/core
 * PageTableInspector) for ARMv7 short-descriptor tables, MediaTek extensions included.
 * 64K large pages and 16M supersections are 16 identical entries: each copy is reported as
 * its own item, with the whole page as `leafSize` and its position as `contigIndex`.
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
  TableReader,
  u64,
  type VisitWindow,
  visitWindow,
} from "../inspect-util.js";
import { IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, IO_PGTABLE_QUIRK_NO_PERMS } from "../io-pgtable.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";
import {
  ARM_V7S_CONT_PAGES,
  ARM_V7S_L1_ATTR_SHIFT,
  ARM_V7S_L1_BLOCK,
  ARM_V7S_L2_ATTR_SHIFT,
  ARM_V7S_L2_BLOCK,
  ARM_V7S_L2_ENTRIES,
  ARM_V7S_PTE_AP_RDONLY,
  ARM_V7S_PTE_AP_UNPRIV,
  ARM_V7S_PTE_TYPE_TABLE,
  ARM_V7S_TEX_MASK,
  ARM_V7S_TEX_SHIFT,
} from "./defs.js";
import { armV7sIopteToPaddr, armV7sPteIsCont, armV7sPteIsValid } from "./pte.js";

/**
 * The IOMMU_* prot of a leaf (the inverse of `arm_v7s_prot_to_pte()`): always readable;
 * writable unless AP2 (RDONLY); PRIV unless AP1 (UNPRIV); TEX 0 is MMIO, C is CACHE; XN is
 * NOEXEC (bit 15 in a large page). NO_PERMS tables carry no AP/XN bits: full access.
 */
export function leafProt(pte: number, lvl: number, noPerms: boolean): number {
  const attr = pte >>> (lvl === 1 ? ARM_V7S_L1_ATTR_SHIFT : ARM_V7S_L2_ATTR_SHIFT);
  const largePage = lvl === 2 && armV7sPteIsCont(pte, 2);
  let prot = IOMMU_READ;
  if (noPerms || !(attr & ARM_V7S_PTE_AP_RDONLY)) prot |= IOMMU_WRITE;
  if (!noPerms && !(attr & ARM_V7S_PTE_AP_UNPRIV)) prot |= IOMMU_PRIV;
  const tex = largePage ? (pte >>> 12) & ARM_V7S_TEX_MASK : (attr >>> ARM_V7S_TEX_SHIFT) & ARM_V7S_TEX_MASK;
  if (tex === 0) prot |= IOMMU_MMIO;
  else if (pte & 0x8) prot |= IOMMU_CACHE;
  const xn = lvl === 1 ? pte & 0x10 : largePage ? pte & 0x8000 : pte & 0x1;
  if (xn && !noPerms) prot |= IOMMU_NOEXEC;
  return prot;
}

/** MediaTek PA bits 32/34/33 in PTE bits 9/5/4 (`ARM_V7S_ATTR_MTK_PA_BIT*`), top first. */
function mtkFields(raw: EntryWords): PteField[] {
  return [field("PA_BIT32", raw, 9), field("PA_BIT34", raw, 5), field("PA_BIT33", raw, 4)];
}

/** The fields of an entry (ARM ARM short-descriptor names), top bit first. */
function fieldsOf(
  kind: PteInfo["kind"],
  lvl: number,
  pte: number,
  addr: bigint,
  mtk: boolean,
  ttbrExt: boolean,
): PteField[] {
  const raw: EntryWords = { lo: pte, hi: 0 };
  if (kind === "invalid") return [field("type", raw, 1, 0)];
  const cb = [field("C", raw, 3), field("B", raw, 2)];
  if (kind === "table")
    return [
      addrField("NLTA", 31, 10, addr),
      ...(mtk && ttbrExt ? mtkFields(raw) : [field("Domain", raw, 8, 5)]),
      field("NS", raw, 3),
      field("PXN", raw, 2),
      field("type", raw, 1, 0),
    ];
  if (lvl === 1) {
    const cont = armV7sPteIsCont(pte, 1);
    return [
      addrField("OA", 31, cont ? 24 : 20, addr),
      field("NS", raw, 19),
      field("supersection", raw, 18),
      field("nG", raw, 17),
      field("S", raw, 16),
      field("AP2", raw, 15),
      field("TEX", raw, 14, 12),
      field("AP", raw, 11, 10),
      ...(mtk ? mtkFields(raw) : [field("Domain", raw, 8, 5), field("XN", raw, 4)]),
      ...cb,
      field("type", raw, 1, 0),
    ];
  }
  const ap = mtk ? [] : [field("AP", raw, 5, 4)];
  if (armV7sPteIsCont(pte, 2))
    return [
      addrField("OA", 31, 16, addr),
      field("XN", raw, 15),
      field("TEX", raw, 14, 12),
      field("nG", raw, 11),
      field("S", raw, 10),
      ...(mtk ? mtkFields(raw) : [field("AP2", raw, 9), ...ap]),
      ...cb,
      field("type", raw, 1, 0),
    ];
  return [
    addrField("OA", 31, 12, addr),
    field("nG", raw, 11),
    field("S", raw, 10),
    ...(mtk ? [field("PA_BIT32", raw, 9)] : [field("AP2", raw, 9)]),
    field("TEX", raw, 8, 6),
    ...(mtk ? [field("PA_BIT34", raw, 5), field("PA_BIT33", raw, 4)] : ap),
    ...cb,
    field("type", raw, 1),
    field("XN", raw, 0),
  ];
}

/**
 * Model-only (io-pgtable-arm-v7s.c has no walk op): the inspector of one ARMv7
 * short-descriptor table. Levels are the kernel's 1 (the L1 table, 4096 entries or 16384
 * with MTK's 34-bit IOVA) and 2 (1 KiB L2 tables of 256 entries).
 */
export class ArmV7sInspector implements PageTableInspector {
  private readonly mem: PhysMem;
  private readonly noPerms: boolean;
  private readonly ttbrExt: boolean;

  constructor(private readonly iop: ArmV7sIoPgtable) {
    this.mem = iop.cfg.allocator.mem;
    this.noPerms = (iop.quirks & IO_PGTABLE_QUIRK_NO_PERMS) !== 0;
    this.ttbrExt = (iop.quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT) !== 0;
  }

  geometry(): PageTableGeometry {
    const iop = this.iop;
    return {
      format: "ARM_V7S",
      root: iop.pgd,
      topLevel: 1,
      levels: 2,
      topEntries: iop.l1Entries,
      entryBytes: 4,
      iasBits: iop.ias,
      signExtended: false,
      pgsizeBitmap: BigInt(iop.cfg.pgsizeBitmap),
    };
  }

  /** Entry `index` of the table at `tableAddr`, decoded. */
  private info(lvl: number, tableAddr: number, index: number, pte: number, iova: bigint): PteInfo {
    const mtk = this.iop.mtk;
    const itemSize = lvl === 1 ? ARM_V7S_L1_BLOCK : ARM_V7S_L2_BLOCK;
    const raw = BigInt(pte);
    const depth = lvl - 1;
    if (!armV7sPteIsValid(pte))
      return {
        level: lvl,
        depth,
        tableAddr,
        index,
        entryBytes: 4,
        raw,
        kind: "invalid",
        iova,
        itemSize,
        fields: fieldsOf("invalid", lvl, pte, 0n, mtk, false),
      };
    if (lvl === 1 && (pte & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      const next = armV7sIopteToPaddr(pte, 1, mtk);
      return {
        level: lvl,
        depth,
        tableAddr,
        index,
        entryBytes: 4,
        raw,
        kind: "table",
        iova,
        itemSize,
        nextTable: next,
        tableMissing: this.mem.chunk(next) === undefined,
        fields: fieldsOf("table", 1, pte, BigInt(next), mtk, this.ttbrExt),
      };
    }
    const cont = armV7sPteIsCont(pte, lvl);
    // iopte_to_paddr() masks a copy to its 16M / 64K page; the item is copy k of 16.
    const pa = BigInt(armV7sIopteToPaddr(pte, lvl, mtk));
    const k = cont ? index % ARM_V7S_CONT_PAGES : 0;
    const e: PteInfo = {
      level: lvl,
      depth,
      tableAddr,
      index,
      entryBytes: 4,
      raw,
      kind: "leaf",
      iova,
      itemSize,
      phys: pa | BigInt(k * itemSize),
      leafSize: cont ? itemSize * ARM_V7S_CONT_PAGES : itemSize,
      contigIndex: k,
      prot: leafProt(pte, lvl, this.noPerms),
      fields: fieldsOf("leaf", lvl, pte, pa, mtk, false),
    };
    return e;
  }

  walk(iova: Addr): PageTableWalk {
    const iop = this.iop;
    const va = u64(iova);
    if (va >= 1n << BigInt(iop.ias)) return { iova: va, steps: [], end: "out-of-range" };
    if (this.mem.chunk(iop.pgd) === undefined) return { iova: va, steps: [], end: "missing-table" };
    const steps: PteInfo[] = [];
    const i = Number(va >> 20n) & (iop.l1Entries - 1);
    const r = new TableReader(this.mem, iop.pgd, 4);
    r.load(i);
    let e = this.info(1, iop.pgd, i, r.lo, va & ~0xfffffn);
    steps.push(e);
    if (e.kind === "table") {
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      const j = Number((va >> 12n) & 0xffn);
      const r2 = new TableReader(this.mem, e.nextTable!, 4);
      r2.load(j);
      e = this.info(2, e.nextTable!, j, r2.lo, va & ~0xfffn);
      steps.push(e);
    }
    if (e.kind === "invalid") return { iova: va, steps, end: "hole", length: e.itemSize };
    // iopte_to_paddr(pte) | (iova & ~mask): the offset inside the whole 64K / 16M page.
    const unit = BigInt(e.leafSize!);
    const pa = BigInt(armV7sIopteToPaddr(Number(e.raw), e.level, iop.mtk));
    return { iova: va, steps, end: "leaf", phys: pa | (va & (unit - 1n)), length: e.leafSize! };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const iop = this.iop;
    if (this.mem.chunk(iop.pgd) === undefined) return;
    const w = visitWindow(options);
    const { first, last } = indexRange(0n, BigInt(ARM_V7S_L1_BLOCK), iop.l1Entries, w);
    const r = new TableReader(this.mem, iop.pgd, 4);
    for (let i = first; i <= last; i++) {
      if (!r.load(i)) continue;
      const iova = BigInt(i) * BigInt(ARM_V7S_L1_BLOCK);
      const e = this.info(1, iop.pgd, i, r.lo, iova);
      if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
        this.visitL2(visitor, w, e.nextTable!, iova);
    }
  }

  private visitL2(visitor: (entry: PteInfo) => unknown, w: VisitWindow, pa: number, base: bigint): void {
    const { first, last } = indexRange(base, BigInt(ARM_V7S_L2_BLOCK), ARM_V7S_L2_ENTRIES, w);
    const r = new TableReader(this.mem, pa, 4);
    for (let j = first; j <= last; j++) {
      if (!r.load(j)) continue;
      visitor(this.info(2, pa, j, r.lo, base + BigInt(j) * BigInt(ARM_V7S_L2_BLOCK)));
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
