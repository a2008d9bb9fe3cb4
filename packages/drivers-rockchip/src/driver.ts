/**
 * drivers/iommu/rockchip-iommu.c: one Rockchip IOMMU as an {@link IommuDriver} — the
 * compatible string picks `iommu_data_ops_v1` or `_v2` (`rk_ops`), and
 * `rk_iommu_domain_alloc_paging()` allocates the 4 KiB directory and sets the domain's
 * 4 KiB–4 MiB bitmap and 32-bit aperture.
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
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import {
  RK_IOMMU_OPS_V1,
  RK_IOMMU_OPS_V2,
  RK_IOMMU_PGSIZE_BITMAP,
  type RkIommuOps,
  SPAGE_SIZE,
} from "./defs.js";
import { createRockchipDomainOps, RockchipDomain } from "./rockchip-iommu.js";

const EOPNOTSUPP = -95;
const ENOMEM = -12;

/** `struct rk_iommu` as a hardware description (model-only options of one Rockchip IOMMU). */
export interface RockchipIommuOptions {
  /**
   * `"v1"` (compatible `rockchip,iommu`: 32-bit PAs, tables below 4 GiB) or `"v2"`
   * (`rockchip,rk3568-iommu`: 40-bit PAs). Default `"v1"`.
   */
  readonly variant?: "v1" | "v2";
  /** Instance name (`dev_name()`), default `"rk_iommu"`. */
  readonly name?: string;
  /** Page-table memory of the domains (default: a fresh one over its own PhysMem at `ptbase`). */
  readonly allocator?: TableAllocator;
  /** Base PA of the default allocator's arena (default 0x80000000). */
  readonly ptbase?: number;
  /** Default `strict` of new domains (see {@link RockchipDomain.strict}). */
  readonly strict?: boolean;
}

/** `rk_iommu_domain_alloc_paging()` options (model-only), for {@link RockchipIommu.domainAllocPagingFlags}. */
export interface RockchipDomainAllocOptions extends IommuDomainAllocOptions {
  /** Report kernel quirks instead of reproducing them (default: the instance's). */
  readonly strict?: boolean;
}

/**
 * `struct rk_iommu` + `rk_iommu_ops`: an IOMMU of one generation and the paging domains it
 * allocates. The driver has no `pgsize_bitmap` in its iommu_ops: each domain sets
 * RK_IOMMU_PGSIZE_BITMAP itself.
 */
export class RockchipIommu implements IommuDriver<RockchipDomain> {
  readonly name: string;
  readonly pgsizeBitmap = RK_IOMMU_PGSIZE_BITMAP;
  /** `rk_ops`: the v1 or v2 encoding. */
  readonly rkOps: RkIommuOps;
  /** The instance's `default_domain_ops`. */
  readonly ops: IommuDomainOps<RockchipDomain>;
  readonly allocator: TableAllocator;
  readonly strict: boolean;

  constructor(options: RockchipIommuOptions = {}) {
    this.rkOps = options.variant === "v2" ? RK_IOMMU_OPS_V2 : RK_IOMMU_OPS_V1;
    this.name = options.name ?? "rk_iommu";
    this.allocator =
      options.allocator ?? new TableAllocator(new PhysMem(), { base: options.ptbase ?? 0x8000_0000 });
    this.strict = options.strict ?? false;
    // Tables come from the dma mask's zone (v1: GFP_DMA32).
    if (this.allocator.base + this.allocator.arenaBytes > 2 ** this.rkOps.dmaBits)
      throw new IommuError(
        "EINVAL",
        "RockchipIommu",
        { base: this.allocator.base },
        "table memory beyond the DMA mask",
      );
    this.ops = createRockchipDomainOps(this.name);
  }

  /** rockchip-iommu has no `capable` op: every capability reads false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `rk_iommu_domain_alloc_paging()` behind `iommu_paging_domain_alloc_flags()`: flags are
   * -EOPNOTSUPP (the driver has no `domain_alloc_paging_flags`), a failed directory -ENOMEM.
   */
  domainAllocPagingFlags(flags: number, options: RockchipDomainAllocOptions = {}): RockchipDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.allocator;
    const counters = options.counters ?? new IommuCounters();
    const dt = allocUncounted(allocator, SPAGE_SIZE);
    if (dt < 0) return ENOMEM;
    counters.tablesAllocated++;
    return new RockchipDomain({
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      rkOps: this.rkOps,
      allocator,
      counters,
      dt,
      strict: options.strict ?? this.strict,
    });
  }
}
