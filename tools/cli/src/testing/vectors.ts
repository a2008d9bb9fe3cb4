/**
 * The golden vectors live with the engine (@iommu/script's src/fixtures/vectors); the CLI's
 * subprocess tests run a few of them through the binary to test the glue.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const scriptDir = dirname(createRequire(import.meta.url).resolve("@iommu/script/package.json"));

/** Path of a vector file: `vectorFile("io-pgtable", "misc-commands.txt")`. */
export function vectorFile(suite: "io-pgtable" | "generic-pt" | "vfio", file: string): string {
  return join(scriptDir, "src/fixtures/vectors", suite, file);
}
