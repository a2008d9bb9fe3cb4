/**
 * `iommu script` through the binary: a vector file, stdin, several files (each a fresh run).
 * Every vector is checked byte for byte by @iommu/script's own tests; this checks the glue.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFamilies, runScript } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { vectorFile } from "../testing/vectors.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iommu.mjs");

describe("the iommu binary", () => {
  const file = vectorFile("io-pgtable", "misc-commands.txt");
  const script = readFileSync(file, "utf8");

  it("`iommu script FILE` prints what the engine prints, byte for byte", () => {
    // From a directory outside the workspace: the bin must find its own tsx.
    const r = spawnSync(process.execPath, [bin, "script", "--quiet", file], {
      encoding: "utf8",
      cwd: tmpdir(),
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(runScript(script, { families: createFamilies() }));
    expect(r.stdout).toBe(readFileSync(vectorFile("io-pgtable", "misc-commands.out"), "utf8"));
  }, 30_000);

  it("`iommu script -` reads stdin; every FILE is a fresh run", () => {
    const r = spawnSync(process.execPath, [bin, "script", "-q", file, "-"], {
      input: script,
      encoding: "utf8",
    });
    const once = runScript(script, { families: createFamilies() });
    expect(r.stdout).toBe(once + once);
  }, 30_000);
});
