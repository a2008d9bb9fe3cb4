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

const U32 = 2n ** 32n;

function u64(a: Addr): bigint {
  return typeof a === "bigint" ? BigInt.asUintN(64, a) : BigInt(Math.trunc(a));
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
  constructor(readonly params: Sun50iTableParams) {}

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
    const { mem, dt } = this.params;
    const va = u64(iova);
    if (va >= U32) return { iova: va, steps: [], end: "out-of-range" };
    if (mem.chunk(dt) === undefined) return { iova: va, steps: [], end: "missing-table" };
    const v = Number(va);
    const i = v >>> 20;
    const j = (v >>> 12) & 0xff;
    const steps: PteInfo[] = [];
    let e = this.info(1, dt, i, mem.read32(dt + 4 * i), BigInt(i * DTE_SPAN));
    steps.push(e);
    if (e.kind === "table") {
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      e = this.info(
        2,
        e.nextTable!,
        j,
        mem.read32(e.nextTable! + 4 * j),
        BigInt(i * DTE_SPAN + j * SPAGE_SIZE),
      );
      steps.push(e);
    }
    if (e.kind !== "leaf") return { iova: va, steps, end: "hole", length: e.itemSize };
    return { iova: va, steps, end: "leaf", phys: e.phys! + BigInt(v & 0xfff), length: SPAGE_SIZE };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const { mem, dt } = this.params;
    if (mem.chunk(dt) === undefined) return;
    const from = options?.from === undefined ? 0n : u64(options.from);
    const to = options?.to === undefined ? U32 - 1n : u64(options.to);
    for (let i = 0; i < NUM_DT_ENTRIES; i++) {
      const lo = BigInt(i * DTE_SPAN);
      if (lo + BigInt(DTE_SPAN) - 1n < from || lo > to) continue;
      const dte = mem.read32(dt + 4 * i);
      if (dte === 0) continue;
      const e = this.info(1, dt, i, dte, lo);
      if (visitor(e) === false || e.kind !== "table" || e.tableMissing) continue;
      const t = e.nextTable!;
      for (let j = 0; j < NUM_PT_ENTRIES; j++) {
        const va = lo + BigInt(j * SPAGE_SIZE);
        if (va + BigInt(SPAGE_SIZE) - 1n < from || va > to) continue;
        const pte = mem.read32(t + 4 * j);
        if (pte !== 0) visitor(this.info(2, t, j, pte, va));
      }
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}

/** Model-only: the inspector of the H6 table described by `params`. */
export function createSun50iInspector(params: Sun50iTableParams): Sun50iInspector {
  return new Sun50iInspector(params);
}
