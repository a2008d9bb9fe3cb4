import { packageTests } from "@iommu/config/vitest";

// Unit tests (src/) and the browser tests (e2e/, real Chromium over the built app): the global
// setup builds the app first; one test file at a time (one browser, 2 cores).
export default packageTests({
  include: ["src/**/*.test.ts", "e2e/**/*.test.ts"],
  globalSetup: ["e2e/global-setup.ts"],
  hookTimeout: 60_000,
  fileParallelism: false,
});
