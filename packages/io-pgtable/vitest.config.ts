import { packageTests } from "@iommu/config/vitest";

// Type tests (*.test-d.ts) run under vitest's typecheck: the ops contract as users' code sees it.
export default packageTests({ typecheck: { enabled: true, include: ["src/**/*.test-d.ts"] } });
