/**
 * The one list of drivers and page-table formats the tools know: `iommu script` takes its
 * format families from it, `iommu demo` its targets, `iommu vfio-script` its domains, the
 * benches their format lists (and the explorer, later, all of these). Like the kernel's
 * `io_pgtable_init_table[]`: adding a driver or format is one import and one entry below.
 *
 * An entry names what the script `fmt` line accepts for it and the family that implements
 * those names; for the demo and VFIO it says how to get domains — always through an
 * {@link IommuDriver} instance (`@iommu/core`), built from a hardware description, exactly
 * as a caller of the kernel gets them from the driver behind a device.
 */
import {
  type IommuDomain,
  type IommuDriver,
  SZ_1G,
  SZ_1M,
  SZ_4K,
  SZ_16K,
  SZ_16M,
  SZ_64K,
  SZ_256M,
} from "@iommu/core";
import { AppleDart } from "@iommu/drivers-apple-dart";
import { ArmSmmuV3 } from "@iommu/drivers-arm-smmu-v3";
import { ExynosSysmmu } from "@iommu/drivers-exynos";
import { IpmmuVmsa } from "@iommu/drivers-ipmmu-vmsa";
import { MsmIommu } from "@iommu/drivers-msm";
import { MtkIommu } from "@iommu/drivers-mtk-iommu";
import { MtkIommuV1 } from "@iommu/drivers-mtk-iommu-v1";
import { OmapIommu } from "@iommu/drivers-omap";
import { RockchipIommu } from "@iommu/drivers-rockchip";
import { S390Iommu } from "@iommu/drivers-s390";
import { SprdIommu } from "@iommu/drivers-sprd";
import { Sun50iIommu } from "@iommu/drivers-sun50i";
import { TegraSmmu } from "@iommu/drivers-tegra-smmu";
import type { PtFormatName } from "@iommu/generic-pt";
import type { DriverLayout, Granule, ScenarioKind } from "./demo/scenarios.js";
import { PtDriver } from "./drivers/generic-pt.js";
import { createDartFamily, DART_FMT_NAMES } from "./script/families/dart.js";
import { AMD_FMT_NAMES, amdDemoTargets, createAmdFamily } from "./script/families/drivers/amd.js";
import { APPLE_DART_FMT_NAMES, createAppleDartFamily } from "./script/families/drivers/apple-dart.js";
import {
  ARM_SMMU_FMT_NAMES,
  armSmmuDemoTargets,
  createArmSmmuFamily,
  createQcomIommuFamily,
  QCOM_IOMMU_FMT_NAMES,
  qcomIommuDemoTargets,
} from "./script/families/drivers/arm-smmu.js";
import { createExynosFamily, EXYNOS_FMT_NAMES } from "./script/families/drivers/exynos.js";
import { createFslPamuFamily, FSL_PAMU_FMT_NAMES } from "./script/families/drivers/fsl-pamu.js";
import { createIntelFamily, INTEL_FMT_NAMES, intelDemoTargets } from "./script/families/drivers/intel.js";
import { createIpmmuFamily, IPMMU_FMT_NAMES } from "./script/families/drivers/ipmmu.js";
import { createMsmFamily, MSM_FMT_NAMES } from "./script/families/drivers/msm.js";
import { createMtkV1Family, MTK_V1_FMT_NAMES } from "./script/families/drivers/mtk.js";
import { createMtkIommuFamily, MTK_IOMMU_FMT_NAMES } from "./script/families/drivers/mtk-iommu.js";
import { createOmapFamily, OMAP_FMT_NAMES } from "./script/families/drivers/omap.js";
import { createRockchipFamily, ROCKCHIP_FMT_NAMES } from "./script/families/drivers/rockchip.js";
import { createS390Family, S390_FMT_NAMES } from "./script/families/drivers/s390.js";
import { createSprdFamily, SPRD_FMT_NAMES } from "./script/families/drivers/sprd.js";
import { createSun50iFamily, SUN50I_FMT_NAMES } from "./script/families/drivers/sun50i.js";
import { createTegraFamily, TEGRA_FMT_NAMES } from "./script/families/drivers/tegra.js";
import { createVirtioFamily, VIRTIO_FMT_NAMES } from "./script/families/drivers/virtio.js";
import { createGenericPtFamily } from "./script/families/generic-pt.js";
import { createLpaeFamily, LPAE_FMT_NAMES } from "./script/families/lpae.js";
import { createV7sFamily, V7S_FMT_NAMES } from "./script/families/v7s.js";
import type { ScriptFamily } from "./script/target.js";
import { createLpaeVfioDrivers, createSmmuVfioDrivers } from "./vfio-script/drivers.js";
import type { VfioScriptDrivers } from "./vfio-script/interpreter.js";

/** One `iommu demo` target kind: a driver on one format, at the granules it supports. */
export interface DemoTargetEntry {
  /** The `iommu demo --format` value (`s1`, `amdv1`, ...). */
  readonly key: string;
  /** The format column: io-pgtable fmt (`ARM_64_LPAE_S1`) or generic_pt format (`amdv1`). */
  readonly format: string;
  /** The IOMMU granules the driver can build, in table order. */
  readonly granules: readonly Granule[];
  /**
   * The driver's gather syncs before a run that is not adjacent to the gathered range
   * (iommu_iotlb_gather_add_page); false when it widens the gather over the gap (see walkModel).
   */
  readonly gapSyncs: boolean;
  /** A new driver instance (one IOMMU unit, its own ops table) whose domains use `granule`. */
  createDriver(granule: Granule): IommuDriver;
  /**
   * The scenarios of a driver that owns its table format (`driverScenarios(layout)`); default:
   * the per-granule series scenarios (`scenariosFor`).
   */
  readonly layout?: DriverLayout;
  /** IOVA of the mapping (1 GiB aligned unless 0); default 512 GiB. 32-bit apertures need less. */
  readonly iova?: number;
  /** RAM the user pages come from (default [4 GiB, 64 GiB)): below 4 GiB for 32-bit PAs. */
  readonly userPhys?: { readonly base: number; readonly end: number };
  /**
   * In the default `iommu demo` run (without `--all`): every scenario (true, the default),
   * none (false), or only the scenarios of these kinds.
   */
  readonly byDefault?: boolean | readonly (ScenarioKind | string)[];
}

/**
 * A driver that owns its page-table format (exynos, omap, sprd, ...), for the benches' driver
 * rows: how to get attached domains and where in its aperture to map.
 */
export interface DirectDriverEntry {
  /** Short name (`exynos`, `sprd`, ...): the demo `--format` value when it has a demo target. */
  readonly key: string;
  /** The variant modelled (`v5`, `omap4`, ...). */
  readonly format: string;
  /** A new driver instance whose paging domains come back attached. */
  createDriver(): IommuDriver;
  /** First IOVA of the window used. */
  readonly iova: number;
  /** Bytes of IOVA from {@link iova} inside the aperture (sprd: 256 MiB). */
  readonly window: number;
  /** A physical address the entries can hold from (below 4 GiB for 32-bit PAs). */
  readonly pa: number;
  /** Leaf sizes of the table (`DriverLayout.leafSizes`). */
  readonly leafSizes: readonly number[];
}

/** One `iommu vfio-script --domains` kind. */
export interface VfioDomainsEntry {
  /** The `--domains` value. */
  readonly name: string;
  /** For `--help`. */
  readonly description: string;
  /** The driver instances of one script run. */
  createDrivers(): VfioScriptDrivers;
}

export interface RegistryEntry {
  /** The driver, or the page-table code for a bare format, as tables name it. */
  readonly driver: string;
  /** What the script `fmt` line accepts for it (none for a driver on another entry's tables). */
  readonly fmtNames: readonly string[];
  /** The `iommu script` family for {@link fmtNames}: a fresh one per run (one harness process). */
  readonly family?: () => ScriptFamily;
  /** `iommu demo` targets, in table order. */
  readonly demo?: readonly DemoTargetEntry[];
  /** `iommu vfio-script --domains`. */
  readonly vfio?: VfioDomainsEntry;
  /** A driver that owns its page-table format: the benches' driver rows. */
  readonly direct?: DirectDriverEntry;
}

/** arm-smmu-v3: its paging domains at a stage and granule (a stage-2-only SMMU for stage 2). */
function smmuTarget(key: "s1" | "s2"): DemoTargetEntry {
  return {
    key,
    format: key === "s1" ? "ARM_64_LPAE_S1" : "ARM_64_LPAE_S2",
    granules: [0x1000, 0x4000, 0x10000],
    // arm_smmu_tlb_inv_page_nosync → iommu_iotlb_gather_add_page
    gapSyncs: true,
    createDriver: (granule) => new ArmSmmuV3({ granules: [granule], stage1: key === "s1", oas: 48 }),
  };
}

/** A bare generic_pt format (its drivers have no package yet): `fmt <name>` and a demo target. */
function genericPt(format: PtFormatName): RegistryEntry {
  return {
    driver: "generic_pt",
    fmtNames: [format],
    family: () => createGenericPtFamily([format]),
    demo: [
      {
        key: format,
        format,
        granules: [0x1000],
        // The default features use PT_FEAT_FLUSH_RANGE (not _NO_GAPS): gaps are absorbed.
        gapSyncs: false,
        createDriver: () => new PtDriver(format),
      },
    ],
  };
}

/**
 * `driver` whose paging domains come back attached (`iommu_attach_group` → `attach_dev`): for
 * the drivers whose tables only exist, or only reach the hardware, once a device is attached
 * (omap's L1, tegra's ASID, mtk_iommu_v1's table, s390's IOTA). VFIO's type1 model allocates
 * and attaches in one step, as the kernel does.
 */
function attaching<D extends IommuDomain>(
  driver: IommuDriver<D> & { attach(d: D): number; detach?(d: D): void },
): IommuDriver<D> {
  // The device moves to the newest domain, as iommu_attach_group() moves a group: the one it
  // was attached to is detached first (its tables stay until it is freed).
  let current: D | undefined;
  return {
    name: driver.name,
    get pgsizeBitmap() {
      return driver.pgsizeBitmap;
    },
    capable: (cap) => driver.capable(cap),
    domainAllocPagingFlags(flags, options) {
      const d = driver.domainAllocPagingFlags(flags, options);
      if (typeof d === "number") return d;
      if (current && driver.detach) driver.detach(current);
      const ret = driver.attach(d);
      if (ret < 0) {
        d.ops?.free?.(d);
        return ret;
      }
      current = d;
      return d;
    },
  };
}

/** A 32-bit SoC's RAM for the user pages: [1 GiB, 4 GiB) (its IOMMU keeps 32 PA bits). */
const LOW_RAM = { base: SZ_1G, end: 4 * SZ_1G } as const;

/**
 * A driver that owns its page-table format: its `direct` description (the benches' driver
 * rows) and, when VFIO can use it (`vfio` not false), its demo target — 4 KiB granule, its own
 * scenarios (`driverScenarios`), the mapping at `iova` inside its aperture. Their scenarios
 * have no holes, so `gapSyncs` is moot.
 */
function direct(
  key: string,
  format: string,
  p: Pick<DemoTargetEntry, "iova" | "userPhys" | "byDefault"> & {
    create(): IommuDriver;
    layout: DriverLayout;
    iova: number;
    /** Bytes of IOVA from `iova` inside the aperture. */
    window: number;
    vfio?: false;
  },
): Pick<RegistryEntry, "demo" | "direct"> {
  const demo: DemoTargetEntry = {
    key,
    format,
    granules: [0x1000],
    gapSyncs: true,
    createDriver: () => p.create(),
    layout: p.layout,
    iova: p.iova,
    ...(p.userPhys ? { userPhys: p.userPhys } : {}),
    ...(p.byDefault === undefined ? {} : { byDefault: p.byDefault }),
  };
  return {
    ...(p.vfio === false ? {} : { demo: [demo] }),
    direct: {
      key,
      format,
      createDriver: p.create,
      iova: p.iova,
      window: p.window,
      pa: p.userPhys ? p.userPhys.base : 4 * SZ_1G,
      leafSizes: p.layout.leafSizes,
    },
  };
}

/** Every driver and format, in the order the tools list them. */
export const REGISTRY: readonly RegistryEntry[] = [
  {
    driver: "io-pgtable-arm",
    fmtNames: LPAE_FMT_NAMES,
    family: createLpaeFamily,
    vfio: {
      name: "lpae",
      description: "io-pgtable ARM_64_LPAE_S1 tables as the reference harness builds them",
      createDrivers: createLpaeVfioDrivers,
    },
  },
  { driver: "io-pgtable-arm-v7s", fmtNames: V7S_FMT_NAMES, family: createV7sFamily },
  { driver: "io-pgtable-dart", fmtNames: DART_FMT_NAMES, family: createDartFamily },
  {
    driver: "arm-smmu-v3",
    fmtNames: [],
    demo: [smmuTarget("s1"), smmuTarget("s2")],
    vfio: { name: "smmu", description: "arm-smmu-v3 driver domains", createDrivers: createSmmuVfioDrivers },
  },
  // SMMUv1/v2 on io-pgtable (LPAE or v7s by context format): `fmt arm-smmu ...` opens a table
  // through the driver's cfg path; demo masters get attached domains. qcom_iommu shares the package.
  {
    driver: "arm-smmu",
    fmtNames: ARM_SMMU_FMT_NAMES,
    family: createArmSmmuFamily,
    demo: armSmmuDemoTargets(),
  },
  {
    driver: "qcom_iommu",
    fmtNames: QCOM_IOMMU_FMT_NAMES,
    family: createQcomIommuFamily,
    demo: qcomIommuDemoTargets(),
  },
  {
    // Apple DART on io-pgtable APPLE_DART/APPLE_DART2: one page size, so its own scenarios. The
    // device's domains come back finalized and attached (AppleDart.device). A 16K DART is used
    // under a 16K kernel (PAGE_SIZE 16K: it refuses paging otherwise); 32-bit aperture.
    driver: "apple-dart",
    fmtNames: APPLE_DART_FMT_NAMES,
    family: createAppleDartFamily,
    demo: [
      {
        key: "apple-dart",
        format: "APPLE_DART2",
        granules: [0x4000],
        // No tlb_add_page: the gather only gets the core's range, never a gap sync.
        gapSyncs: false,
        createDriver: () => new AppleDart({ variant: "t6000", pageSize: SZ_16K }).device(),
        layout: { leafSizes: [SZ_16K] },
        iova: SZ_1G,
        byDefault: ["leaf"],
      },
      {
        key: "apple-dart-4k",
        format: "APPLE_DART",
        granules: [0x1000],
        gapSyncs: false,
        createDriver: () => new AppleDart({ variant: "t8103", pgsize: SZ_4K }).device(),
        layout: { leafSizes: [SZ_4K] },
        iova: SZ_1G,
        byDefault: false,
      },
    ],
  },
  {
    // Renesas IPMMU on io-pgtable ARM_32_LPAE_S1 (4K|2M|1G, ias 32): the 4K-granule series
    // scenarios inside its 4 GiB aperture; domains come back attached (IpmmuVmsa.device).
    driver: "ipmmu-vmsa",
    fmtNames: IPMMU_FMT_NAMES,
    family: createIpmmuFamily,
    demo: [
      {
        key: "ipmmu",
        format: "ARM_32_LPAE_S1",
        granules: [0x1000],
        // ipmmu_flush_ops has no tlb_add_page: no gap syncs.
        gapSyncs: false,
        createDriver: () => new IpmmuVmsa({ soc: "r8a7795" }).device(),
        iova: SZ_1G,
        byDefault: ["block"],
      },
    ],
  },
  // The bare formats stay script families; their demo rows are the x86 drivers' below.
  { ...genericPt("amdv1"), demo: [] },
  { ...genericPt("x86_64"), demo: [] },
  { ...genericPt("vtdss"), demo: [] },
  genericPt("riscv"),
  { ...genericPt("amdv1_mock"), demo: [] },
  // The x86 drivers on generic_pt: `fmt driver=intel|amd ...` opens a table through their cfg path.
  { driver: "intel", fmtNames: INTEL_FMT_NAMES, family: createIntelFamily, demo: intelDemoTargets() },
  { driver: "amd", fmtNames: AMD_FMT_NAMES, family: createAmdFamily, demo: amdDemoTargets() },
  // Drivers that own their page-table format (vectors/drivers/README.md).
  {
    driver: "exynos-iommu",
    fmtNames: EXYNOS_FMT_NAMES,
    family: createExynosFamily,
    // SysMMU v5: entries hold PA >> 4, so the default user RAM (up to 64 GiB) fits; IOVAs keep 32 bits.
    ...direct("exynos", "v5", {
      create: () => new ExynosSysmmu({ version: "5.0" }),
      layout: { leafSizes: [SZ_4K, SZ_64K, SZ_1M] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      // sprd shows the scattered 4K case in the default run; `--all` adds exynos's.
      byDefault: ["leaf", "leaves"],
    }),
  },
  {
    driver: "rockchip-iommu",
    fmtNames: ROCKCHIP_FMT_NAMES,
    family: createRockchipFamily,
    // v2 (rk3568): 40-bit PAs. Its 8K..4M page sizes are runs of 4 KiB PTEs: one leaf size.
    ...direct("rockchip", "v2", {
      create: () => new RockchipIommu({ variant: "v2" }),
      layout: { leafSizes: [SZ_4K] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      byDefault: false,
    }),
  },
  {
    driver: "sun50i-iommu",
    fmtNames: SUN50I_FMT_NAMES,
    family: createSun50iFamily,
    ...direct("sun50i", "h6", {
      create: () => new Sun50iIommu(),
      layout: { leafSizes: [SZ_4K] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      userPhys: LOW_RAM,
      byDefault: false,
    }),
  },
  {
    driver: "sprd-iommu",
    fmtNames: SPRD_FMT_NAMES,
    family: createSprdFamily,
    // The aperture is [0, 256 MiB): the 256 MiB region fills it.
    ...direct("sprd", "vau", {
      create: () => new SprdIommu({ version: "vau" }),
      layout: { leafSizes: [SZ_4K] },
      iova: 0,
      window: SZ_256M,
      userPhys: LOW_RAM,
    }),
  },
  {
    driver: "tegra-smmu",
    fmtNames: TEGRA_FMT_NAMES,
    family: createTegraFamily,
    ...direct("tegra", "tegra210", {
      create: () => attaching(new TegraSmmu({ soc: "tegra210" })),
      layout: { leafSizes: [SZ_4K] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      userPhys: LOW_RAM,
      byDefault: false,
    }),
  },
  {
    driver: "mtk_iommu_v1",
    fmtNames: MTK_V1_FMT_NAMES,
    family: createMtkV1Family,
    // No demo target: the M4U never sets a geometry (aperture 0..0, no force_aperture), so
    // type1 trims its IOVA list to [0, 0] at attach and every VFIO_IOMMU_MAP_DMA is -EINVAL
    // (demo.test.ts pins this; see demo/README.md).
    ...direct("mtk-v1", "mt2701", {
      create: () => attaching(new MtkIommuV1()),
      layout: { leafSizes: [SZ_4K] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      userPhys: LOW_RAM,
      vfio: false,
    }),
  },
  {
    driver: "s390-iommu",
    fmtNames: S390_FMT_NAMES,
    family: createS390Family,
    ...direct("s390", "zpci", {
      create: () => attaching(new S390Iommu({ memoryBytes: 64 * SZ_1G })),
      layout: { leafSizes: [SZ_4K] },
      iova: 8 * SZ_1G,
      window: 56 * SZ_1G,
      byDefault: false,
    }),
  },
  {
    driver: "omap-iommu",
    fmtNames: OMAP_FMT_NAMES,
    family: createOmapFamily,
    // Every map/unmap scans the MMU's whole TLB: the 65,536-page scattered case takes seconds,
    // so the default run has the 16M/1M/64K rows only (`--all` adds it).
    ...direct("omap", "omap4", {
      create: () => attaching(new OmapIommu({ soc: "omap4" })),
      layout: { leafSizes: [SZ_4K, SZ_64K, SZ_1M, SZ_16M] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      userPhys: LOW_RAM,
      byDefault: ["leaf", "leaves"],
    }),
  },
  {
    driver: "mtk_iommu",
    fmtNames: MTK_IOMMU_FMT_NAMES,
    family: createMtkIommuFamily,
    // MT8192 M4U: ARM_V7S + MTK_EXT, ias 34 / oas 35; a larb-0 master lands in region 0
    // ([0, 4 GiB − 8 MiB)). Domains come back attached (the table is built at attach).
    ...direct("mtk-iommu", "ARM_V7S mt8192", {
      create: () => new MtkIommu({ soc: "mt8192" }),
      layout: { leafSizes: [SZ_4K, SZ_64K, SZ_1M, SZ_16M] },
      iova: SZ_1G,
      window: 2 * SZ_1G,
      userPhys: LOW_RAM,
      byDefault: false,
    }),
  },
  {
    driver: "msm_iommu",
    fmtNames: MSM_FMT_NAMES,
    family: createMsmFamily,
    // APQ8064: ARM_V7S 32/32; the legacy lookups are the hardware V2PPR/PAR path (a context
    // TLBIALL each), iova_to_phys_length the table walk.
    ...direct("msm", "ARM_V7S apq8064", {
      create: () => new MsmIommu(),
      layout: { leafSizes: [SZ_4K, SZ_64K, SZ_1M, SZ_16M] },
      iova: SZ_1G,
      window: 3 * SZ_1G,
      userPhys: LOW_RAM,
      byDefault: false,
    }),
  },
  // Drivers without a page table: an interval tree behind a virtio-iommu device, and the PAMU's
  // aperture-only domain. Their demo rows are caller scenarios (demo/callers/virtio-iommu.ts).
  { driver: "virtio-iommu", fmtNames: VIRTIO_FMT_NAMES, family: createVirtioFamily },
  { driver: "fsl-pamu", fmtNames: FSL_PAMU_FMT_NAMES, family: createFslPamuFamily },
];

/** A fresh set of script families: one script run ("process") each, so no state leaks between runs. */
export function createFamilies(registry: readonly RegistryEntry[] = REGISTRY): ScriptFamily[] {
  return registry.flatMap((e) => (e.family ? [e.family()] : []));
}

/** Every name the script `fmt` line accepts. */
export function fmtNames(registry: readonly RegistryEntry[] = REGISTRY): string[] {
  return registry.flatMap((e) => e.fmtNames);
}

/** A demo target kind with the driver it belongs to. */
export interface DemoTargetKind extends DemoTargetEntry {
  readonly driver: string;
}

/** The demo target kinds, in table order. */
export function demoTargetKinds(registry: readonly RegistryEntry[] = REGISTRY): DemoTargetKind[] {
  return registry.flatMap((e) => (e.demo ?? []).map((t) => ({ ...t, driver: e.driver })));
}

/** The drivers that own their page-table format, with the driver they belong to, in registry order. */
export function directDriverKinds(
  registry: readonly RegistryEntry[] = REGISTRY,
): Array<DirectDriverEntry & { readonly driver: string }> {
  return registry.flatMap((e) => (e.direct ? [{ ...e.direct, driver: e.driver }] : []));
}

/** The `--domains` kinds of `iommu vfio-script` (the first is the default). */
export function vfioDomainsKinds(registry: readonly RegistryEntry[] = REGISTRY): VfioDomainsEntry[] {
  return registry.flatMap((e) => (e.vfio ? [e.vfio] : []));
}

/** The generic_pt formats of the registry, in its order. */
export function genericPtFormats(registry: readonly RegistryEntry[] = REGISTRY): PtFormatName[] {
  return registry.filter((e) => e.driver === "generic_pt").flatMap((e) => e.fmtNames as PtFormatName[]);
}
