#!/usr/bin/env node
// Entry of the `iommu` command. In the workspace the CLI runs from TypeScript source (no
// build step needed after install): re-exec once under tsx with the @iommu/source condition.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, "../dist/main.js");
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  // Resolve tsx from this package, not from the caller's working directory (the repo root
  // has no tsx of its own, and `pnpm iommu` runs there).
  const tsx = import.meta.resolve("tsx");
  const r = spawnSync(
    process.execPath,
    ["--conditions=@iommu/source", "--import", tsx, join(here, "../src/main.ts"), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(r.status ?? 1);
}
