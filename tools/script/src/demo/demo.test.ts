import { SZ_1G, SZ_1M } from "@iommu/core";
import { MtkIommuV1 } from "@iommu/drivers-mtk-iommu-v1";
import { UserMm, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VfioIommu } from "@iommu/vfio";
import { beforeAll, describe, expect, it } from "vitest";
import { demoTargetKinds } from "../registry.js";
import { demoJobs, runDemoRows } from "./demo.js";
import { renderReport } from "./report.js";
import { type DemoRow, rowId, toJson } from "./row.js";
import { measure, runScenario } from "./run.js";
import { driverScenarios, scenariosFor } from "./scenarios.js";
import { demoTableCells } from "./table-cells.js";
import { demoTargets } from "./targets.js";
import { walkModel } from "./walk-model.js";

describe("iommu demo: every default scenario against the kernel-callers.md §7 model", () => {
  // Every row of the default run, except that the 1 GiB 4K-scattered case (the slowest: a
  // quarter million separate pins and maps) does not run on bare riscv: the intel and amd
  // rows share its walker code (and run it under --all).
  const jobs = demoJobs().filter(
    (j) =>
      !(j.target.driver === "generic_pt" && j.target.format === "riscv" && j.scenario.kind === "scattered"),
  );
  let rows: DemoRow[] = [];
  beforeAll(() => {
    rows = jobs.map((j) => runScenario(j.target, j.scenario));
  }, 600_000); // ~40 s alone; the whole-repo run shares two cores with every package

  it("runs every granule × format × scenario", () => {
    expect(jobs.length).toBe(demoJobs().length - 1);
    expect(rows.length).toBe(jobs.length);
    expect(new Set(rows.map((r) => r.format))).toEqual(
      new Set([
        "ARM_64_LPAE_S1",
        "ARM_64_LPAE_S2",
        "amdv1",
        "vtdss 4-level",
        "riscv",
        "v5",
        "vau",
        "omap4",
        "APPLE_DART2",
        "ARM_32_LPAE_S1",
      ]),
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
      // The runs mode never walks more than the length-aware one (one range lookup per batch of
      // up to 512 runs where the driver has the one-descent op; the core's length steps otherwise).
      expect(r.runs!.walks, where).toBeLessThanOrEqual(r.walks.length);
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
    // The table's cells (the CLI draws them with cli-table3; see its table.test.ts).
    const table = rows.map(demoTableCells);
    // The driver column names the driver, then its format.
    table.forEach((cells, i) => {
      expect(cells[1]!.startsWith(`${rows[i]!.driver} `), cells[1]).toBe(true);
    });
    const text = table.map((cells) => cells.join(" | ")).join("\n");
    expect(text).not.toContain("✗");
    expect(text.match(/✓/g)).toHaveLength(rows.length);
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

describe("drivers with their own table format (--all): every row against §7", () => {
  const DIRECT = [
    "arm-smmu-v7s",
    "qcom-iommu",
    "apple-dart",
    "apple-dart-4k",
    "vtdss-no1g",
    "amdv1-32k",
    "exynos",
    "rockchip",
    "sun50i",
    "sprd",
    "tegra",
    "s390",
    "omap",
    "mtk-iommu",
    "msm",
  ];
  const jobs = demoJobs({ all: true }).filter((j) => j.target.layout);
  let rows: DemoRow[] = [];
  beforeAll(() => {
    rows = jobs.map((j) => runScenario(j.target, j.scenario));
  }, 600_000);

  it("has one row group per driver that can serve VFIO, with the scenarios its page sizes allow", () => {
    expect(
      demoTargetKinds()
        .filter((k) => k.layout)
        .map((k) => k.key),
    ).toEqual(DIRECT);
    expect(demoJobs({ formats: DIRECT }).length).toBe(jobs.length);
    const names = (key: string) =>
      jobs.filter((j) => j.target.driver.startsWith(key)).map((j) => j.scenario.name);
    expect(names("exynos")).toEqual([
      "1M-on-1M",
      "64K-on-64K",
      "256M-on-1M",
      "256M-on-64K",
      "256M-on-4K-scattered",
    ]);
    expect(names("omap")).toEqual([
      "16M-on-16M",
      "1M-on-1M",
      "64K-on-64K",
      "256M-on-16M",
      "256M-on-1M",
      "256M-on-64K",
      "256M-on-4K-scattered",
    ]);
    for (const d of ["rockchip", "sun50i", "sprd", "tegra", "s390", "qcom_iommu"])
      expect(names(d), d).toEqual(["256M-on-4K", "256M-on-4K-scattered"]);
    // The v7s drivers: 16M supersections, 1M sections, 64K large pages, 4K pages.
    const v7s = [
      "16M-on-16M",
      "1M-on-1M",
      "64K-on-64K",
      "256M-on-16M",
      "256M-on-1M",
      "256M-on-64K",
      "256M-on-4K-scattered",
    ];
    for (const d of ["mtk_iommu", "msm_iommu"]) expect(names(d), d).toEqual(v7s);
    expect(
      jobs
        .filter((j) => j.target.driver === "arm-smmu" && j.target.format === "ARM_V7S")
        .map((j) => j.scenario.name),
    ).toEqual(v7s);
    // One page size per DART: 16K (t6000, APPLE_DART2; scattered = 2 MiB runs) and 4K (t8103).
    expect(names("apple-dart")).toEqual([
      "16K-on-16K",
      "256M-on-16K",
      "256M-on-16K-scattered",
      "256M-on-4K",
      "256M-on-4K-scattered",
    ]);
    // VT-d without 1G super-pages: a 1 GiB region is 2M leaves at best.
    expect(names("intel")).toEqual(["2M-on-2M", "1G-on-2M", "1G-on-4K-scattered"]);
    // AMD v1's power-of-two sizes: 1 GiB as one 1G leaf, 2M leaves and 32K runs.
    expect(names("amd")).toEqual([
      "1G-on-1G",
      "2M-on-2M",
      "32K-on-32K",
      "1G-on-2M",
      "1G-on-32K",
      "1G-on-4K-scattered",
    ]);
    expect(jobs.some((j) => j.target.driver === "mtk_iommu_v1")).toBe(false);
  });

  it("walks, unmap calls and IOTLB syncs equal the formulas; leaves are the sizes iommu_map() picked", () => {
    jobs.forEach((job, i) => {
      const r = rows[i]!;
      const m = walkModel(job.scenario, job.target.gapSyncs);
      const where = `${r.scenario} ${r.driver}`;
      expect(r.walks, where).toEqual({ legacy: m.legacy, length: m.length });
      expect(r.unmapCalls, where).toEqual({ legacy: m.unmapCalls, length: m.unmapCalls });
      expect(r.iotlbSyncs, where).toEqual({ legacy: m.iotlbSyncs, length: m.iotlbSyncs });
      expect(r.pteReads.length, where).toBeLessThanOrEqual(r.pteReads.legacy);
      expect(demoTableCells(r)[7], where).toBe("✓");
    });
  });

  it("shows the leaf-size gain: 1M section 256 → 1, 16M supersection 4,096 → 1, 4K scattered 2 × N − 1 → N", () => {
    const walks = (driver: string, name: string) =>
      rows.find((r) => r.driver.startsWith(driver) && r.scenario === name)!.walks;
    expect(walks("exynos", "1M-on-1M")).toEqual({ legacy: 256, length: 1 });
    expect(walks("exynos", "64K-on-64K")).toEqual({ legacy: 16, length: 1 });
    expect(walks("omap", "16M-on-16M")).toEqual({ legacy: 4096, length: 1 });
    expect(walks("omap", "256M-on-16M")).toEqual({ legacy: 65_536, length: 16 });
    expect(walks("omap", "256M-on-1M")).toEqual({ legacy: 65_536, length: 256 });
    expect(walks("sprd", "256M-on-4K-scattered")).toEqual({ legacy: 131_071, length: 65_536 });
    // 4K leaves, one run: every leaf still needs its lookup (§7's derived case).
    expect(walks("rockchip", "256M-on-4K")).toEqual({ legacy: 65_536, length: 65_536 });
  });

  it("the default run keeps representative rows only; --all and --format add the rest", () => {
    const byDefault = demoJobs().filter((j) => j.target.layout);
    expect(new Set(byDefault.map((j) => j.target.driver))).toEqual(
      new Set(["exynos-iommu", "sprd-iommu", "omap-iommu", "apple-dart"]),
    );
    expect(byDefault.some((j) => j.target.driver !== "sprd-iommu" && j.scenario.kind === "scattered")).toBe(
      false,
    );
    expect(demoJobs({ formats: ["omap"] }).map((j) => j.scenario.kind)).toContain("scattered");
    expect(demoJobs({ all: true }).length).toBeGreaterThan(demoJobs().length);
  });

  it("mtk_iommu_v1 cannot serve VFIO: no geometry, so type1 refuses every map (-EINVAL)", () => {
    const m4u = new MtkIommuV1();
    const driver = {
      name: m4u.name,
      pgsizeBitmap: m4u.pgsizeBitmap,
      capable: () => false,
      domainAllocPagingFlags(flags: number) {
        const d = m4u.domainAllocPagingFlags(flags);
        if (typeof d !== "number") m4u.attach(d);
        return d;
      },
    };
    const mm = new UserMm({ phys: { base: SZ_1G, end: 4 * SZ_1G } });
    mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: SZ_1G, kind: "hugetlb1g", seed: 1 });
    const c = new VfioIommu({ mm });
    expect(c.attachGroup(1, { driver })).toBe(0);
    const flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    expect(c.mapDma({ flags, vaddr: 0x40_0000_0000, iova: SZ_1G, size: SZ_1M })).toBe(-22);
    expect(c.mapDma({ flags, vaddr: 0x40_0000_0000, iova: 0, size: SZ_1M })).toBe(-22);
  });

  it("driverScenarios: regions fit sprd's 256 MiB aperture; P is offset only below a larger leaf", () => {
    const s = driverScenarios({ leafSizes: [0x1000, 0x10000, SZ_1M, 16 * SZ_1M] });
    for (const x of s) expect(x.regionSize).toBeLessThanOrEqual(256 * SZ_1M);
    expect(s.find((x) => x.name === "256M-on-16M")!.iovaOffset).toBe(0);
    expect(s.find((x) => x.name === "256M-on-1M")!.iovaOffset).toBe(SZ_1M);
    expect(s.find((x) => x.name === "256M-on-64K")!.iovaOffset).toBe(0x10000);
  });
});

describe("--json", () => {
  it("prints a versioned document: tool, rows with id, caller, model check and ratio, sizes as numbers", () => {
    const out = toJson(
      runDemoRows({ granules: [0x1000], formats: ["s1"], scenarios: ["2M-on-2M", "1G-on-1G"] }),
      { version: "9.8.7" },
    );
    const doc = JSON.parse(out) as { schemaVersion: number; tool: unknown; rows: unknown[] };
    expect(doc.schemaVersion).toBe(2);
    expect(doc.tool).toEqual({ name: "iommu", version: "9.8.7" });
    expect(doc.rows).toHaveLength(2);
    const pair = { legacy: expect.any(Number), length: expect.any(Number) };
    for (const r of doc.rows) {
      expect(Object.keys(r as object)).toEqual([
        "id",
        "caller",
        "scenario",
        "driver",
        "format",
        "granule",
        "leafSize",
        "regionSize",
        "walks",
        "expected",
        "check",
        "ratio",
        "pteReads",
        "unmapCalls",
        "iotlbSyncs",
        "ns",
        "runs",
      ]);
      expect(r).toEqual({
        id: expect.stringMatching(/^vfio\/arm-smmu-v3\/ARM_64_LPAE_S1\/4K\//),
        caller: "vfio",
        scenario: expect.any(String),
        driver: "arm-smmu-v3",
        format: "ARM_64_LPAE_S1",
        granule: 4096,
        leafSize: expect.any(Number),
        regionSize: expect.any(Number),
        walks: pair,
        expected: pair,
        check: "pass",
        ratio: expect.any(Number),
        pteReads: pair,
        unmapCalls: pair,
        iotlbSyncs: pair,
        ns: pair,
        runs: { walks: expect.any(Number), pteReads: expect.any(Number) },
      });
    }
    expect(doc.rows[1]).toMatchObject({
      id: "vfio/arm-smmu-v3/ARM_64_LPAE_S1/4K/1G-on-1G",
      scenario: "1G-on-1G",
      leafSize: 2 ** 30,
      regionSize: 2 ** 30,
      walks: { legacy: 262_144, length: 1 },
      expected: { legacy: 262_144, length: 1 },
      ratio: 262_144,
      // One range lookup finds the whole 1 GiB run (SMMUv3 on io-pgtable has the one-descent op).
      runs: { walks: 1, pteReads: expect.any(Number) },
    });
  });

  it("row ids are unique across the whole --all run's targets", () => {
    const ids = demoJobs({ all: true }).map(({ target, scenario }) =>
      rowId({
        scenario: scenario.name,
        driver: target.driver,
        format: target.format,
        granule: scenario.granule,
      } as DemoRow),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("--report", () => {
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
