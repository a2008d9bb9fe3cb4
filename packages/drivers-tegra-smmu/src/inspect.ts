/**
 * drivers/iommu/tegra-smmu.c, read back: the inspection contract (@iommu/core
 * PageTableInspector) for a Tegra SMMU address space — what the SMMU's walker reads: the PDE
 * (a page table when SMMU_PDE_NEXT is set), then the PTE (present when non-zero: the driver
 * has no valid bit and always sets NONSECURE).
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
  SZ_4M,
  u64Of,
  type VisitWindow,
  visitIndexRange,
  visitWindow,
} from "@iommu/core";
import { SMMU_NUM_PDE, SMMU_NUM_PTE, SMMU_PDE_NEXT, SMMU_PTE_READABLE, SMMU_PTE_WRITABLE } from "./regs.js";
import type { TegraSmmuDomain } from "./tegra-smmu.js";

/** `IOMMU_READ`/`IOMMU_WRITE` granted by a PTE (the inverse of the driver's `pte_attrs`). */
export function tegraPteProt(pte: number): number {
  return (pte & SMMU_PTE_READABLE ? IOMMU_READ : 0) | (pte & SMMU_PTE_WRITABLE ? IOMMU_WRITE : 0);
}

/**
 * `tegra_smmu_as` (model-only inspector): levels are 1 (the page directory) and 2 (page
 * tables). A non-zero PDE without SMMU_PDE_NEXT (which the driver never writes) is reported
 * as invalid.
 */
export class TegraSmmuInspector implements PageTableInspector {
  constructor(private readonly d: TegraSmmuDomain) {}

  geometry(): PageTableGeometry {
    return {
      format: "tegra-smmu",
      root: this.d.pd,
      topLevel: 1,
      levels: 2,
      topEntries: SMMU_NUM_PDE,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(SZ_4K),
    };
  }

  private pdeInfo(i: number, pde: number): PteInfo {
    const raw = BigInt(pde >>> 0);
    const base = {
      level: 1,
      depth: 0,
      tableAddr: this.d.pd,
      index: i,
      entryBytes: 4,
      raw,
      iova: BigInt(i) * BigInt(SZ_4M),
      itemSize: SZ_4M,
    };
    const attrs = [
      pteField("RD", raw, 31),
      pteField("WR", raw, 30),
      pteField("NS", raw, 29),
      pteField("NEXT", raw, 28),
    ];
    if (!(pde & SMMU_PDE_NEXT)) return { ...base, kind: "invalid", fields: attrs };
    const next = (pde & this.d.smmu.pfnMask) * SZ_4K;
    return {
      ...base,
      kind: "table",
      nextTable: next,
      tableMissing: this.d.allocator.mem.chunk(next) === undefined,
      fields: [...attrs, pteAddrField("PTB", this.d.smmu.soc.numAddressBits - 13, 0, next)],
    };
  }

  private pteInfo(table: number, i: number, j: number, pte: number): PteInfo {
    const raw = BigInt(pte >>> 0);
    const base = {
      level: 2,
      depth: 1,
      tableAddr: table,
      index: j,
      entryBytes: 4,
      raw,
      iova: BigInt(i) * BigInt(SZ_4M) + BigInt(j) * BigInt(SZ_4K),
      itemSize: SZ_4K,
    };
    const attrs = [pteField("RD", raw, 31), pteField("WR", raw, 30), pteField("NS", raw, 29)];
    if (pte === 0) return { ...base, kind: "invalid", fields: attrs };
    const phys = (pte & this.d.smmu.pfnMask) * SZ_4K;
    return {
      ...base,
      kind: "leaf",
      phys: BigInt(phys),
      leafSize: SZ_4K,
      prot: tegraPteProt(pte),
      fields: [...attrs, pteAddrField("PFN", this.d.smmu.soc.numAddressBits - 13, 0, phys)],
    };
  }

  walk(iova: Addr): PageTableWalk {
    const va = u64Of(iova);
    if (va > 0xffff_ffffn) return { iova: va, steps: [], end: "out-of-range" };
    const pd = new PteReader(this.d.allocator.mem, this.d.pd, 4);
    if (!pd.present) return { iova: va, steps: [], end: "missing-table" };
    const v = Number(va);
    const i = Math.floor(v / SZ_4M);
    pd.load(i);
    const e1 = this.pdeInfo(i, pd.lo);
    if (e1.kind === "invalid") return { iova: va, steps: [e1], end: "hole", length: SZ_4M };
    if (e1.tableMissing) return { iova: va, steps: [e1], end: "missing-table" };
    const j = Math.floor(v / SZ_4K) % SMMU_NUM_PTE;
    const pt = new PteReader(this.d.allocator.mem, e1.nextTable!, 4);
    pt.load(j);
    const e2 = this.pteInfo(e1.nextTable!, i, j, pt.lo);
    if (e2.kind !== "leaf") return { iova: va, steps: [e1, e2], end: "hole", length: SZ_4K };
    return { iova: va, steps: [e1, e2], end: "leaf", phys: e2.phys! + (va & 0xfffn), length: SZ_4K };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const mem = this.d.allocator.mem;
    const pd = new PteReader(mem, this.d.pd, 4);
    if (!pd.present) return;
    const w = visitWindow(options);
    const { first, last } = visitIndexRange(0n, BigInt(SZ_4M), SMMU_NUM_PDE, w);
    for (let i = first; i <= last; i++) {
      pd.load(i);
      if (pd.lo === 0) continue;
      const e = this.pdeInfo(i, pd.lo);
      if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
        this.visitPt(visitor, w, e.nextTable!, i);
    }
  }

  private visitPt(visitor: (entry: PteInfo) => unknown, w: VisitWindow, pa: number, i: number): void {
    const base = BigInt(i) * BigInt(SZ_4M);
    const { first, last } = visitIndexRange(base, BigInt(SZ_4K), SMMU_NUM_PTE, w);
    const pt = new PteReader(this.d.allocator.mem, pa, 4);
    for (let j = first; j <= last; j++) {
      pt.load(j);
      if (pt.lo !== 0) visitor(this.pteInfo(pa, i, j, pt.lo));
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
