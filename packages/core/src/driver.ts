/**
 * `struct iommu_ops`, the paging-domain side: what a caller (VFIO, iommufd, a GPU driver, the
 * tools) may ask of an IOMMU driver instance. A driver package builds one from a hardware
 * description (ID registers, capability fields, variant) and returns it; callers accept this
 * interface and never build page-table formats themselves.
 */

import type { IommuCounters } from "./counters.js";
import type { IommuDomain } from "./domain.js";
import type { TableAllocator } from "./table-allocator.js";

/** `enum iommu_cap`: capabilities a caller may query with {@link IommuDriver.capable}. */
export const IOMMU_CAP_CACHE_COHERENCY = 0;
/** `IOMMU_CAP_NOEXEC` */
export const IOMMU_CAP_NOEXEC = 1;
/** `IOMMU_CAP_PRE_BOOT_PROTECTION` */
export const IOMMU_CAP_PRE_BOOT_PROTECTION = 2;
/** `IOMMU_CAP_ENFORCE_CACHE_COHERENCY` */
export const IOMMU_CAP_ENFORCE_CACHE_COHERENCY = 3;
/** `IOMMU_CAP_DEFERRED_FLUSH` */
export const IOMMU_CAP_DEFERRED_FLUSH = 4;
/** `IOMMU_CAP_DIRTY_TRACKING` */
export const IOMMU_CAP_DIRTY_TRACKING = 5;

/** `enum iommu_cap` as a value. */
export type IommuCap =
  | typeof IOMMU_CAP_CACHE_COHERENCY
  | typeof IOMMU_CAP_NOEXEC
  | typeof IOMMU_CAP_PRE_BOOT_PROTECTION
  | typeof IOMMU_CAP_ENFORCE_CACHE_COHERENCY
  | typeof IOMMU_CAP_DEFERRED_FLUSH
  | typeof IOMMU_CAP_DIRTY_TRACKING;

/** Model-only inputs of a domain allocation (the kernel takes them from the device and the driver). */
export interface IommuDomainAllocOptions {
  /** `domain->type` to give the new domain (default IOMMU_DOMAIN_UNMANAGED, as VFIO and iommufd set it). */
  readonly type?: number;
  /** Page-table memory for this domain (default: the driver's). */
  readonly allocator?: TableAllocator;
  /** Counters for this domain (default: fresh ones). */
  readonly counters?: IommuCounters;
}

/**
 * `struct iommu_ops` of one driver instance (one IOMMU unit): its name, what it is capable of,
 * and `domain_alloc_paging_flags()`. Two domains from different instances have different ops
 * tables (VFIO type1 and iommufd reuse a domain only for the same ops).
 */
export interface IommuDriver<D extends IommuDomain = IommuDomain> {
  /** Driver instance name (`dev_name()` of the IOMMU), for tables and messages. */
  readonly name: string;
  /** `iommu_ops.pgsize_bitmap` where the driver has one, else the default domain's. */
  readonly pgsizeBitmap: number;
  /** `iommu_ops.capable(dev, cap)` */
  capable(cap: IommuCap): boolean;
  /**
   * `iommu_ops.domain_alloc_paging_flags(dev, flags, user_data)` with `user_data` NULL: a new
   * paging domain, or a negative errno (`-EOPNOTSUPP` for flags the driver does not support,
   * `-ENOMEM`, `-EBUSY` when its ASID/VMID/domain-id space is exhausted, …). Flags are the
   * `IOMMU_HWPT_ALLOC_*` uapi bits (0 from VFIO and the DMA API).
   */
  domainAllocPagingFlags(flags: number, options?: IommuDomainAllocOptions): D | number;
}
