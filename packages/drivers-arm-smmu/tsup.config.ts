import { packageBuild } from "@iommu/config/tsup";

export default packageBuild();
