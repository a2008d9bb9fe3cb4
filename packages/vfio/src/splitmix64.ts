// The generator lives in @iommu/core (splitmix64.ts), shared with @iommu/iommufd.
export { SplitMix64 } from "@iommu/core";
