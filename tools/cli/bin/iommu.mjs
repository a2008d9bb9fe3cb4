#!/usr/bin/env node
// Entry of the `iommu` command: one Node process. It runs the built bundle (dist/main.js, made
// by `tsup` on install and before the CLI's tests). Source mode, for development, runs the
// TypeScript in this same process: IOMMU_SOURCE=1, or automatically when no build exists.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, "../dist/main.js");
if (existsSync(built) && !process.env.IOMMU_SOURCE) {
  await import(pathToFileURL(built).href);
} else {
  // tsx transpiles; the second hook (run first) resolves @iommu/* packages to their source.
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  register("./source-condition.mjs", import.meta.url);
  await import(pathToFileURL(join(here, "../src/main.ts")).href);
}
