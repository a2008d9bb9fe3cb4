/**
 * `iommu_paging_domain_alloc_flags()` (drivers/iommu/iommu.c): the core's entry for callers
 * that want a paging domain from a driver, turning the driver's errno into an
 * {@link IommuError}.
 */
import type { IommuDomain } from "./domain.js";
import type { IommuDomainAllocOptions, IommuDriver } from "./driver.js";
import { IommuError } from "./errno.js";

/**
 * `iommu_paging_domain_alloc_flags(dev, flags)`: a new paging domain from `driver`, or an
 * {@link IommuError} with the driver's errno (`EOPNOTSUPP` for unsupported flags, …). The
 * kernel's `iommu_paging_domain_alloc(dev)` is this with `flags` 0.
 */
export function iommuPagingDomainAllocFlags<D extends IommuDomain>(
  driver: IommuDriver<D>,
  flags = 0,
  options?: IommuDomainAllocOptions,
): D {
  const d = driver.domainAllocPagingFlags(flags, options);
  if (typeof d === "number")
    throw IommuError.fromReturn(d, "iommu_paging_domain_alloc_flags", { driver: driver.name, flags });
  return d;
}
