/**
 * drivers/iommu/exynos-iommu.c, read back: the @iommu/core inspection contract for SysMMU
 * tables, classifying entries with the driver's own tests (`lv1ent_*`, `lv2ent_*`). A 64 KiB
 * page's 16 identical level-2 entries are reported one by one with the whole page as
 * `leafSize` and their position as `contigIndex`. Not a hot path: bigints throughout.
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
  EXYNOS_PGSIZE_BITMAP,
  LPAGE_SIZE,
  lv1entSection,
  lv2entLarge,
  lv2entSmall,
  lv2tableBase,
  NUM_LV1ENTRIES,
  NUM_LV2ENTRIES,
  SECT_SIZE,
  SPAGE_SIZE,
  SPAGES_PER_LPAGE,
  sectToPhys,
} from "./defs.js";

/** Model-only: where a SysMMU table lives and how it is encoded (a domain's, or an image's). */
export interface ExynosTableParams {
  /** Memory holding the tables. */
  readonly mem: PhysMem;
  /** PA of the 16 KiB level-1 table. */
  readonly pgtable: number;
  /** `PG_ENT_SHIFT`: 0 (SysMMU v1–v3) or 4 (v5+). */
  readonly pgEntShift: number;
  /** `ZERO_LV2LINK`: the level-1 value that means "empty" (skipped like 0). */
  readonly zeroLv2Link: number;
  /** PA of the `lv2entcnt` block, if known: table entries then carry a `free` field. */
  readonly lv2entcnt?: number;
  /** Memory holding the `lv2entcnt` block (default: {@link mem}). */
  readonly lv2entcntMem?: PhysMem;
}

/**
 * Model-only (the inverse of `LV1_PROT[]` / `LV2_PROT[]`): the IOMMU_* permissions a level-`lvl`
 * leaf grants — v5+: the AP index in bits 5:4 (level 1) or 3:2 (level 2); v1–v3: none without
 * the AP bit, read-only with APX, else read/write.
 */
export function exynosLeafProt(ent: number, lvl: number, pgEntShift: number): number {
  if (pgEntShift) return (ent >>> (lvl === 1 ? 4 : 2)) & 3;
  const apx = lvl === 1 ? 15 : 9;
  const ap = lvl === 1 ? 10 : 4;
  if (!((ent >>> ap) & 1)) return 0;
  return (ent >>> apx) & 1 ? IOMMU_READ : IOMMU_READ | IOMMU_WRITE;
}

function field(name: string, raw: number, hi: number, lo: number = hi): PteField {
  const width = hi - lo + 1;
  const value = width >= 32 ? raw >>> 0 : (raw >>> lo) & ((1 << width) - 1);
  return { name, bits: hi === lo ? `${hi}` : `${hi}:${lo}`, value };
}

function addrField(name: string, hi: number, lo: number, value: number): PteField {
  return { name, bits: `${hi}:${lo}`, value };
}

/**
 * Model-only (the driver has no walk op): the inspector of one SysMMU page table. Levels are
 * 1 (4096 entries of 1 MiB) and 2 (256 entries of 4 KiB); the zero link counts as empty.
 */
export class ExynosInspector implements PageTableInspector {
  private readonly table: TwoLevelTable32;

  constructor(readonly params: ExynosTableParams) {
    this.table = {
      mem: params.mem,
      root: params.pgtable,
      l1Entries: NUM_LV1ENTRIES,
      l1Span: SECT_SIZE,
      l2Entries: NUM_LV2ENTRIES,
      l2Span: SPAGE_SIZE,
      info: (lvl, tableAddr, index, ent, iova) => this.info(lvl, tableAddr, index, ent, iova),
      l1Empty: (ent) => ent === params.zeroLv2Link,
    };
  }

  geometry(): PageTableGeometry {
    return {
      format: this.params.pgEntShift ? "exynos-sysmmu-v5" : "exynos-sysmmu-v1",
      root: this.params.pgtable,
      topLevel: 1,
      levels: 2,
      topEntries: NUM_LV1ENTRIES,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: BigInt(EXYNOS_PGSIZE_BITMAP),
    };
  }

  /** The driver's `lv2entcnt[i]` (free level-2 slots of section i), when known. */
  freeSlots(i: number): number | undefined {
    const pa = this.params.lv2entcnt;
    if (pa === undefined) return undefined;
    const word = (this.params.lv2entcntMem ?? this.params.mem).read32(pa + 4 * (i >>> 1));
    const half = i & 1 ? word >>> 16 : word & 0xffff;
    return (half << 16) >> 16;
  }

  /** The IOMMU_* permissions a leaf grants (the inverse of `LV1_PROT[]` / `LV2_PROT[]`). */
  private prot(ent: number, lvl: number): number {
    return exynosLeafProt(ent, lvl, this.params.pgEntShift);
  }

  private accessFields(ent: number, lvl: number): PteField[] {
    if (this.params.pgEntShift) return lvl === 1 ? [field("AP", ent, 5, 4)] : [field("AP", ent, 3, 2)];
    return lvl === 1
      ? [field("APX", ent, 15), field("AP", ent, 10)]
      : [field("APX", ent, 9), field("AP", ent, 4)];
  }

  /** Entry `index` of a table, decoded. */
  info(lvl: 1 | 2, tableAddr: number, index: number, ent: number, iova: bigint): PteInfo {
    const { mem, pgEntShift, zeroLv2Link } = this.params;
    const itemSize = lvl === 1 ? SECT_SIZE : SPAGE_SIZE;
    const base = {
      level: lvl,
      depth: lvl - 1,
      tableAddr,
      index,
      entryBytes: 4,
      raw: BigInt(ent >>> 0),
      iova,
      itemSize,
    };
    const s = pgEntShift;
    if (lvl === 1) {
      if (lv1entSection(ent)) {
        const pa = sectToPhys(ent, s) - (sectToPhys(ent, s) % SECT_SIZE);
        return {
          ...base,
          kind: "leaf",
          phys: BigInt(pa),
          leafSize: SECT_SIZE,
          prot: this.prot(ent, 1),
          fields: [
            addrField("SECT_BASE", 31, 20 - s, pa),
            ...this.accessFields(ent, 1),
            field("type", ent, 1, 0),
          ],
        };
      }
      if ((ent & 3) === 1 && ent !== zeroLv2Link) {
        const next = lv2tableBase(ent, s);
        const free = this.freeSlots(index);
        return {
          ...base,
          kind: "table",
          nextTable: next,
          tableMissing: mem.chunk(next) === undefined,
          fields: [
            addrField("LV2_BASE", 31, 6, next),
            ...(free === undefined ? [] : [{ name: "free", bits: "lv2entcnt", value: free }]),
            field("type", ent, 1, 0),
          ],
        };
      }
      const zero = ent === zeroLv2Link;
      return {
        ...base,
        kind: "invalid",
        fields: zero
          ? [{ name: "ZERO_LV2LINK", bits: "31:0", value: ent >>> 0 }]
          : [field("type", ent, 1, 0)],
      };
    }
    if (lv2entLarge(ent) || lv2entSmall(ent)) {
      const large = lv2entLarge(ent);
      const size = large ? LPAGE_SIZE : SPAGE_SIZE;
      const pa = sectToPhys(ent, s) - (sectToPhys(ent, s) % size);
      const contigIndex = large ? index % SPAGES_PER_LPAGE : undefined;
      return {
        ...base,
        kind: "leaf",
        phys: BigInt(pa + (contigIndex ?? 0) * SPAGE_SIZE),
        leafSize: size,
        ...(contigIndex === undefined ? {} : { contigIndex }),
        prot: this.prot(ent, 2),
        fields: [
          addrField(large ? "LPAGE_BASE" : "SPAGE_BASE", 31, (large ? 16 : 12) - s, pa),
          ...this.accessFields(ent, 2),
          field("type", ent, 1, 0),
        ],
      };
    }
    return { ...base, kind: "invalid", fields: [field("type", ent, 1, 0)] };
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

/** Model-only: the inspector of the SysMMU table described by `params` (a live domain's or an image's). */
export function createExynosInspector(params: ExynosTableParams): ExynosInspector {
  return new ExynosInspector(params);
}
