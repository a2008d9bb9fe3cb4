/**
 * drivers/iommu/sprd-iommu.c, read back: the @iommu/core inspection contract for the flat
 * Unisoc table. An entry is a bare page frame number: every non-zero entry is a 4 KiB leaf
 * granting read and write (the format has no permission bits); 0 is empty — also for a page
 * mapped at PA 0. Not a hot path: bigints throughout.
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
  type PhysMem,
  type PteInfo,
  pageTableStatsOf,
} from "@iommu/core";
import { SPRD_APERTURE_END, SPRD_IOMMU_PAGE_SIZE, SPRD_PGT_ENTRIES } from "./defs.js";

/** Model-only: where a flat table lives (a domain's, or an image's). */
export interface SprdTableParams {
  readonly mem: PhysMem;
  /** PA of the table (the value of FIRST_PPN << 12). */
  readonly pgt: number;
}

function u64(a: Addr): bigint {
  return typeof a === "bigint" ? BigInt.asUintN(64, a) : BigInt(Math.trunc(a));
}

/** Model-only (the driver has no walk op): the inspector of one flat table (level 1 only). */
export class SprdInspector implements PageTableInspector {
  constructor(readonly params: SprdTableParams) {}

  geometry(): PageTableGeometry {
    return {
      format: "sprd",
      root: this.params.pgt,
      topLevel: 1,
      levels: 1,
      topEntries: SPRD_PGT_ENTRIES,
      entryBytes: 4,
      iasBits: 28,
      signExtended: false,
      pgsizeBitmap: BigInt(SPRD_IOMMU_PAGE_SIZE),
    };
  }

  /** Entry `index`, decoded. */
  info(index: number, ent: number): PteInfo {
    const base = {
      level: 1,
      depth: 0,
      tableAddr: this.params.pgt,
      index,
      entryBytes: 4,
      raw: BigInt(ent >>> 0),
      iova: BigInt(index * SPRD_IOMMU_PAGE_SIZE),
      itemSize: SPRD_IOMMU_PAGE_SIZE,
      fields: [{ name: "PPN", bits: "31:0", value: ent >>> 0 }],
    };
    if (ent === 0) return { ...base, kind: "invalid" };
    return {
      ...base,
      kind: "leaf",
      phys: BigInt(ent >>> 0) << 12n,
      leafSize: SPRD_IOMMU_PAGE_SIZE,
      prot: IOMMU_READ | IOMMU_WRITE,
    };
  }

  walk(iova: Addr): PageTableWalk {
    const { mem, pgt } = this.params;
    const va = u64(iova);
    if (va > BigInt(SPRD_APERTURE_END)) return { iova: va, steps: [], end: "out-of-range" };
    if (mem.chunk(pgt) === undefined) return { iova: va, steps: [], end: "missing-table" };
    const i = Number(va >> 12n);
    const e = this.info(i, mem.read32(pgt + 4 * i));
    if (e.kind !== "leaf") return { iova: va, steps: [e], end: "hole", length: SPRD_IOMMU_PAGE_SIZE };
    return { iova: va, steps: [e], end: "leaf", phys: e.phys! + (va & 0xfffn), length: SPRD_IOMMU_PAGE_SIZE };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const { mem, pgt } = this.params;
    if (mem.chunk(pgt) === undefined) return;
    const from = options?.from === undefined ? 0n : u64(options.from);
    const to = options?.to === undefined ? BigInt(SPRD_APERTURE_END) : u64(options.to);
    for (let i = 0; i < SPRD_PGT_ENTRIES; i++) {
      const va = BigInt(i * SPRD_IOMMU_PAGE_SIZE);
      if (va + BigInt(SPRD_IOMMU_PAGE_SIZE) - 1n < from || va > to) continue;
      const ent = mem.read32(pgt + 4 * i);
      if (ent !== 0) visitor(this.info(i, ent));
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}

/** Model-only: the inspector of the flat table described by `params`. */
export function createSprdInspector(params: SprdTableParams): SprdInspector {
  return new SprdInspector(params);
}
