/**
 * Smoke test: every bench section runs once over a tiny region and returns rows whose
 * figures are finite and positive. Timings themselves are not tested (they vary by machine).
 */
import { directDriverKinds, genericPtFormats } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { runAddrBench } from "./addr.js";
import { runDriversBench } from "./drivers.js";
import { runGenericPtBench } from "./generic-pt.js";
import { runLpaeBench, runLpaePteReads, runLpaeScanBench, runOtherFormatsBench } from "./io-pgtable.js";
import type { MeasureOptions } from "./measure.js";

const ONCE: MeasureOptions = { warmup: 0, runs: 1, warmupOps: 0 };
const REGION = 0x40_0000; // 4 MiB: 1024 4K pages, 2 blocks of 2M, 256 DART 16K pages

const finitePositive = (n: number) => Number.isFinite(n) && n > 0;

describe("bench sections on a 4 MiB region, one run each", () => {
  it("io-pgtable arm64-s1: the bench-1g loops, PTE reads per lookup, the whole-region scan", () => {
    const rows = runLpaeBench(ONCE, REGION)!;
    expect(rows.map((r) => r.name)).toContain("map 4K x 1024 (map_pages, 1 page per call)");
    expect(rows).toHaveLength(8);
    for (const r of rows) {
      expect(finitePositive(r.ns), r.name).toBe(true);
      expect(finitePositive(r.kernelNs!), r.name).toBe(true);
    }
    const reads = runLpaePteReads(REGION)!;
    expect(reads.map((r) => r.leaf)).toEqual(["4K", "2M"]);
    for (const r of reads) expect([r.length, r.scanWalks].every(finitePositive), r.leaf).toBe(true);
    // A 4 MiB region of 2M leaves is covered by 2 length-stepped walks, of 4K leaves by 1024.
    expect(reads.map((r) => r.scanWalks)).toEqual([1024, 2]);
    const scan = runLpaeScanBench(ONCE, REGION)!;
    expect(scan.map((r) => r.lengthWalks)).toEqual([1024, 2]);
    for (const r of scan) expect([r.perPage4kUs, r.lengthUs].every(finitePositive), r.leaf).toBe(true);
  });

  it("io-pgtable v7s / DART: three rows per registry format, none failed", () => {
    const rows = runOtherFormatsBench(ONCE, REGION);
    expect(rows.map((r) => r.name.split(":")[0])).toEqual([
      ...Array(3).fill("v7s"),
      ...Array(3).fill("dart1"),
      ...Array(3).fill("dart2"),
    ]);
    for (const r of rows) expect(finitePositive(r.ns), `${r.name} ${r.note ?? ""}`).toBe(true);
  });

  it("generic_pt: eight rows for every registry format", () => {
    const rows = runGenericPtBench({ measure: ONCE, region: REGION });
    expect(rows).toHaveLength(8 * genericPtFormats().length);
    expect([...new Set(rows.map((r) => r.format))]).toEqual(genericPtFormats());
    for (const r of rows) {
      expect(finitePositive(r.ns), r.name).toBe(true);
      expect(finitePositive(r.kernelNs), r.name).toBe(true);
      if (r.pteReadsPerLookup !== undefined) expect(finitePositive(r.pteReadsPerLookup), r.name).toBe(true);
    }
  });

  it("direct drivers: arm64-s1 first, then one row per registry driver, N limited by the aperture", () => {
    const rows = runDriversBench({ measure: ONCE, region: REGION });
    expect(rows.map((r) => r.driver)).toEqual([
      "arm64-s1 LPAE (io-pgtable)",
      ...directDriverKinds().map((k) => `${k.driver} ${k.format}`),
    ]);
    expect(rows).toHaveLength(1 + directDriverKinds().length);
    for (const r of rows) {
      expect(r.pages, r.driver).toBe(REGION / 4096);
      expect([r.map4k, r.unmap4k, r.lookup4k].every(finitePositive), r.driver).toBe(true);
    }
    // sprd's aperture is 256 MiB: a larger region is cut to its 65,536 entries.
    const sprd = runDriversBench({ measure: ONCE, region: 512 * 2 ** 20, only: ["sprd"] });
    expect(sprd.at(-1)).toMatchObject({ driver: "sprd-iommu vau", pages: 65_536 });
  }, 120_000);

  it("address representation", () => {
    const rows = runAddrBench(ONCE, 4096);
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) expect(finitePositive(r.ns), r.name).toBe(true);
  });
});

describe("cold section", () => {
  it("writes the three-pass script and reads the nine figures of a process", async () => {
    const { coldScript, parseColdOutput } = await import("./cold.js");
    const s = coldScript("fmt amdv1", 16);
    expect(s.split("\n").filter((l) => l.startsWith("bench-"))).toHaveLength(9);
    expect(s.startsWith("fmt amdv1\nbench-map 16 1000\nbench-walk 16 1000\nbench-unmap 16 1000\n")).toBe(
      true,
    );
    const out =
      "ok fmt=amdv1\nbench-map n=16 pgsize=0x1000 total_ms=0.010 ns/op=612.5\nbench-walk n=16 stride=0x1000 span=0x10000 total_ms=0.001 ns/op=80.0 not_identity=0\n";
    expect(parseColdOutput(out)).toEqual([612.5, 80]);
  });

  it("runs fresh CLI processes when the CLI is built", async () => {
    const { CLI_MAIN, runColdBench } = await import("./cold.js");
    const { existsSync } = await import("node:fs");
    const rows = runColdBench(1, 1024, [
      { name: "arm64-s1 4K", fmt: "fmt arm64-s1 granule 4k", kernel: [14.5, 22.7, 14.7] },
    ]);
    if (!existsSync(CLI_MAIN)) {
      expect(rows).toBeUndefined();
      return;
    }
    // The format's three rows, then the engine floor's (fresh processes of cold-floor.ts).
    expect(rows!.map((r) => `${r.format} ${r.op}`)).toEqual([
      "arm64-s1 4K map",
      "arm64-s1 4K walk",
      "arm64-s1 4K unmap",
      "floor: minimal table map",
      "floor: minimal table walk",
      "floor: minimal table unmap",
    ]);
    for (const r of rows!) expect([r.cold, r.steady].every(finitePositive), r.op).toBe(true);
  });

  it("the floor's minimal table translates what it maps and unmaps it again, every pass", async () => {
    const { FloorTable, floorPasses } = await import("./cold-floor.js");
    const { nsPerOp, failed } = floorPasses(1024);
    expect(failed).toBe(0);
    expect(nsPerOp).toHaveLength(9);
    expect(nsPerOp.every(finitePositive)).toBe(true);
    const t = new FloorTable();
    expect(t.walk(0x4000_0000)).toBe(-1);
    expect(t.map(0x4000_0000, 0x7654_3000)).toBe(0);
    expect(t.map(0x4000_0000, 0x1000)).toBe(-17);
    expect(t.walk(0x4000_0abc)).toBe(0x7654_3abc);
    expect(t.walk(0x4000_1000)).toBe(-1);
    expect(t.unmap(0x4000_0000)).toBe(4096);
    expect(t.unmap(0x4000_0000)).toBe(0);
    expect(t.walk(0x4000_0000)).toBe(-1);
  });
});
