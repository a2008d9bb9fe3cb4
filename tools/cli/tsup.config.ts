import { defineConfig } from "tsup";

/**
 * The `iommu` binary: one ESM file with every @iommu package bundled from its TypeScript
 * source (the `@iommu/source` export condition), so the command starts as one Node process
 * without a build of the other packages. Third-party dependencies stay external.
 */
export default defineConfig({
  entry: { main: "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: true,
  noExternal: [/^@iommu\//],
  esbuildOptions(options) {
    options.conditions = ["@iommu/source"];
  },
});
