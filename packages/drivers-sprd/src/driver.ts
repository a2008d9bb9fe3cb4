/**
 * drivers/iommu/sprd-iommu.c: one Unisoc IOMMU as an {@link IommuDriver} — probe allocates the
 * 4 KiB fault ("protect") page and reads the version (EX or VAU);
 * `sprd_iommu_domain_alloc_paging()` then `sprd_iommu_attach_device()` give a domain with its
 * 256 KiB flat table over the 256 MiB aperture.
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
  SPRD_EX_REGS,
  SPRD_IOMMU_PAGE_SIZE,
  SPRD_PGT_SIZE,
  SPRD_VAU_REGS,
  type SprdIommuVersion,
  type SprdRegs,
} from "./defs.js";
import { createSprdDomainOps, SprdDomain } from "./sprd-iommu.js";

const EOPNOTSUPP = -95;
const ENOMEM = -12;

/** `struct sprd_iommu_device` as a hardware description (model-only options of one Unisoc IOMMU). */
export interface SprdIommuOptions {
  /** `sdev->ver` from the version register: `"ex"` (SPRD_IOMMU_EX) or `"vau"`. Default `"ex"`. */
  readonly version?: SprdIommuVersion;
  /** Instance name (`dev_name()`), default `"sprd-iommu"`. */
  readonly name?: string;
  /** Table memory (the fault page and the domains' tables); default a fresh one at `ptbase`. */
  readonly allocator?: TableAllocator;
  /** Base PA of the default allocator's arena (default 0x80000000). */
  readonly ptbase?: number;
  /** Counters for the instance's own allocation (the fault page). */
  readonly counters?: IommuCounters;
  /** Default `strict` of new domains (see {@link SprdDomain.strict}). */
  readonly strict?: boolean;
}

/** `sprd_iommu_domain_alloc_paging()` options (model-only), for {@link SprdIommu.domainAllocPagingFlags}. */
export interface SprdDomainAllocOptions extends IommuDomainAllocOptions {
  /** Report kernel quirks instead of reproducing them (default: the instance's). */
  readonly strict?: boolean;
}

/**
 * `struct sprd_iommu_device` + `sprd_iommu_ops`: one IOMMU serving one client device
 * (`pgsize_bitmap` 4 KiB). Domains come back attached to that client: their table exists.
 */
export class SprdIommu implements IommuDriver<SprdDomain> {
  readonly name: string;
  readonly pgsizeBitmap = SPRD_IOMMU_PAGE_SIZE;
  readonly version: SprdIommuVersion;
  /** The register layout of {@link version}. */
  readonly regs: SprdRegs;
  /** The instance's `default_domain_ops`. */
  readonly ops: IommuDomainOps<SprdDomain>;
  readonly allocator: TableAllocator;
  readonly counters: IommuCounters;
  readonly strict: boolean;
  /** `prot_page_pa`: the page the hardware reads and writes on a translation fault. */
  readonly protPage: number;

  constructor(options: SprdIommuOptions = {}) {
    this.version = options.version ?? "ex";
    this.regs = this.version === "vau" ? SPRD_VAU_REGS : SPRD_EX_REGS;
    this.name = options.name ?? "sprd-iommu";
    this.allocator =
      options.allocator ?? new TableAllocator(new PhysMem(), { base: options.ptbase ?? 0x8000_0000 });
    this.counters = options.counters ?? new IommuCounters();
    this.strict = options.strict ?? false;
    // FIRST_PPN and DEFAULT_PPN are 32-bit page numbers.
    if (this.allocator.base + this.allocator.arenaBytes > 2 ** 44)
      throw new IommuError(
        "EINVAL",
        "SprdIommu",
        { base: this.allocator.base },
        "table memory beyond 32-bit PPNs",
      );
    const page = allocUncounted(this.allocator, SPRD_IOMMU_PAGE_SIZE);
    if (page < 0) throw new IommuError("ENOMEM", "sprd_iommu_probe", {}, "protect page");
    this.counters.tablesAllocated++;
    this.protPage = page;
    this.ops = createSprdDomainOps(this.name);
  }

  /** sprd-iommu has no `capable` op: every capability reads false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `sprd_iommu_attach_device()` for the domain's first device: allocate the flat table
   * (-ENOMEM if that fails); attaching again is a no-op.
   */
  attachDevice(d: SprdDomain): number {
    if (d.pgt >= 0) return 0;
    const pgt = allocUncounted(d.allocator, SPRD_PGT_SIZE);
    if (pgt < 0) return ENOMEM;
    d.counters.tablesAllocated++;
    d.setTable(pgt);
    return 0;
  }

  /**
   * `sprd_iommu_domain_alloc_paging()` and the attach of the IOMMU's one client: flags are
   * -EOPNOTSUPP, a failed table -ENOMEM. With `attach: false` the domain has no table yet
   * (map → -EINVAL) until {@link attachDevice}.
   */
  domainAllocPagingFlags(
    flags: number,
    options: SprdDomainAllocOptions & { readonly attach?: boolean } = {},
  ): SprdDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const d = new SprdDomain({
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      allocator: options.allocator ?? this.allocator,
      counters: options.counters ?? new IommuCounters(),
      version: this.version,
      strict: options.strict ?? this.strict,
    });
    if (options.attach === false) return d;
    const ret = this.attachDevice(d);
    return ret === 0 ? d : ret;
  }
}
