/**
 * The demo's terminal and file glue: JSON on stdout from the binary, the report file, the
 * cli-table3 table. The rows themselves are @iommu/script's (tested there against the §7 model).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderReport, runDemoRows } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.js";
import { renderTable } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("--json", () => {
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

describe("--all", () => {
  it("adds the drivers and scenarios the default run leaves out", () => {
    const bin = join(here, "../../bin/iommu.mjs");
    const run = (...extra: string[]) => {
      const r = spawnSync(
        process.execPath,
        [bin, "demo", "--json", "--repeat", "1", "--scenario", "256M-on-4K", ...extra],
        { encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as Array<{ driver: string }>).map((x) => x.driver);
    };
    // Default: the representative 4K-only driver (sprd) only.
    expect(run()).toEqual(["sprd-iommu"]);
    expect(run("--all")).toEqual([
      "rockchip-iommu",
      "sun50i-iommu",
      "sprd-iommu",
      "tegra-smmu",
      "s390-iommu",
    ]);
  }, 120_000);
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
});

describe("the table", () => {
  it("draws one line per row under the header, each marked as matching the model", () => {
    const rows = runDemoRows({
      granules: [0x1000],
      formats: ["s1", "amdv1"],
      scenarios: ["block", "replay"],
    });
    const table = renderTable(rows);
    expect(table.split("\n").filter((l) => /arm-smmu-v3|generic_pt/.test(l))).toHaveLength(rows.length);
    expect(table).toContain("walks (legacy → length)");
    expect(table).not.toContain("✗");
    expect(table.match(/✓/g)).toHaveLength(rows.length);
  });
});
