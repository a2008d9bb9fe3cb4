import { packageBuild } from "@iommu/config/tsup";

// Three entry points: the whole surface, and each GPU driver alone.
export default packageBuild(["src/index.ts", "src/panfrost.ts", "src/panthor.ts"]);
