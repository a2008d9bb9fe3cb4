import { defineConfig } from "tsup";

/** The one build every published @iommu package uses: dual ESM/CJS with per-format types. */
export function packageBuild(entry = ["src/index.ts"]) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    treeshake: true,
  });
}
