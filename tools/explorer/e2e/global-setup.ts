// Builds the app (`vite build` → dist/) once before the browser tests, so they always test the
// current source. EXPLORER_SKIP_BUILD=1 keeps an existing dist (turbo builds it first in CI).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default async function setup(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  if (process.env.EXPLORER_SKIP_BUILD && existsSync(join(root, "dist/index.html"))) return;
  const { build } = await import("vite");
  await build({ root, logLevel: "warn", configFile: join(root, "vite.config.ts") });
}
