import { packageTests } from "@iommu/config/vitest";

export default packageTests();
