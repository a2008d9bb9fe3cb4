import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { demoJobs, runDemo } from "./demo.js";
import { renderReport } from "./report.js";
import type { DemoRow } from "./row.js";
import { measure, runScenario } from "./run.js";
import { scenariosFor } from "./scenarios.js";
import { renderTable } from "./table.js";
import { demoTargets } from "./targets.js";
import { walkModel } from "./walk-model.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("iommu demo: every default scenario against the kernel-callers.md §7 model", () => {
  // Every row of the default run, except that the 1 GiB 4K-scattered case (the slowest: a
  // quarter million separate pins and maps) runs on one generic_pt format only; the other
  // three share its walker code.
  const jobs = demoJobs().filter(
    (j) =>
      !(j.target.driver === "generic_pt" && j.target.format !== "amdv1" && j.scenario.kind === "scattered"),
  );
  let rows: DemoRow[] = [];
  beforeAll(() => {
    rows = jobs.map((j) => runScenario(j.target, j.scenario));
  }, 120_000);

  it("runs every granule × format × scenario", () => {
    expect(jobs.length).toBe(demoJobs().length - 3);
    expect(rows.length).toBe(jobs.length);
    expect(new Set(rows.map((r) => r.format))).toEqual(
      new Set(["ARM_64_LPAE_S1", "ARM_64_LPAE_S2", "amdv1", "x86_64", "vtdss", "riscv"]),
    );
    expect(new Set(rows.map((r) => r.granule))).toEqual(new Set([0x1000, 0x4000, 0x10000]));
  });

  it("walks, unmap calls and IOTLB syncs equal the formulas, per scenario and mode", () => {
    jobs.forEach((job, i) => {
      const r = rows[i]!;
      const m = walkModel(job.scenario, job.target.gapSyncs);
      const where = `${r.scenario} ${r.format} ${r.granule}`;
      expect(r.scenario, where).toBe(job.scenario.name);
      expect(r.walks, where).toEqual({ legacy: m.legacy, length: m.length });
      expect(r.unmapCalls, where).toEqual({ legacy: m.unmapCalls, length: m.unmapCalls });
      expect(r.iotlbSyncs, where).toEqual({ legacy: m.iotlbSyncs, length: m.iotlbSyncs });
      // A lookup reads at least one entry; the length-aware run never reads more.
      expect(r.pteReads.legacy, where).toBeGreaterThanOrEqual(r.walks.legacy);
      expect(r.pteReads.length, where).toBeLessThanOrEqual(r.pteReads.legacy);
    });
  });

  it("each extra legacy lookup costs levels − leaf level PTE reads (§7), on SMMUv3 stage 1", () => {
    // ARM_64_LPAE_S1 with ias 48: 4 levels for 4K and 16K granules, 3 for 64K; a lookup
    // reads one entry per level down to the leaf. Unmap calls are the same in both modes, so
    // the difference in PTE reads is the difference in lookups times the leaf's depth.
    const levels: Record<number, number> = { 4096: 4, 16384: 4, 65536: 3 };
    const bits: Record<number, number> = { 4096: 9, 16384: 11, 65536: 13 };
    let checked = 0;
    jobs.forEach((job, i) => {
      const s = job.scenario;
      if (job.target.format !== "ARM_64_LPAE_S1" || s.holeSpans) return;
      const g = job.target.granule;
      const leafLevel = Math.log2(s.leafSize / g) / bits[g]!; // 0 = last level
      const depth = levels[g]! - leafLevel;
      const r = rows[i]!;
      expect(r.pteReads.legacy - r.pteReads.length, r.scenario).toBe(
        (r.walks.legacy - r.walks.length) * depth,
      );
      checked++;
    });
    expect(checked).toBeGreaterThan(15);
  });

  it("marks every row of the table as matching the model", () => {
    const table = renderTable(rows);
    expect(table.split("\n").filter((l) => /arm-smmu-v3|generic_pt/.test(l))).toHaveLength(rows.length);
    expect(table).not.toContain("✗");
    expect(table.match(/✓/g)).toHaveLength(rows.length);
  });

  it("shows the series' headline on 4K: 512→1, 262,144→1, 262,144→512", () => {
    const s1 = (name: string) =>
      rows.find((r) => r.scenario === name && r.format === "ARM_64_LPAE_S1")!.walks;
    expect(s1("2M-on-2M")).toEqual({ legacy: 512, length: 1 });
    expect(s1("1G-on-1G")).toEqual({ legacy: 262_144, length: 1 });
    expect(s1("1G-on-2M")).toEqual({ legacy: 262_144, length: 512 });
    // THP: 512 separate runs add the discarded run-ending lookups.
    expect(s1("1G-on-2M-thp")).toEqual({ legacy: 262_144 + 511, length: 512 });
    // 4K leaves, no contiguity: no leaf-size gain, only the reused run-ending lookup.
    expect(s1("1G-on-4K-scattered")).toEqual({ legacy: 2 * 262_144 - 1, length: 262_144 });
  });

  it("the naive length-aware loop matches N + (R − 1) + H", () => {
    for (const target of demoTargets([0x1000], ["s1", "amdv1"]))
      for (const s of scenariosFor(0x1000).filter(
        (s) => s.kind === "1g-thp" || s.kind === "sparse-holes" || s.kind === "block",
      ))
        expect(measure(target, s, "length-naive").walks, `${s.name} ${target.format}`).toBe(
          walkModel(s).lengthNaive,
        );
  });
});

describe("--json", () => {
  it("prints an array of rows with the documented shape, sizes as numbers", () => {
    let out = "";
    runDemo(
      { json: true, granules: [0x1000], formats: ["s1"], scenarios: ["2M-on-2M", "1G-on-1G"] },
      { stdout: (t) => (out += t) },
    );
    const rows = JSON.parse(out) as unknown[];
    expect(rows).toHaveLength(2);
    const pair = { legacy: expect.any(Number), length: expect.any(Number) };
    for (const r of rows) {
      expect(Object.keys(r as object)).toEqual([
        "scenario",
        "driver",
        "format",
        "granule",
        "leafSize",
        "regionSize",
        "walks",
        "pteReads",
        "unmapCalls",
        "iotlbSyncs",
        "ns",
      ]);
      expect(r).toEqual({
        scenario: expect.any(String),
        driver: "arm-smmu-v3",
        format: "ARM_64_LPAE_S1",
        granule: 4096,
        leafSize: expect.any(Number),
        regionSize: expect.any(Number),
        walks: pair,
        pteReads: pair,
        unmapCalls: pair,
        iotlbSyncs: pair,
        ns: pair,
      });
    }
    expect(rows[1]).toMatchObject({
      scenario: "1G-on-1G",
      leafSize: 2 ** 30,
      regionSize: 2 ** 30,
      walks: { legacy: 262_144, length: 1 },
    });
  });

  it("keeps stdout pure JSON when run as a command (progress only ever on stderr)", () => {
    const bin = join(here, "../../bin/iommu.mjs");
    const r = spawnSync(
      process.execPath,
      [bin, "demo", "--json", "--granule", "4K", "--format", "s1", "--scenario", "block"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ scenario: string }>;
    expect(rows.map((x) => x.scenario)).toEqual(["2M-on-2M"]);
  }, 60_000);
});

describe("--report", () => {
  it("writes a self-contained page whose chart has one legacy/length bar pair per scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "iommu-demo-"));
    const file = join(dir, "report.html");
    const rows = runDemo(
      {
        report: file,
        granules: [0x1000, 0x10000],
        formats: ["s1"],
        scenarios: ["block", "1g-blocks", "replay"],
      },
      { stdout: () => {} },
    );
    const html = readFileSync(file, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script[^>]*src/i);
    expect(html).not.toMatch(/<link/i);
    const svg = html.slice(html.indexOf("<svg"), html.indexOf("</svg>"));
    const pairs = svg.split('<g class="pair"').slice(1);
    expect(pairs).toHaveLength(rows.length);
    pairs.forEach((p, i) => {
      expect(p).toContain(`data-scenario="${rows[i]!.scenario}"`);
      expect(p.match(/class="bar legacy"/g)).toHaveLength(1);
      expect(p.match(/class="bar length"/g)).toHaveLength(1);
    });
    expect(renderReport(rows)).toContain("<table>");
  }, 60_000);

  it("draws bars on a log scale: a 262,144× gap is wider than a 512× one, 1 is still visible", () => {
    const row = (legacy: number, length: number): DemoRow => ({
      scenario: `s${legacy}`,
      driver: "d",
      format: "f",
      granule: 4096,
      leafSize: 4096,
      regionSize: 4096,
      walks: { legacy, length },
      pteReads: { legacy: 0, length: 0 },
      unmapCalls: { legacy: 0, length: 0 },
      iotlbSyncs: { legacy: 0, length: 0 },
      ns: { legacy: 0, length: 0 },
    });
    const svg = renderReport([row(512, 1), row(262_144, 1)]);
    const widths = [...svg.matchAll(/class="bar (legacy|length)"/g)].map((m) => {
      const tag = svg.lastIndexOf("<rect", m.index);
      return Number(/width="([\d.]+)"/.exec(svg.slice(tag, m.index))![1]);
    });
    const [l512, one, l262k] = [widths[0]!, widths[1]!, widths[2]!];
    expect(one).toBeGreaterThan(1);
    expect(l262k).toBeGreaterThan(l512);
    // log scale: 262,144 is twice as far as 512 (2^18 vs 2^9) from the axis, give or take the +1.
    expect(l262k / l512).toBeCloseTo(2, 1);
  });
});
