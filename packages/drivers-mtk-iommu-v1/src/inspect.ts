/**
 * drivers/iommu/mtk_iommu_v1.c, read back: the inspection contract (@iommu/core
 * PageTableInspector) for the M4U's flat table — one level of 2^20 u32 descriptors, a 4 KiB
 * page each when F_DESC_VALID is set. The hardware has no permission bits: every page is
 * readable and writable.
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
  type PteInfo,
  PteReader,
  pageTableStatsOf,
  pteAddrField,
  pteField,
  SZ_4K,
  u64Of,
  visitIndexRange,
  visitWindow,
} from "@iommu/core";
import { F_DESC_VALID, MTK_V1_ENTRIES, type MtkIommuV1Domain } from "./mtk-iommu-v1.js";

/**
 * `struct mtk_iommu_v1_domain` (model-only inspector): level 1 is the only level; a non-zero
 * descriptor without F_DESC_VALID is invalid.
 */
export class MtkIommuV1Inspector implements PageTableInspector {
  constructor(private readonly d: MtkIommuV1Domain) {}

  geometry(): PageTableGeometry {
    return {
      format: "mtk_iommu_v1",
      root: this.d.pgtPa,
      topLevel: 1,
      levels: 1,
      topEntries: MTK_V1_ENTRIES,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(SZ_4K),
    };
  }

  private info(i: number, e: number): PteInfo {
    const raw = BigInt(e >>> 0);
    const fields = [
      pteAddrField("PA", 31, 12, (e & ~0xfff) >>> 0),
      pteField("NONSEC", raw, 3),
      pteField("VALID", raw, 1),
      pteField("ignored", raw, 0),
    ];
    const base = {
      level: 1,
      depth: 0,
      tableAddr: this.d.pgtPa,
      index: i,
      entryBytes: 4,
      raw,
      iova: BigInt(i) * BigInt(SZ_4K),
      itemSize: SZ_4K,
      fields,
    };
    if (!(e & F_DESC_VALID)) return { ...base, kind: "invalid" };
    return {
      ...base,
      kind: "leaf",
      phys: BigInt((e & ~0xfff) >>> 0),
      leafSize: SZ_4K,
      prot: IOMMU_READ | IOMMU_WRITE,
    };
  }

  walk(iova: Addr): PageTableWalk {
    const va = u64Of(iova);
    if (va > 0xffff_ffffn) return { iova: va, steps: [], end: "out-of-range" };
    const r = new PteReader(this.d.allocator.mem, this.d.pgtPa, 4);
    const i = Number(va >> 12n);
    if (!r.load(i)) return { iova: va, steps: [], end: "missing-table" };
    const e = this.info(i, r.lo);
    if (e.kind !== "leaf") return { iova: va, steps: [e], end: "hole", length: SZ_4K };
    return { iova: va, steps: [e], end: "leaf", phys: e.phys! + (va & 0xfffn), length: SZ_4K };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const r = new PteReader(this.d.allocator.mem, this.d.pgtPa, 4);
    const { first, last } = visitIndexRange(0n, BigInt(SZ_4K), MTK_V1_ENTRIES, visitWindow(options));
    for (let i = first; i <= last; i++) if (r.load(i) && r.lo !== 0) visitor(this.info(i, r.lo));
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
