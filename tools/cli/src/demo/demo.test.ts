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
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.js";
import { renderTable } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));

const schemaFile = join(here, "../../../script/src/demo/demo-output.schema.json");
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
  JSON.parse(readFileSync(schemaFile, "utf8")) as object,
);
const bin = join(here, "../../bin/iommu.mjs");
const version = (JSON.parse(readFileSync(join(here, "../../package.json"), "utf8")) as { version: string })
  .version;

interface JsonDoc {
  schemaVersion: number;
  tool: { name: string; version: string };
  rows: Array<{ id: string; scenario: string; driver: string; caller: string; check: string }>;
}

describe("--json", () => {
  it("keeps stdout pure JSON when run as a command, valid against the published schema", () => {
    const r = spawnSync(
      process.execPath,
      [bin, "demo", "--json", "--granule", "4K", "--format", "s1", "--scenario", "block", "sparse-holes"],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDoc;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.tool).toEqual({ name: "iommu", version });
    expect(doc.rows.map((x) => x.scenario)).toEqual(["2M-on-2M", "sparse-holes"]);
    expect(doc.rows.map((x) => x.check)).toEqual(["pass", "pass"]);
  }, 60_000);

  it("the schema rejects what it must (a missing field, a wrong check value, an extra field)", () => {
    const good = JSON.parse(
      spawnSync(
        process.execPath,
        [bin, "demo", "--json", "--format", "s1", "--granule", "4K", "--scenario", "block"],
        {
          encoding: "utf8",
        },
      ).stdout,
    ) as JsonDoc;
    expect(validate(good)).toBe(true);
    const row = good.rows[0]! as unknown as Record<string, unknown>;
    const { id: _id, ...noId } = row;
    expect(validate({ ...good, rows: [noId] })).toBe(false);
    expect(validate({ ...good, rows: [{ ...row, check: "ok" }] })).toBe(false);
    expect(validate({ ...good, rows: [{ ...row, extra: 1 }] })).toBe(false);
    expect(validate({ ...good, schemaVersion: 1 })).toBe(false);
  }, 60_000);
});

describe("--all", () => {
  it("adds the drivers and scenarios the default run leaves out", () => {
    const run = (...extra: string[]) => {
      const r = spawnSync(
        process.execPath,
        [bin, "demo", "--json", "--repeat", "1", "--scenario", "256M-on-4K", ...extra],
        { encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as JsonDoc).rows.map((x) => x.driver);
    };
    // Default: the representative 4K-only driver (sprd) only; --all adds the others with a 256M-on-4K row.
    expect(run()).toEqual(["sprd-iommu"]);
    const all = run("--all");
    expect(all).toEqual(
      expect.arrayContaining(["rockchip-iommu", "sun50i-iommu", "sprd-iommu", "tegra-smmu", "s390-iommu"]),
    );
    expect(all.length).toBeGreaterThan(1);
  }, 120_000);
});

describe("--report", () => {
  it("writes a self-contained page whose chart has one legacy/length bar pair per scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "iommu-demo-"));
    const file = join(dir, "report.html");
    const rows = runDemo(
      {
        version,
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
    // Driver headings in chart and table; the axis is labelled at the top and the bottom.
    expect(svg.match(/class="heading"/g)).toHaveLength(2);
    expect(html.match(/<tr class="group">/g)).toHaveLength(2);
    expect(svg.match(/class="tick top"/g)?.length).toBe(svg.match(/class="tick bottom"/g)?.length);
    expect(svg).toContain('width="100%"');
    expect(html).toContain(`iommu ${version}`);
  }, 60_000);
});

describe("the table", () => {
  const rows = runDemoRows({
    granules: [0x1000, 0x10000],
    formats: ["s1", "s2"],
    scenarios: ["block", "1g-blocks", "replay"],
  });
  const width = (line: string) => [...line].length;

  it("groups rows under one heading per driver, format and granule, each row marked as matching the model", () => {
    const table = renderTable(rows);
    const headings = table
      .split("\n")
      .filter((l) => /arm-smmu-v3 · ARM_64_LPAE_S[12] · (4K|64K) granule/.test(l));
    expect(headings).toHaveLength(4);
    expect(table).not.toContain("✗");
    expect(table.match(/✓/g)).toHaveLength(rows.length);
  });

  it("fits 100 columns by default; --wide adds the counters", () => {
    const compact = renderTable(rows);
    for (const l of compact.split("\n")) expect(width(l), l).toBeLessThanOrEqual(100);
    expect(compact).not.toContain("PTE reads");
    const wide = renderTable(rows, { wide: true });
    expect(wide).toContain("PTE reads");
    expect(wide).toContain("IOTLB syncs");
    expect(Math.max(...wide.split("\n").map(width))).toBeGreaterThan(100);
  });
});
