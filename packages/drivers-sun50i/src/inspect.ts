/**
 * drivers/iommu/sun50i-iommu.c, read back: the @iommu/core inspection contract for the H6
 * directory and page tables, classifying entries with the driver's own tests
 * (`sun50i_dte_is_pt_valid`, `sun50i_pte_is_page_valid`). Not a hot path: bigints throughout.
 */
import {
  type Addr,
  type PageTableGeometry,
  type PageTableInspector,
  type PageTableStats,
  type PageTableVisitOptions,
  type PageTableWalk,
  type PhysMem,
  type PteField,
  type PteInfo,
  pageTableStatsOf,
  type TwoLevelTable32,
  visitTwoLevel32,
  walkTwoLevel32,
} from "@iommu/core";
import {
  DTE_SPAN,
  NUM_DT_ENTRIES,
  NUM_PT_ENTRIES,
  SPAGE_SIZE,
  SUN50I_PGSIZE_BITMAP,
  sun50iAciToProt,
  sun50iDteGetPtAddress,
  sun50iDteIsPtValid,
  sun50iGetPteAci,
  sun50iPteGetPageAddress,
  sun50iPteIsPageValid,
} from "./defs.js";

/** Model-only: where an H6 table lives (a domain's, or an image's). */
export interface Sun50iTableParams {
  readonly mem: PhysMem;
  /** PA of the 16 KiB directory (the value of IOMMU_TTB_REG). */
  readonly dt: number;
}

function field(name: string, raw: number, hi: number, lo: number = hi): PteField {
  return {
    name,
    bits: hi === lo ? `${hi}` : `${hi}:${lo}`,
    value: (raw >>> lo) & ((1 << (hi - lo + 1)) - 1),
  };
}

/**
 * Model-only (the driver has no walk op): the inspector of one H6 table. Levels are 1 (the
 * directory, 4096 DTEs of 1 MiB) and 2 (page tables, 256 PTEs of 4 KiB).
 */
export class Sun50iInspector implements PageTableInspector {
  private readonly table: TwoLevelTable32;

  constructor(readonly params: Sun50iTableParams) {
    this.table = {
      mem: params.mem,
      root: params.dt,
      l1Entries: NUM_DT_ENTRIES,
      l1Span: DTE_SPAN,
      l2Entries: NUM_PT_ENTRIES,
      l2Span: SPAGE_SIZE,
      info: (lvl, tableAddr, index, ent, iova) => this.info(lvl, tableAddr, index, ent, iova),
    };
  }

  geometry(): PageTableGeometry {
    return {
      format: "sun50i",
      root: this.params.dt,
      topLevel: 1,
      levels: 2,
      topEntries: NUM_DT_ENTRIES,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(SUN50I_PGSIZE_BITMAP),
    };
  }

  /** Entry `index` of a table, decoded. */
  info(lvl: 1 | 2, tableAddr: number, index: number, ent: number, iova: bigint): PteInfo {
    const base = {
      level: lvl,
      depth: lvl - 1,
      tableAddr,
      index,
      entryBytes: 4,
      raw: BigInt(ent >>> 0),
      iova,
      itemSize: lvl === 1 ? DTE_SPAN : SPAGE_SIZE,
    };
    if (lvl === 1) {
      const pa = sun50iDteGetPtAddress(ent);
      const fields = [{ name: "PT_ADDRESS", bits: "31:10", value: pa }, field("ATTRS", ent, 1, 0)];
      if (!sun50iDteIsPtValid(ent)) return { ...base, kind: "invalid", fields };
      return {
        ...base,
        kind: "table",
        nextTable: pa,
        tableMissing: this.params.mem.chunk(pa) === undefined,
        fields,
      };
    }
    const pa = sun50iPteGetPageAddress(ent);
    const fields = [
      { name: "PAGE_ADDRESS", bits: "31:12", value: pa },
      field("ACI", ent, 7, 4),
      field("V", ent, 1),
    ];
    if (!sun50iPteIsPageValid(ent)) return { ...base, kind: "invalid", fields };
    return {
      ...base,
      kind: "leaf",
      phys: BigInt(pa),
      leafSize: SPAGE_SIZE,
      prot: sun50iAciToProt(sun50iGetPteAci(ent)),
      fields,
    };
  }

  walk(iova: Addr): PageTableWalk {
    return walkTwoLevel32(this.table, iova);
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    visitTwoLevel32(this.table, visitor, options);
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}

/** Model-only: the inspector of the H6 table described by `params`. */
export function createSun50iInspector(params: Sun50iTableParams): Sun50iInspector {
  return new Sun50iInspector(params);
}
