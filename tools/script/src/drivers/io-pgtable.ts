/**
 * An IOMMU driver over a bare io-pgtable format, for tables with no driver package of their
 * own: the domain ops forward to the format (`IO_PGTABLE_DOMAIN_OPS`) and the format's TLB
 * callbacks do nothing, as for a unit without an IOTLB. This is the domain the VFIO reference
 * harness builds (io-pgtable-arm ARM_64_LPAE_S1 behind each `driver N`).
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  negErrno,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  createIoPgtableDomain,
  IO_PGTABLE_DOMAIN_OPS,
  type IommuFlushOps,
  type IoPgtableDomain,
  type IoPgtableFmt,
} from "@iommu/io-pgtable";

/** The format's TLB callbacks: these domains have no IOTLB of their own. */
const NO_TLB: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
};

/** The hardware one instance describes: the io_pgtable_cfg it gives every domain. */
export interface IoPgtableDriverHw {
  /** `dev_name()` of the unit. */
  readonly name: string;
  readonly fmt: IoPgtableFmt;
  readonly ias: number;
  readonly oas: number;
  readonly pgsizeBitmap: number;
  readonly quirks?: number;
  /** Default true. */
  readonly coherentWalk?: boolean;
  /**
   * The ops table the domains get (default: a copy of IO_PGTABLE_DOMAIN_OPS of its own). Pass
   * one table to several instances to make them one kernel driver, whose domains type1 and
   * iommufd may share between them.
   */
  readonly ops?: IommuDomainOps<IoPgtableDomain>;
  /** Where the domains' kernel WARNs go (they also count in the domain's counters). */
  readonly warn?: (message: string) => void;
}

/** A fresh ops table with the io-pgtable forwarding ops: one driver identity. */
export function ioPgtableDriverOps(name: string): IommuDomainOps<IoPgtableDomain> {
  return { ...IO_PGTABLE_DOMAIN_OPS, name };
}

export class IoPgtableDriver implements IommuDriver<IoPgtableDomain> {
  readonly name: string;
  readonly ops: IommuDomainOps<IoPgtableDomain>;

  constructor(readonly hw: IoPgtableDriverHw) {
    this.name = hw.name;
    this.ops = hw.ops ?? ioPgtableDriverOps(hw.name);
  }

  get pgsizeBitmap(): number {
    return this.hw.pgsizeBitmap;
  }

  capable(cap: IommuCap): boolean {
    return cap === IOMMU_CAP_CACHE_COHERENCY && (this.hw.coherentWalk ?? true);
  }

  /** A new table; -ENOMEM when the format refuses the cfg (as a driver's domain_finalise does). */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): IoPgtableDomain | number {
    if (flags !== 0) return negErrno("EOPNOTSUPP");
    const hw = this.hw;
    let counters = options.counters;
    if (!counters) {
      counters = new IommuCounters();
      const warn = hw.warn;
      if (warn) counters.onWarn = (message) => warn(message);
    }
    const pgtbl = allocIoPgtableOps(hw.fmt, {
      quirks: hw.quirks ?? 0,
      pgsizeBitmap: hw.pgsizeBitmap,
      ias: hw.ias,
      oas: hw.oas,
      coherentWalk: hw.coherentWalk ?? true,
      tlb: NO_TLB,
      allocator: options.allocator ?? new TableAllocator(new PhysMem(), { counters }),
      counters,
    });
    if (!pgtbl) return negErrno("ENOMEM");
    const domain = createIoPgtableDomain(pgtbl, counters);
    domain.ops = this.ops;
    if (options.type !== undefined) domain.type = options.type;
    return domain;
  }
}
