/**
 * drivers/iommu/omap-iommu.c + omap-iopgtable.h, read back: the inspection contract
 * (@iommu/core PageTableInspector) for one MMU's tables of an OMAP IOMMU domain (MMU 0 by
 * default, the one the lookup reads). 64 KiB large pages and 16 MiB supersections are 16
 * identical entries: each copy is its own item, with the whole page as `leafSize` and its
 * position as `contigIndex` — when the 16 copies agree (a later overwrite can break a run;
 * then each copy stands alone).
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
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  u64Of,
  type VisitWindow,
  visitIndexRange,
  visitWindow,
} from "@iommu/core";
import type { OmapDomain } from "./omap-iommu.js";
import {
  IOLARGE_MASK,
  IOPTE_MASK,
  IOSECTION_MASK,
  IOSUPER_MASK,
  iopgdIsSection,
  iopgdIsSuper,
  iopgdIsTable,
  iopgdPagePaddr,
  iopteIsLarge,
  iopteIsSmall,
  PTRS_PER_IOPGD,
  PTRS_PER_IOPTE,
} from "./omap-iopgtable.js";

/**
 * `struct omap_iommu_domain` (model-only inspector) of one MMU: level 1 is the L1 table
 * ("iopgd"), level 2 the L2 tables ("iopte"). No entry carries permissions: every leaf is
 * readable and writable.
 */
export class OmapInspector implements PageTableInspector {
  constructor(
    private readonly d: OmapDomain,
    private readonly mmuIndex = 0,
  ) {}

  private get root(): number {
    return this.d.iommus[this.mmuIndex]?.pgtable ?? -1;
  }

  geometry(): PageTableGeometry {
    return {
      format: "omap-iommu",
      root: this.root,
      topLevel: 1,
      levels: 2,
      topEntries: PTRS_PER_IOPGD,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(this.d.pgsizeBitmap),
    };
  }

  /** True when the 16 entries around index `k` of the table at `pa` are identical. */
  private agree(pa: number, k: number): boolean {
    const r = new PteReader(this.d.allocator.mem, pa, 4);
    const first = k & ~0xf;
    r.load(first);
    const v = r.lo;
    for (let m = first + 1; m < first + 16; m++) {
      r.load(m);
      if (r.lo !== v) return false;
    }
    return true;
  }

  private l1Info(i: number, e: number): PteInfo {
    const raw = BigInt(e >>> 0);
    const base = {
      level: 1,
      depth: 0,
      tableAddr: this.root,
      index: i,
      entryBytes: 4,
      raw,
      iova: BigInt(i) * BigInt(SZ_1M),
      itemSize: SZ_1M,
    };
    const type = pteField("type", raw, 1, 0);
    if (iopgdIsTable(e)) {
      const next = iopgdPagePaddr(e);
      return {
        ...base,
        kind: "table",
        nextTable: next,
        tableMissing: this.d.allocator.mem.chunk(next) === undefined,
        fields: [pteAddrField("L2", 31, 10, next), pteField("attr", raw, 9, 2), type],
      };
    }
    const super_ = iopgdIsSuper(e);
    if (!super_ && !iopgdIsSection(e)) return { ...base, kind: "invalid", fields: [type] };
    const mask = super_ ? IOSUPER_MASK : IOSECTION_MASK;
    const fields: PteField[] = [
      pteAddrField("PA", 31, super_ ? 24 : 20, (e & mask) >>> 0),
      pteField("super", raw, 18),
      pteField("attr", raw, 17, 2),
      type,
    ];
    const whole = super_ && this.agree(this.root, i);
    return {
      ...base,
      kind: "leaf",
      phys: BigInt(((e & mask) >>> 0) + (super_ ? (i & 0xf) * SZ_1M : 0)),
      leafSize: whole ? SZ_16M : SZ_1M,
      ...(whole ? { contigIndex: i & 0xf } : {}),
      prot: IOMMU_READ | IOMMU_WRITE,
      fields,
    };
  }

  private l2Info(pa: number, i: number, j: number, e: number): PteInfo {
    const raw = BigInt(e >>> 0);
    const base = {
      level: 2,
      depth: 1,
      tableAddr: pa,
      index: j,
      entryBytes: 4,
      raw,
      iova: BigInt(i) * BigInt(SZ_1M) + BigInt(j) * BigInt(SZ_4K),
      itemSize: SZ_4K,
    };
    const type = pteField("type", raw, 1, 0);
    if (iopteIsSmall(e))
      return {
        ...base,
        kind: "leaf",
        phys: BigInt((e & IOPTE_MASK) >>> 0),
        leafSize: SZ_4K,
        prot: IOMMU_READ | IOMMU_WRITE,
        fields: [pteAddrField("PA", 31, 12, (e & IOPTE_MASK) >>> 0), pteField("attr", raw, 11, 2), type],
      };
    if (!iopteIsLarge(e)) return { ...base, kind: "invalid", fields: [type] };
    const whole = this.agree(pa, j);
    return {
      ...base,
      kind: "leaf",
      phys: BigInt(((e & IOLARGE_MASK) >>> 0) + (j & 0xf) * SZ_4K),
      leafSize: whole ? SZ_64K : SZ_4K,
      ...(whole ? { contigIndex: j & 0xf } : {}),
      prot: IOMMU_READ | IOMMU_WRITE,
      fields: [pteAddrField("PA", 31, 16, (e & IOLARGE_MASK) >>> 0), pteField("attr", raw, 15, 2), type],
    };
  }

  walk(iova: Addr): PageTableWalk {
    const va = u64Of(iova);
    if (va > 0xffff_ffffn) return { iova: va, steps: [], end: "out-of-range" };
    const mem = this.d.allocator.mem;
    const l1 = new PteReader(mem, this.root, 4);
    if (this.root < 0 || !l1.present) return { iova: va, steps: [], end: "missing-table" };
    const v = Number(va);
    const i = Math.floor(v / SZ_1M);
    l1.load(i);
    const e1 = this.l1Info(i, l1.lo);
    if (e1.kind === "leaf") return this.leaf(va, [e1]);
    if (e1.kind === "invalid") return { iova: va, steps: [e1], end: "hole", length: SZ_1M };
    if (e1.tableMissing) return { iova: va, steps: [e1], end: "missing-table" };
    const j = Math.floor(v / SZ_4K) & 0xff;
    const l2 = new PteReader(mem, e1.nextTable!, 4);
    l2.load(j);
    const e2 = this.l2Info(e1.nextTable!, i, j, l2.lo);
    if (e2.kind === "leaf") return this.leaf(va, [e1, e2]);
    return { iova: va, steps: [e1, e2], end: "hole", length: SZ_4K };
  }

  private leaf(va: bigint, steps: PteInfo[]): PageTableWalk {
    const e = steps[steps.length - 1]!;
    // The item's own translation: phys of its first byte + the offset inside the item.
    const phys = e.phys! + (va & BigInt(e.itemSize - 1));
    return { iova: va, steps, end: "leaf", phys, length: e.leafSize! };
  }

  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void {
    const mem = this.d.allocator.mem;
    const l1 = new PteReader(mem, this.root, 4);
    if (this.root < 0 || !l1.present) return;
    const w = visitWindow(options);
    const { first, last } = visitIndexRange(0n, BigInt(SZ_1M), PTRS_PER_IOPGD, w);
    for (let i = first; i <= last; i++) {
      l1.load(i);
      if (l1.lo === 0) continue;
      const e = this.l1Info(i, l1.lo);
      if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
        this.visitL2(visitor, w, e.nextTable!, i);
    }
  }

  private visitL2(visitor: (entry: PteInfo) => unknown, w: VisitWindow, pa: number, i: number): void {
    const { first, last } = visitIndexRange(BigInt(i) * BigInt(SZ_1M), BigInt(SZ_4K), PTRS_PER_IOPTE, w);
    const r = new PteReader(this.d.allocator.mem, pa, 4);
    for (let j = first; j <= last; j++) {
      r.load(j);
      if (r.lo !== 0) visitor(this.l2Info(pa, i, j, r.lo));
    }
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }
}
