// The user process model lives in @iommu/core (user-mm.ts), shared with @iommu/iommufd.
export { RLIM_INFINITY, UserMm, type UserMmOptions } from "@iommu/core";
