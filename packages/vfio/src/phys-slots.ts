// The fake user RAM lives in @iommu/core (phys-slots.ts), shared with @iommu/iommufd.
export { PhysSlots, USER_PHYS_BASE, USER_PHYS_END } from "@iommu/core";
