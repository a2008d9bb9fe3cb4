/**
 * drivers/iommu/rockchip-iommu.c, read back: the @iommu/core inspection contract for the
 * Rockchip directory and page tables, classifying entries by their valid bits as the driver
 * does. A PTE whose valid bit was cleared by an unmap keeps its address and flags: it shows
 * as `invalid`. Not a hot path: bigints throughout.
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
  RK_IOMMU_OPS_V1,
  RK_IOMMU_OPS_V2,
  RK_IOMMU_PGSIZE_BITMAP,
  SPAGE_SIZE,
} from "./defs.js";

/** Model-only: where a Rockchip table lives and which encoding it uses (a domain's, or an image's). */
export interface RockchipTableParams {
  readonly mem: PhysMem;
  /** PA of the 4 KiB directory (`dt_dma`). */
  readonly dt: number;
  /** `"v1"` (32-bit PA) or `"v2"` (40-bit PA, rk3568). */
  readonly variant: "v1" | "v2";
}

function bit(name: string, raw: number, n: number): PteField {
  return { name, bits: `${n}`, value: (raw >>> n) & 1 };
}

/**
 * Model-only (the driver's nearest is `log_iova()`): the inspector of one Rockchip table.
 * Levels are 1 (the directory, 1024 DTEs of 4 MiB) and 2 (page tables, 1024 PTEs of 4 KiB).
 */
export class RockchipInspector implements PageTableInspector {
  private readonly ptAddress: (e: number) => number;

  private readonly table: TwoLevelTable32;

  constructor(readonly params: RockchipTableParams) {
    this.table = {
      mem: params.mem,
      root: params.dt,
      l1Entries: NUM_DT_ENTRIES,
      l1Span: DTE_SPAN,
      l2Entries: NUM_PT_ENTRIES,
      l2Span: SPAGE_SIZE,
      info: (lvl, tableAddr, index, ent, iova) => this.info(lvl, tableAddr, index, ent, iova),
    };
    this.ptAddress = (params.variant === "v2" ? RK_IOMMU_OPS_V2 : RK_IOMMU_OPS_V1).ptAddress;
  }

  geometry(): PageTableGeometry {
    return {
      format: `rockchip-${this.params.variant}`,
      root: this.params.dt,
      topLevel: 1,
      levels: 2,
      topEntries: NUM_DT_ENTRIES,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(RK_IOMMU_PGSIZE_BITMAP),
    };
  }

  private addrField(name: string, pa: number): PteField {
    return { name, bits: this.params.variant === "v2" ? "31:4" : "31:12", value: pa };
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
    const valid = (ent & 1) !== 0;
    const pa = this.ptAddress(ent);
    if (lvl === 1) {
      const fields = [this.addrField("PT_ADDRESS", pa), bit("V", ent, 0)];
      if (!valid) return { ...base, kind: "invalid", fields };
      return {
        ...base,
        kind: "table",
        nextTable: pa,
        tableMissing: this.params.mem.chunk(pa) === undefined,
        fields,
      };
    }
    const flags =
      this.params.variant === "v2"
        ? [bit("SECURITY", ent, 3)]
        : [
            bit("RA", ent, 8),
            bit("RC", ent, 7),
            bit("WB", ent, 6),
            bit("WA", ent, 5),
            bit("WC", ent, 4),
            bit("OVERRIDE", ent, 3),
          ];
    const fields = [
      this.addrField("PAGE_ADDRESS", pa),
      ...flags,
      bit("W", ent, 2),
      bit("R", ent, 1),
      bit("V", ent, 0),
    ];
    if (!valid) return { ...base, kind: "invalid", fields };
    const prot = (ent & 2 ? IOMMU_READ : 0) | (ent & 4 ? IOMMU_WRITE : 0);
    return { ...base, kind: "leaf", phys: BigInt(pa), leafSize: SPAGE_SIZE, prot, fields };
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

/** Model-only: the inspector of the Rockchip table described by `params`. */
export function createRockchipInspector(params: RockchipTableParams): RockchipInspector {
  return new RockchipInspector(params);
}
