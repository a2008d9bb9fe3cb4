/**
 * An IOMMU driver over a bare generic_pt format, for the formats whose drivers (AMD, Intel
 * VT-d, RISC-V) have no package yet: every domain is `createPtDomain(format, hw)`, and each
 * driver instance (one IOMMU unit) gives its domains an ops table of its own — a copy of the
 * format's `IOMMU_PT_DOMAIN_OPS` — so two instances are two drivers to VFIO type1 and iommufd
 * (a domain of one is never reused for a group behind the other).
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DIRTY_TRACKING,
  type IommuCap,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  negErrno,
} from "@iommu/core";
import {
  type CreatePtDomainOptions,
  createPtDomain,
  PT_FORMATS,
  type PtDomain,
  type PtFormatName,
} from "@iommu/generic-pt";

/** The hardware of one instance: the table config its domains get (defaults: the format's). */
export interface PtDriverHw extends Omit<CreatePtDomainOptions, "allocator" | "counters"> {
  /** `dev_name()` of the unit (default `generic_pt-<format>`). */
  readonly name?: string;
}

export class PtDriver implements IommuDriver<PtDomain> {
  readonly name: string;
  /** This instance's ops table, made from the first domain's. */
  private ops: IommuDomainOps<PtDomain> | undefined;
  private bitmap: number | undefined;

  constructor(
    readonly format: PtFormatName,
    readonly hw: PtDriverHw = {},
  ) {
    this.name = hw.name ?? `generic_pt-${format}`;
  }

  /** The default domain's page sizes (built once, on first use). */
  get pgsizeBitmap(): number {
    if (this.bitmap === undefined) {
      const d = this.domainAllocPagingFlags(0);
      if (typeof d === "number") return 0;
      this.bitmap = d.pgsizeBitmap;
      d.ops.free?.(d);
    }
    return this.bitmap;
  }

  capable(cap: IommuCap): boolean {
    if (cap === IOMMU_CAP_CACHE_COHERENCY) return true;
    if (cap === IOMMU_CAP_DIRTY_TRACKING) return PT_FORMATS[this.format].hasDirty;
    return false;
  }

  /** A new domain, or the init errno (`pt_iommu_<fmt>_init`) when the config is refused. */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): PtDomain | number {
    if (flags !== 0) return negErrno("EOPNOTSUPP");
    let d: PtDomain;
    try {
      d = createPtDomain(this.format, {
        ...this.hw,
        allocator: options.allocator,
        counters: options.counters,
      });
    } catch (e) {
      if (e instanceof IommuError) return -e.errno;
      throw e;
    }
    this.ops ??= { ...d.ops };
    d.ops = this.ops;
    if (options.type !== undefined) d.type = options.type;
    return d;
  }
}
