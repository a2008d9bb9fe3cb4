import { defineConfig } from "vite";

/**
 * The explorer as static files (`vite build` → dist/, relative paths so it works from any
 * directory or file server, offline). Workspace packages load from their TypeScript source.
 */
export default defineConfig({
  base: "./",
  resolve: { conditions: ["@iommu/source"] },
  build: { target: "es2022", sourcemap: true, chunkSizeWarningLimit: 2000 },
});
