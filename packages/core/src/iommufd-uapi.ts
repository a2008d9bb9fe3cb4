/**
 * `include/uapi/linux/iommufd.h`: the uapi flags a caller passes down to a driver's
 * `domain_alloc_paging_flags()` (here {@link IommuDriver.domainAllocPagingFlags}).
 */

/** `IOMMU_HWPT_ALLOC_NEST_PARENT`: the domain may be a stage-2 parent of nested domains. */
export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
/** `IOMMU_HWPT_ALLOC_DIRTY_TRACKING`: the domain must support dirty tracking. */
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
/** `IOMMU_HWPT_FAULT_ID_VALID`: the fault queue id is valid (not a paging-domain flag). */
export const IOMMU_HWPT_FAULT_ID_VALID = 1 << 2;
/** `IOMMU_HWPT_ALLOC_PASID`: the domain may be attached to a PASID. */
export const IOMMU_HWPT_ALLOC_PASID = 1 << 3;
