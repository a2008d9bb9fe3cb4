/**
 * `fmt arm-smmu` / `fmt qcom_iommu`: the io-pgtable vectors whose cfg the SMMUv1/v2 driver
 * can produce replay byte for byte with their `fmt` line replaced by the driver's (the
 * table's cfg then comes from the ID registers through arm_smmu_device_cfg_probe and
 * arm_smmu_init_domain_context), plus the family's own parse and refusal lines.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { iommuPagingDomainAllocFlags, SZ_1G, SZ_2M } from "@iommu/core";
import { ArmSmmu, ArmSmmuMaster } from "@iommu/drivers-arm-smmu";
import { UserMm, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VfioIommu } from "@iommu/vfio";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../../demo/run.js";
import { driverScenarios, scenariosFor } from "../../../demo/scenarios.js";
import { demoTargets } from "../../../demo/targets.js";
import { walkModel } from "../../../demo/walk-model.js";
import { createFamilies, demoTargetKinds, fmtNames } from "../../../registry.js";
import { runScript } from "../../engine.js";
import { parseArmSmmuFmt } from "./arm-smmu.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, "../../../fixtures/vectors/io-pgtable");

/**
 * Each replayable vector, the `fmt` line it has, and the driver configuration producing the
 * same cfg (the kernel rule in the comment).
 */
const REPLAYS: Array<[string, string, string]> = [
  // v2 AArch64 4K, 64-bit kernel: ias = UBS, oas = IAS
  [
    "lpae-a64s1-4k-i48o48-random",
    "fmt arm64-s1 granule 4k ias 48 oas 48",
    "fmt arm-smmu granule 4k ubs 48 ias 48",
  ],
  [
    "lpae-a64s1-4k-edges",
    "fmt arm64-s1 granule 4k ias 48 oas 48",
    "fmt driver=arm-smmu idr0=0x6b005e10 idr1=0x8 idr2=0x1555",
  ],
  // v2 AArch64 16K only
  [
    "lpae-a64s1-16k-i48o48-random",
    "fmt arm64-s1 granule 16k ias 48 oas 48",
    "fmt arm-smmu granule 16k ubs 48 ias 48",
  ],
  // SMMUv1 (AArch32-L only): ias = min(ipa, 32), oas = min(ipa, 40)
  ["lpae-a32s1-4k-i32o40-random", "fmt arm32-s1 granule 4k ias 32 oas 40", "fmt arm-smmu version v1 ias 40"],
  // stage 2 (force_stage=2): ias = IAS, oas = OAS
  [
    "lpae-a64s2-4k-i40o40-concat-random",
    "fmt arm64-s2 granule 4k ias 40 oas 40",
    "fmt arm-smmu stage=2 ias=40 oas=40",
  ],
  // 32-bit non-LPAE kernel with AArch32-S: ARM_V7S, ias/oas ≤ 32, pgsize ∩ 4K|64K|1M|16M
  ["v7s-default-random", "fmt v7s", "fmt arm-smmu kernel arm32 aarch32 s ubs 32 ias 32"],
];

describe("io-pgtable vectors replayed through the arm-smmu cfg path", () => {
  it.each(REPLAYS)("%s", (name, original, driver) => {
    const script = readFileSync(join(vectors, `${name}.txt`), "utf8");
    const expected = readFileSync(join(vectors, `${name}.out`), "utf8");
    expect(script.split("\n").filter((l) => l.startsWith("fmt "))).toEqual([original]);
    const replay = script.replace(`${original}\n`, `${driver}\n`);
    expect(replay).not.toBe(script);
    expect(runScript(replay, { families: createFamilies() })).toBe(expected);
  });

  it("raw ID registers parse as given (the edges row's: the default MMU-500-like description)", () => {
    // ID0: S1TS|S2TS|SMS|PTFS_NO_AARCH32|PTFS_NO_AARCH32S|CTTW|NUMSIDB=15|NUMSMRG=16
    // ID1: NUMCB=8; ID2: PTFS_4K, UBS=48, OAS=48, IAS=48
    expect(parseArmSmmuFmt(["idr0=0x6b005e10", "idr1", "8", "idr2=0x1555"])?.hw.regs).toEqual({
      id0: 0x6b005e10,
      id1: 8,
      id2: 0x1555,
    });
  });
});

describe("fmt arm-smmu / qcom_iommu lines", () => {
  const run = (s: string) => runScript(s, { families: createFamilies() });

  it("a v1-64k SMMU gets ARM_64_LPAE_S1 with the 4K granule from the AArch32-L sizes", () => {
    expect(run("fmt arm-smmu version v1-64k ias 40\n")).toBe(
      "ok fmt=arm64-s1 pgsize_bitmap=0x40201000 ias=40 oas=40 start_level=0 levels=4 bits_per_level=9 pgd_bits=1 pgd_entries=2 granule=0x1000 ttbr=0x80000000\n",
    );
  });

  it("qcom_iommu: arm32-s1, 4K only, 32/40", () => {
    expect(run("fmt qcom_iommu\n")).toMatch(
      /^ok fmt=arm32-s1 pgsize_bitmap=0x1000 ias=32 oas=40 start_level=1 /,
    );
  });

  it("refusals and parse errors", () => {
    expect(run("fmt arm-smmu s1 off s2 off\n")).toBe("err probe\n");
    expect(run("fmt arm-smmu aarch32 none granule 4k idr2 0x555\n")).toBe("err context\n");
    expect(run("fmt arm-smmu ias 39\n")).toBe("err bad-args\n\n");
    expect(run("fmt arm-smmu bogus 1\n")).toBe("err bad-args\n\n");
    expect(run("fmt qcom_iommu ptbase 1000\n")).toBe("err bad-args\n\n");
  });
});

describe("VFIO type1 on arm-smmu (attachGroup(group, { driver }))", () => {
  const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

  it("a master's domain comes back attached: the 48-bit aperture, 2M leaves, one walk per leaf", () => {
    const mm = new UserMm();
    mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: SZ_1G, kind: "hugetlb1g", seed: 1 });
    const c = new VfioIommu({ mm, unmapMode: "length" });
    expect(c.attachGroup(1, { driver: new ArmSmmuMaster(new ArmSmmu()) })).toBe(0);
    expect(c.mapDma({ flags: RW, vaddr: 0x40_0000_0000, iova: 0x80_0020_0000, size: 64 * SZ_2M })).toBe(0);
    const req = { flags: 0, iova: 0x80_0020_0000, size: 64 * SZ_2M };
    expect(c.unmapDma(req)).toBe(0);
    expect(req.size).toBe(64 * SZ_2M);
  });

  it("a bare SMMU's domain has no geometry before its first attach: type1 then has no IOVA window (-EINVAL)", () => {
    const mm = new UserMm();
    mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: SZ_1G, kind: "hugetlb1g", seed: 1 });
    const c = new VfioIommu({ mm });
    expect(c.attachGroup(1, { driver: new ArmSmmu() })).toBe(0);
    expect(c.mapDma({ flags: RW, vaddr: 0x40_0000_0000, iova: 0x80_0000_0000, size: SZ_2M })).toBe(-22);
  });
});

describe("demo rows of arm-smmu and qcom_iommu equal the §7 model", () => {
  const cheap = (name: string) => !name.includes("scattered") && name !== "1G-on-1G" && name !== "replay";
  const jobs = [
    ...demoTargets([0x1000], ["arm-smmu"]).flatMap((t) =>
      scenariosFor(t.granule)
        .filter((s) => s.name === "2M-on-2M" || s.name === "2M-on-4K")
        .map((s) => ({ t, s })),
    ),
    ...demoTargets([0x1000], ["arm-smmu-v7s", "qcom-iommu"]).flatMap((t) =>
      driverScenarios(t.layout!)
        .filter((s) => cheap(s.name))
        .map((s) => ({ t, s })),
    ),
  ];

  it("runs the 4K LPAE, v7s and qcom_iommu rows (scattered, 1G-on-1G and replay: --all)", () => {
    expect(jobs.map((j) => `${j.t.format} ${j.s.name}`)).toEqual([
      "ARM_64_LPAE_S1 2M-on-2M",
      "ARM_64_LPAE_S1 2M-on-4K",
      "ARM_V7S 16M-on-16M",
      "ARM_V7S 1M-on-1M",
      "ARM_V7S 64K-on-64K",
      "ARM_V7S 256M-on-16M",
      "ARM_V7S 256M-on-1M",
      "ARM_V7S 256M-on-64K",
      "ARM_32_LPAE_S1 4K 256M-on-4K",
    ]);
  });

  it.each(jobs.map((j) => [`${j.t.format} ${j.s.name}`, j] as const))("%s", (_n, { t, s }) => {
    const row = runScenario(t, s);
    const m = walkModel(s, t.gapSyncs);
    expect(row.walks).toEqual({ legacy: m.legacy, length: m.length });
    expect(row.unmapCalls).toEqual({ legacy: m.unmapCalls, length: m.unmapCalls });
    expect(row.iotlbSyncs).toEqual({ legacy: m.iotlbSyncs, length: m.iotlbSyncs });
  });
});

describe("registry entries", () => {
  it("fmt names and demo targets, each driver instance with its own ops table, granule = smallest page", () => {
    expect(fmtNames().filter((n) => /arm-smmu$|qcom_iommu/.test(n))).toEqual([
      "arm-smmu",
      "driver=arm-smmu",
      "qcom_iommu",
      "driver=qcom_iommu",
    ]);
    const kinds = demoTargetKinds().filter((k) => k.driver === "arm-smmu" || k.driver === "qcom_iommu");
    expect(kinds.map((k) => `${k.driver}/${k.key}/${k.format}`)).toEqual([
      "arm-smmu/arm-smmu/ARM_64_LPAE_S1",
      "arm-smmu/arm-smmu-16k-64k/ARM_64_LPAE_S1",
      "arm-smmu/arm-smmu-v7s/ARM_V7S",
      "qcom_iommu/qcom-iommu/ARM_32_LPAE_S1 4K",
    ]);
    for (const k of kinds)
      for (const g of k.granules) {
        const [a, b] = [k.createDriver(g), k.createDriver(g)];
        const d1 = iommuPagingDomainAllocFlags(a, 0);
        const d2 = iommuPagingDomainAllocFlags(a, 0);
        const d3 = iommuPagingDomainAllocFlags(b, 0);
        expect(d1.ops).toBe(d2.ops);
        expect(d1.ops).not.toBe(d3.ops);
        expect(d1.pgsizeBitmap % (2 * g)).toBe(g);
        for (const d of [d1, d2, d3]) d.ops?.free?.(d);
      }
  });
});
