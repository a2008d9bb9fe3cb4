/**
 * drivers/iommu/sun50i-iommu.c: one Allwinner H6 IOMMU as an {@link IommuDriver} — probe
 * creates its `pt_pool` kmem_cache, `sun50i_iommu_domain_alloc_paging()` allocates the
 * 16 KiB directory of a domain with a 32-bit aperture and the ops' 4 KiB page size.
 */
import {
  allocUncounted,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  type KmemCache,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { DT_SIZE, SUN50I_PGSIZE_BITMAP } from "./defs.js";
import { createPtPool } from "./pt-pool.js";
import { createSun50iDomainOps, Sun50iDomain } from "./sun50i-iommu.js";

const EOPNOTSUPP = -95;
const ENOMEM = -12;

/** `struct sun50i_iommu` as a hardware description (model-only options; the driver has no version or variant knob). */
export interface Sun50iIommuOptions {
  /** Instance name (`dev_name()`), default `"sun50i-iommu"`. */
  readonly name?: string;
  /** Page-table memory of the domains (default: a fresh one over its own PhysMem at `ptbase`). */
  readonly allocator?: TableAllocator;
  /** Base PA of the default allocator's arena (default 0x80000000). */
  readonly ptbase?: number;
  /** Default `strict` of new domains (see {@link Sun50iDomain.strict}). */
  readonly strict?: boolean;
}

/** `sun50i_iommu_domain_alloc_paging()` options (model-only), for {@link Sun50iIommu.domainAllocPagingFlags}. */
export interface Sun50iDomainAllocOptions extends IommuDomainAllocOptions {
  /** Report kernel quirks instead of reproducing them (default: the instance's). */
  readonly strict?: boolean;
}

/**
 * `struct sun50i_iommu` + `sun50i_iommu_ops`: the IOMMU, its page-table pool and the paging
 * domains it allocates (`pgsize_bitmap` SZ_4K, aperture 0..2^32−1).
 */
export class Sun50iIommu implements IommuDriver<Sun50iDomain> {
  readonly name: string;
  readonly pgsizeBitmap = SUN50I_PGSIZE_BITMAP;
  /** The instance's `default_domain_ops`. */
  readonly ops: IommuDomainOps<Sun50iDomain>;
  readonly allocator: TableAllocator;
  readonly strict: boolean;
  private readonly pools = new Map<TableAllocator, KmemCache>();

  constructor(options: Sun50iIommuOptions = {}) {
    this.name = options.name ?? "sun50i-iommu";
    this.allocator =
      options.allocator ?? new TableAllocator(new PhysMem(), { base: options.ptbase ?? 0x8000_0000 });
    this.strict = options.strict ?? false;
    // DTEs and IOMMU_TTB_REG hold 32-bit table addresses.
    if (this.allocator.base + this.allocator.arenaBytes > 2 ** 32)
      throw new IommuError(
        "EINVAL",
        "Sun50iIommu",
        { base: this.allocator.base },
        "table memory above 4 GiB",
      );
    this.ops = createSun50iDomainOps(this.name);
  }

  /** `iommu->pt_pool` over `allocator` (one per table memory). */
  poolFor(allocator: TableAllocator): KmemCache {
    let p = this.pools.get(allocator);
    if (!p) {
      p = createPtPool(this.name, allocator);
      this.pools.set(allocator, p);
    }
    return p;
  }

  /** sun50i-iommu has no `capable` op: every capability reads false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `sun50i_iommu_domain_alloc_paging()` behind `iommu_paging_domain_alloc_flags()`: flags are
   * -EOPNOTSUPP, a failed directory -ENOMEM.
   */
  domainAllocPagingFlags(flags: number, options: Sun50iDomainAllocOptions = {}): Sun50iDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.allocator;
    const counters = options.counters ?? new IommuCounters();
    const dt = allocUncounted(allocator, DT_SIZE);
    if (dt < 0) return ENOMEM;
    counters.tablesAllocated++;
    return new Sun50iDomain({
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      allocator,
      ptPool: this.poolFor(allocator),
      counters,
      dt,
      strict: options.strict ?? this.strict,
    });
  }
}
