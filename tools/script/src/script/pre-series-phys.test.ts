/**
 * The `phys` replay of pre-series-phys.ts against answers recorded from the legacy
 * `iova_to_phys` ops before issue 18 removed them (fixtures/pre-series-phys.txt): after each
 * golden vector's script, the recorded probes (IOVAs from the script's mappings ± offsets, their
 * aliases above 2^32 … 2^52 and in the upper half, 64-bit edges, random IOVAs) must print what
 * the legacy op printed, the quirks included. Plus the replay helpers' own edges.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { runScript } from "./engine.js";
import { dropPageOffset, IovaRanges, inAperture, isU64Max, sprdPreSeriesPhys } from "./pre-series-phys.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "../fixtures");

interface Probes {
  vector: string;
  lines: string[];
  expected: string[];
}

function loadProbes(): Probes[] {
  const out: Probes[] = [];
  for (const line of readFileSync(join(fixtures, "pre-series-phys.txt"), "utf8").split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    if (line.startsWith("== ")) {
      out.push({ vector: line.slice(3), lines: [], expected: [] });
      continue;
    }
    const [cmd, printed] = line.split(" => ");
    out.at(-1)!.lines.push(cmd!);
    out.at(-1)!.expected.push(printed!);
  }
  return out;
}

const probes = loadProbes();

describe("phys replays the legacy ops' recorded answers", () => {
  it("every golden vector has its probes, each family's quirks among them", () => {
    expect(probes.length).toBe(36);
    expect(probes.reduce((n, p) => n + p.lines.length, 0)).toBeGreaterThan(2500);
    // Each replayed quirk has recorded probes where it shows.
    const all = probes.flatMap((p) => p.expected);
    expect(all).toContain("phys=0xffffffffffffffde"); // generic_pt -ERANGE
  });

  for (const p of probes) {
    it(`${p.vector} (${p.lines.length} probes)`, () => {
      const script = readFileSync(join(fixtures, "vectors", `${p.vector}.txt`), "utf8");
      const out = runScript(`${script.trimEnd()}\n${p.lines.join("\n")}\n`, { families: createFamilies() })
        .trimEnd()
        .split("\n");
      expect(out.slice(-p.lines.length)).toEqual(p.expected);
    });
  }
});

describe("replay helpers", () => {
  it("IovaRanges.fold keeps an IOVA in range and folds the rest onto the range's low bits", () => {
    const low: [bigint, bigint] = [0n, (1n << 48n) - 1n];
    expect(new IovaRanges([low]).fold(0x1234)).toBe(0x1234);
    expect(new IovaRanges([low]).fold(2 ** 48 + 0x5000)).toBe(0x5000);
    expect(new IovaRanges([low]).fold((1n << 64n) - 0x1000n)).toBe(2 ** 48 - 0x1000);
    const upper: [bigint, bigint] = [(1n << 64n) - (1n << 48n), (1n << 64n) - 1n];
    expect(new IovaRanges([upper]).fold(0x5000)).toBe((1n << 64n) - (1n << 48n) + 0x5000n);
    expect(new IovaRanges([upper]).fold(0xffff_0000_0000_5000n)).toBe(0xffff_0000_0000_5000n);
  });

  it("isU64Max only at 2^64 − 1", () => {
    expect(isU64Max((1n << 64n) - 1n)).toBe(true);
    expect(isU64Max((1n << 64n) - 2n)).toBe(false);
    expect(isU64Max(2 ** 53)).toBe(false);
  });

  it("dropPageOffset, sprdPreSeriesPhys and inAperture", () => {
    expect(dropPageOffset(0x9000_0123)).toBe(0x9000_0000);
    expect(dropPageOffset(0x123)).toBe(0);
    expect(dropPageOffset((1n << 60n) + 0xabcn)).toBe(1n << 60n);
    const g = { apertureStart: 0x1000, apertureEnd: 0xfff_ffff, forceAperture: true };
    expect(sprdPreSeriesPhys(0x4000_0123, 0x10_0123, g)).toBe(0x4000_0123);
    expect(sprdPreSeriesPhys(0, 0x10_0abc, g)).toBe(0xabc);
    expect(sprdPreSeriesPhys(0, 0x1000_0abc, g)).toBe(0);
    expect(inAperture(g, 0x1000)).toBe(true);
    expect(inAperture(g, 0xfff_ffff)).toBe(true);
    expect(inAperture(g, 0x1000_0000)).toBe(false);
    expect(inAperture(g, 0)).toBe(false);
  });

  it("IovaRanges: number fast path and bigint path agree, edges included", () => {
    const lower = new IovaRanges([[0n, (1n << 48n) - 1n]]);
    const upper = new IovaRanges([[(1n << 64n) - (1n << 48n), (1n << 64n) - 1n]]);
    const both = new IovaRanges([
      [0n, (1n << 47n) - 1n],
      [(1n << 64n) - (1n << 47n), (1n << 64n) - 1n],
    ]);
    const odd = new IovaRanges([[0n, (1n << 60n) + 5n]]); // a bound no double holds: bigint path
    for (const [r, iova, want] of [
      [lower, 2 ** 48 - 0x1000, true],
      [lower, 2 ** 48, false],
      [lower, 2n ** 48n - 1n, true],
      [upper, 2 ** 64 - 2 ** 48, true],
      [upper, 2 ** 64 - 2 ** 48 - 0x1000, false],
      [upper, (1n << 64n) - 1n, true],
      [both, 2 ** 47, false],
      [both, 2 ** 64 - 0x1000, true],
      [odd, 2 ** 60, true],
      [odd, 2 ** 60 + 0x1000, false],
    ] as const)
      expect(r.contains(iova), `${iova}`).toBe(want);
    expect(lower.fold(2 ** 48 + 0x5000)).toBe(0x5000);
    expect(upper.fold(0x5000)).toBe((1n << 64n) - (1n << 48n) + 0x5000n);
  });
});
