import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Tests resolve sibling packages to their TypeScript source through the `@iommu/source`
 * export condition, so `pnpm test` needs no build first. The JSON report lets
 * tools/test-summary.mjs print the CI closing line even when turbo replays a cached run.
 * `vitest-setup.js` seeds fast-check per test, so property tests are reproducible.
 */
export function packageTests(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ["@iommu/source"] },
    ssr: { resolve: { conditions: ["@iommu/source"] } },
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      reporters: ["default", "json"],
      outputFile: { json: ".vitest/report.json" },
      testTimeout: 60_000,
      setupFiles: [fileURLToPath(new URL("./vitest-setup.js", import.meta.url))],
      ...overrides,
    },
  });
}
