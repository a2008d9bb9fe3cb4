/**
 * The golden vectors: scripts and the exact stdout the kernel reference harnesses (io-pgtable,
 * generic_pt, and the direct drivers' harness of vectors/drivers) produced for them (copied from the shared vector set into src/fixtures/vectors). One test per vector,
 * compared byte for byte. A vector is run once every format it creates is provided by a
 * registered family; until then "every vector's family is registered" fails and names them.
 * (The CLI runs one of them through the `iommu` binary to test its glue.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { runScript } from "./engine.js";
import { tokenize } from "./parse.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "../fixtures/vectors");

/** Every format the reference harnesses know; other `fmt` names in vectors are deliberate errors. */
const HARNESS_FORMATS = [
  ...["arm64-s1", "arm64-s2", "arm32-s1", "arm32-s2", "mali", "v7s", "dart1", "dart2"],
  ...["amdv1", "vtdss", "x86_64", "riscv"],
  ...["exynos", "rockchip", "sun50i", "sprd", "tegra", "mtk_v1", "s390", "omap"],
];
/** Table-less commands and the format family that implements them. */
const COMMAND_FORMATS: Readonly<Record<string, string>> = {
  selftest: "arm64-s1",
  "selftest-v7s": "v7s",
  "bench-1g": "arm64-s1",
};

interface Vector {
  suite: string;
  name: string;
  script: string;
  expected: string;
  formats: string[];
}

function formatsOf(script: string): string[] {
  const out = new Set<string>();
  for (const line of script.split("\n")) {
    const [cmd, fmt] = tokenize(line);
    if (cmd === "fmt" && fmt !== undefined && HARNESS_FORMATS.includes(fmt)) out.add(fmt);
    const needed = cmd === undefined ? undefined : COMMAND_FORMATS[cmd];
    if (needed) out.add(needed);
  }
  return [...out].sort();
}

/** The kernel-harness suites (fixtures/vectors/vfio holds `iommu vfio-script` vectors, tested there). */
const HARNESS_SUITES = ["drivers", "generic-pt", "io-pgtable"];

function loadVectors(): Vector[] {
  const out: Vector[] = [];
  for (const suite of HARNESS_SUITES) {
    for (const file of readdirSync(join(fixtures, suite)).sort()) {
      if (!file.endsWith(".txt")) continue;
      const name = file.slice(0, -4);
      const script = readFileSync(join(fixtures, suite, file), "utf8");
      const expected = readFileSync(join(fixtures, suite, `${name}.out`), "utf8");
      out.push({ suite, name, script, expected, formats: formatsOf(script) });
    }
  }
  return out;
}

const vectors = loadVectors();
const provided = new Set(createFamilies().flatMap((f) => f.formats));
const runnable = vectors.filter((v) => v.formats.every((f) => provided.has(f)));

describe("golden vectors", () => {
  it("the fixtures are all there", () => {
    expect(readdirSync(fixtures)).toEqual(expect.arrayContaining(HARNESS_SUITES));
    expect(vectors.length).toBeGreaterThanOrEqual(36);
  });

  it("every vector's family is registered", () => {
    const missing = vectors
      .filter((v) => !runnable.includes(v))
      .map((v) => `${v.suite}/${v.name}: ${v.formats.filter((f) => !provided.has(f)).join(",")}`);
    expect(missing).toEqual([]);
  });

  for (const v of runnable) {
    it(`${v.suite}/${v.name}`, () => {
      expect(runScript(v.script, { families: createFamilies() })).toBe(v.expected);
    });
  }
});
