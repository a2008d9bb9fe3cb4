/**
 * drivers/iommu/exynos-iommu.c: one SysMMU instance as an {@link IommuDriver} — the version
 * read at probe (`__sysmmu_get_version`) picks PG_ENT_SHIFT and the prot tables, driver init
 * creates `lv2table_kmem_cache` and the shared zero level-2 table, and `domain_alloc(type)`
 * builds a domain with every level-1 slot set to ZERO_LV2LINK.
 */
import {
  allocUncounted,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  type KmemCache,
  PhysMem,
  releaseUncounted,
  TableAllocator,
} from "@iommu/core";
import {
  EXYNOS_PGSIZE_BITMAP,
  LV1TABLE_SIZE,
  LV2ENTCNT_SIZE,
  makeMmuVer,
  NUM_LV1ENTRIES,
  SYSMMU_LV1_PROT,
  SYSMMU_LV2_PROT,
  SYSMMU_PG_ENT_SHIFT,
  SYSMMU_V5_LV1_PROT,
  SYSMMU_V5_LV2_PROT,
  SYSMMU_V5_PG_ENT_SHIFT,
} from "./defs.js";
import { createExynosDomainOps, ExynosDomain, type ExynosSysmmuHw, mkLv1entPage } from "./exynos-iommu.js";
import { createLv2TableCache } from "./lv2-cache.js";

const EOPNOTSUPP = -95;
const ENOMEM = -12;

/** `struct sysmmu_drvdata` as a hardware description (model-only options of one SysMMU). */
export interface ExynosSysmmuOptions {
  /**
   * `REG_MMU_VERSION` as `"M"` or `"M.m"` (major 1..15, minor 0..127), e.g. `"3.3"`, `"5.0"`,
   * `"7.0"`. Default `"5.0"`.
   */
  readonly version?: string;
  /** Instance name (`dev_name()`), default `"exynos-sysmmu"`. */
  readonly name?: string;
  /**
   * Page-table memory shared by the instance and its domains (the zero table and the level-2
   * cache live here). Default: a fresh one over its own {@link PhysMem} at `ptbase`.
   */
  readonly allocator?: TableAllocator;
  /** Base PA of the default allocator's arena (default 0x80000000). */
  readonly ptbase?: number;
  /** Counters for the instance's own allocations (the zero table). */
  readonly counters?: IommuCounters;
  /** Default `strict` of new domains (see {@link ExynosDomain.strict}). */
  readonly strict?: boolean;
}

/** `exynos_iommu_domain_alloc()` options (model-only), for {@link ExynosSysmmu.domainAllocPagingFlags}. */
export interface ExynosDomainAllocOptions extends IommuDomainAllocOptions {
  /** Report kernel quirks instead of reproducing them (default: the instance's). */
  readonly strict?: boolean;
  /**
   * Model-only: where the 8 KiB `lv2entcnt` block is allocated (default: with the tables, as
   * both come from the kernel's page allocator). It is driver bookkeeping, not a page table:
   * it is not counted in the domain's `tablesAllocated`.
   */
  readonly lv2entcntAllocator?: TableAllocator;
}

/** `MAKE_MMU_VER(major, minor)`'s inputs from `"M[.m]"`; throws EINVAL outside 1..15 / 0..127. */
export function parseSysmmuVersion(v: string): { major: number; minor: number } {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(v);
  const major = m ? Number(m[1]) : Number.NaN;
  const minor = m?.[2] === undefined ? 0 : Number(m[2]);
  if (!(major >= 1 && major <= 15 && minor >= 0 && minor <= 127))
    throw new IommuError(
      "EINVAL",
      "ExynosSysmmu",
      { version: v },
      "version must be M[.m], M 1..15, m 0..127",
    );
  return { major, minor };
}

/**
 * `struct sysmmu_drvdata` + `exynos_iommu_ops`: a SysMMU of a given version and the domains
 * it allocates. `pgsizeBitmap` is 1 MiB | 64 KiB | 4 KiB; the aperture of a domain is the
 * whole 64-bit range (force_aperture), of which the driver uses bits 31:0.
 */
export class ExynosSysmmu implements IommuDriver<ExynosDomain>, ExynosSysmmuHw {
  readonly name: string;
  readonly pgsizeBitmap = EXYNOS_PGSIZE_BITMAP;
  /** `data->version` (`MAKE_MMU_VER(major, minor)`). */
  readonly version: number;
  readonly major: number;
  readonly minor: number;
  readonly pgEntShift: number;
  readonly lv1Prot: readonly number[];
  readonly lv2Prot: readonly number[];
  /** The instance's `default_domain_ops`. */
  readonly ops: IommuDomainOps<ExynosDomain>;
  readonly allocator: TableAllocator;
  readonly counters: IommuCounters;
  readonly strict: boolean;
  /** PA of `zero_lv2_table` (the cache's first object). */
  readonly zeroLv2Table: number;
  /** `ZERO_LV2LINK` = `mk_lv1ent_page(zero_lv2_table)`. */
  readonly zeroLv2Link: number;
  private readonly caches = new Map<TableAllocator, KmemCache>();

  constructor(options: ExynosSysmmuOptions = {}) {
    const { major, minor } = parseSysmmuVersion(options.version ?? "5.0");
    this.major = major;
    this.minor = minor;
    this.version = makeMmuVer(major, minor);
    this.name = options.name ?? "exynos-sysmmu";
    const v5 = major >= 5;
    this.pgEntShift = v5 ? SYSMMU_V5_PG_ENT_SHIFT : SYSMMU_PG_ENT_SHIFT;
    this.lv1Prot = v5 ? SYSMMU_V5_LV1_PROT : SYSMMU_LV1_PROT;
    this.lv2Prot = v5 ? SYSMMU_V5_LV2_PROT : SYSMMU_LV2_PROT;
    this.allocator =
      options.allocator ?? new TableAllocator(new PhysMem(), { base: options.ptbase ?? 0x8000_0000 });
    this.counters = options.counters ?? new IommuCounters();
    this.strict = options.strict ?? false;
    // Table PAs must fit the entries (the driver's DMA mask: 32 bits, 36 bits for v5+).
    const limit = 2 ** (32 + this.pgEntShift);
    if (this.allocator.base + this.allocator.arenaBytes > limit)
      throw new IommuError(
        "EINVAL",
        "ExynosSysmmu",
        { base: this.allocator.base },
        "table memory beyond the DMA mask",
      );
    // exynos_iommu_init(): the level-2 cache, then the zero table as its first object.
    const zero = this.cacheFor(this.allocator).alloc();
    if (zero < 0) throw new IommuError("ENOMEM", "exynos_iommu_init", {}, "zero level-2 table");
    this.counters.tablesAllocated++;
    this.zeroLv2Table = zero;
    this.zeroLv2Link = mkLv1entPage(this, zero);
    this.ops = createExynosDomainOps(this.name);
  }

  /** The `lv2table_kmem_cache` over `allocator` (one per table memory). */
  cacheFor(allocator: TableAllocator): KmemCache {
    let c = this.caches.get(allocator);
    if (!c) {
      c = createLv2TableCache(allocator);
      this.caches.set(allocator, c);
    }
    return c;
  }

  /** exynos-iommu has no `capable` op: every capability reads false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `exynos_iommu_domain_alloc(type)`: DMA and UNMANAGED domains only (else null). The
   * 16 KiB level-1 table (every slot ZERO_LV2LINK) then the 8 KiB `lv2entcnt` block; null
   * when either allocation fails.
   */
  domainAlloc(type: number, options: ExynosDomainAllocOptions = {}): ExynosDomain | null {
    if (type !== IOMMU_DOMAIN_DMA && type !== IOMMU_DOMAIN_UNMANAGED) return null;
    const allocator = options.allocator ?? this.allocator;
    const counters = options.counters ?? new IommuCounters();
    const pgtable = allocUncounted(allocator, LV1TABLE_SIZE);
    if (pgtable < 0) return null;
    counters.tablesAllocated++;
    const cntAllocator = options.lv2entcntAllocator ?? allocator;
    const cnt = allocUncounted(cntAllocator, LV2ENTCNT_SIZE);
    if (cnt < 0) {
      releaseUncounted(allocator, pgtable);
      counters.tablesFreed++;
      return null;
    }
    const d = new ExynosDomain({
      type,
      ops: this.ops,
      hw: this,
      allocator,
      lv2Cache: this.cacheFor(allocator),
      counters,
      pgtable,
      lv2entcntPa: cnt,
      lv2entcntAllocator: cntAllocator,
      strict: options.strict ?? this.strict,
    });
    d.l1.fill(this.zeroLv2Link, d.l1Off, d.l1Off + NUM_LV1ENTRIES);
    // iommu_domain_alloc(): the core takes the bitmap from the ops' iommu_ops.
    d.pgsizeBitmap = EXYNOS_PGSIZE_BITMAP;
    return d;
  }

  /**
   * The paging-domain entry of {@link IommuDriver}: the era's core called `domain_alloc(type)`
   * and had no allocation flags, so any flag is -EOPNOTSUPP; a failed allocation -ENOMEM.
   */
  domainAllocPagingFlags(flags: number, options: ExynosDomainAllocOptions = {}): ExynosDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    return this.domainAlloc(options.type ?? IOMMU_DOMAIN_UNMANAGED, options) ?? ENOMEM;
  }
}
