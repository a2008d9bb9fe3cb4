/**
 * The `arm-smmu` and `qcom_iommu` script families: `fmt` opens a domain through the driver's
 * cfg path — the ID registers (raw, or from a hardware description) are probed with
 * `arm_smmu_device_cfg_probe()` and `arm_smmu_init_domain_context()`'s decisions
 * (@iommu/drivers-arm-smmu `armSmmuContextCfg`) give the io-pgtable format, ias, oas, quirks,
 * coherent walk and the SMMU-wide pgsize_bitmap — and the table is then built and driven
 * exactly as the io-pgtable families build theirs (same harness TLB callbacks, arena, `ok
 * fmt=` line, `walk`/`dump`/`stats`). So any io-pgtable vector whose cfg the driver can
 * produce replays byte for byte with its `fmt` line replaced by the driver's.
 *
 * ```
 * fmt arm-smmu [version v1|v1-64k|v2] [kernel arm64|arm32-lpae|arm32]
 *              [idr0 X] [idr1 X] [idr2 X]                  raw ID registers (hex)
 *              [granule 4k|16k|64k]... [ias N] [oas N] [ubs N] [aarch32 none|l|s]
 *              [atos on|off] [s1 on|off] [s2 on|off]       hardware description
 *              [stage 1|2]                                  arm-smmu.force_stage
 *              [coherent|noncoherent] [quirks NAME[,NAME]] [ptbase X]
 * fmt qcom_iommu [ptbase X]                                 ARM_32_LPAE_S1, ias 32, oas 40, 4K
 * ```
 *
 * Keys also take the `key=value` form, and `driver=arm-smmu` / `driver=qcom_iommu` name the
 * families too. Raw registers override the description. Refusals: `err probe` (the probe
 * rejects the SMMU), `err context` (no context format fits: the kernel's -EINVAL at attach),
 * `err alloc` (the format refuses the cfg).
 */
import { IommuError, SZ_1G, SZ_1M, SZ_4K, SZ_16M, SZ_64K } from "@iommu/core";
import {
  ARM_SMMU_FEAT_COHERENT_WALK,
  ArmSmmu,
  type ArmSmmuGranule,
  type ArmSmmuKernel,
  ArmSmmuMaster,
  type ArmSmmuOptions,
  type ArmSmmuVersion,
  armSmmuContextCfg,
  QcomIommu,
  QcomIommuMaster,
} from "@iommu/drivers-arm-smmu";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import type { DemoTargetEntry } from "../../../registry.js";
import { parseHex, parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily } from "../../target.js";
import { DEFAULT_PTBASE, type IoPgtableFmtArgs, QUIRK_NAMES } from "../io-pgtable-harness.js";
import { createLpaeFamily, type LpaeFmtArgs } from "../lpae.js";
import { createV7sFamily } from "../v7s.js";

/** The `fmt` names of the arm-smmu family. */
export const ARM_SMMU_FMT_NAMES: readonly string[] = ["arm-smmu", "driver=arm-smmu"];
/** The `fmt` names of the qcom_iommu family. */
export const QCOM_IOMMU_FMT_NAMES: readonly string[] = ["qcom_iommu", "driver=qcom_iommu"];

const LPAE_NAMES: Partial<Record<IoPgtableFmt, string>> = {
  [IoPgtableFmt.ARM_64_LPAE_S1]: "arm64-s1",
  [IoPgtableFmt.ARM_64_LPAE_S2]: "arm64-s2",
  [IoPgtableFmt.ARM_32_LPAE_S1]: "arm32-s1",
  [IoPgtableFmt.ARM_32_LPAE_S2]: "arm32-s2",
};

const GRANULES: Readonly<Record<string, ArmSmmuGranule>> = { "4k": 0x1000, "16k": 0x4000, "64k": 0x1_0000 };
const ADDR_BITS = new Set([32, 36, 40, 42, 44, 48]);

/** A parsed `fmt arm-smmu` line. */
export interface ArmSmmuFmtArgs {
  readonly hw: ArmSmmuOptions;
  readonly quirks: number;
  readonly ptbase: number;
}

/** Split `key=value` tokens into `key value`. */
function pairs(args: readonly string[]): string[] {
  return args.flatMap((a) => {
    const i = a.indexOf("=");
    return i > 0 ? [a.slice(0, i), a.slice(i + 1)] : [a];
  });
}

function onOff(v: string): boolean | undefined {
  return v === "on" ? true : v === "off" ? false : undefined;
}

/** Parse `fmt arm-smmu ...`; undefined = `err bad-args`. */
export function parseArmSmmuFmt(args: readonly string[]): ArmSmmuFmtArgs | undefined {
  const hw: ArmSmmuOptions = {};
  const regs: { id0?: number; id1?: number; id2?: number } = {};
  const granules: ArmSmmuGranule[] = [];
  let quirks = 0;
  let ptbase = DEFAULT_PTBASE;
  const a = pairs(args);
  for (let i = 0; i < a.length; i++) {
    const key = a[i]!;
    if (key === "coherent" || key === "noncoherent") {
      hw.coherent = key === "coherent";
      continue;
    }
    const v = a[++i];
    if (v === undefined) return undefined;
    switch (key) {
      case "version":
        if (v !== "v1" && v !== "v1-64k" && v !== "v2") return undefined;
        hw.version = v as ArmSmmuVersion;
        break;
      case "kernel":
        if (v !== "arm64" && v !== "arm32-lpae" && v !== "arm32") return undefined;
        hw.kernel = v as ArmSmmuKernel;
        break;
      case "idr0":
      case "idr1":
      case "idr2": {
        const n = parseHex(v);
        if (n === undefined || Number(n) > 0xffff_ffff) return undefined;
        regs[`id${key[3]}` as "id0"] = Number(n);
        break;
      }
      case "granule": {
        const g = GRANULES[v.toLowerCase()];
        if (!g) return undefined;
        granules.push(g);
        break;
      }
      case "ias":
      case "oas":
      case "ubs": {
        const n = Number(parseNum(v));
        if (!ADDR_BITS.has(n)) return undefined;
        hw[key] = n as 32;
        break;
      }
      case "aarch32":
        if (v === "none") hw.aarch32L = hw.aarch32S = false;
        else if (v === "l") hw.aarch32L = true;
        else if (v === "s") hw.aarch32S = true;
        else return undefined;
        break;
      case "atos":
      case "s1":
      case "s2": {
        const b = onOff(v);
        if (b === undefined) return undefined;
        hw[key === "atos" ? "atos" : key === "s1" ? "stage1" : "stage2"] = b;
        break;
      }
      case "stage":
      case "force_stage": {
        const n = Number(parseNum(v));
        if (n !== 1 && n !== 2) return undefined;
        hw.forceStage = n;
        break;
      }
      case "quirks":
        for (const q of v.split(",")) {
          const bit = QUIRK_NAMES[q];
          if (bit === undefined) return undefined;
          quirks |= bit;
        }
        break;
      case "ptbase": {
        const n = parseHex(v);
        if (n === undefined || Number(n) % 0x800_0000 !== 0) return undefined;
        ptbase = Number(n);
        break;
      }
      default:
        return undefined;
    }
  }
  if (granules.length) hw.granules = granules;
  if (regs.id0 !== undefined || regs.id1 !== undefined || regs.id2 !== undefined) hw.regs = regs;
  return { hw, quirks, ptbase };
}

/** Build the table the driver's cfg describes through the io-pgtable families. */
function createThroughDriver(p: ArmSmmuFmtArgs, env: ScriptEnv): FmtResult {
  let smmu: ArmSmmu;
  try {
    smmu = new ArmSmmu(p.hw);
  } catch (e) {
    if (e instanceof IommuError) return { kind: "refused", line: "err probe" };
    throw e;
  }
  const ctx = armSmmuContextCfg(smmu.caps, smmu.kernel, "s1");
  if (typeof ctx === "number") return { kind: "refused", line: "err context" };
  const coherent = (smmu.features & ARM_SMMU_FEAT_COHERENT_WALK) !== 0;
  if (ctx.fmt === IoPgtableFmt.ARM_V7S) {
    const v7s: IoPgtableFmtArgs = {
      ias: ctx.ias,
      oas: ctx.oas,
      pgsizes: smmu.pgsizeBitmap,
      quirks: p.quirks,
      ptbase: p.ptbase,
      coherent,
    };
    return createV7sFamily().create(v7s, env);
  }
  const lpae: LpaeFmtArgs = {
    name: LPAE_NAMES[ctx.fmt]!,
    fmt: ctx.fmt,
    pgsizeBitmap: smmu.pgsizeBitmap,
    ias: ctx.ias,
    oas: ctx.oas,
    quirks: p.quirks,
    ptbase: p.ptbase,
    coherent,
  };
  return createLpaeFamily().create(lpae, env);
}

/** `fmt arm-smmu ...`: a domain's table through the SMMUv1/v2 driver's cfg path. */
export function createArmSmmuFamily(): ScriptFamily {
  return {
    formats: ARM_SMMU_FMT_NAMES,
    parseFmt: (_format, args) => parseArmSmmuFmt(args),
    create: (parsed, env) => createThroughDriver(parsed as ArmSmmuFmtArgs, env),
  };
}

/** `fmt qcom_iommu [ptbase X]`: qcom_iommu_init_domain's cfg (ARM_32_LPAE_S1, 32/40, SZ_4K, no coherent walk). */
export function createQcomIommuFamily(): ScriptFamily {
  return {
    formats: QCOM_IOMMU_FMT_NAMES,
    parseFmt(_format, args) {
      const a = pairs(args);
      let ptbase = DEFAULT_PTBASE;
      for (let i = 0; i < a.length; i += 2) {
        const n = a[i] === "ptbase" && a[i + 1] !== undefined ? parseHex(a[i + 1]!) : undefined;
        if (n === undefined || Number(n) % 0x800_0000 !== 0) return undefined;
        ptbase = Number(n);
      }
      return { ptbase };
    },
    create(parsed, env) {
      const lpae: LpaeFmtArgs = {
        name: "arm32-s1",
        fmt: IoPgtableFmt.ARM_32_LPAE_S1,
        pgsizeBitmap: 0x1000,
        ias: 32,
        oas: 40,
        quirks: 0,
        ptbase: (parsed as { ptbase: number }).ptbase,
        coherent: false,
      };
      return createLpaeFamily().create(lpae, env);
    },
  };
}

/** A 32-bit SoC's RAM for the user pages of the short-descriptor context (oas 32). */
const LOW_RAM = { base: SZ_1G, end: 4 * SZ_1G } as const;

/**
 * `iommu demo` targets: a master behind an SMMUv2 (its domains come back attached, so the
 * table, page sizes and geometry exist when VFIO reads them), at each AArch64 granule, the
 * AArch32-S context of a 32-bit kernel (v7s leaves 64K/1M/16M). Lookups are the table walk
 * (iova_to_phys_length; the legacy op's hardware ATS1PR/PAR path went with it). The driver
 * invalidates each leaf as io-pgtable clears it and never touches the gather: no gap syncs.
 * (qcom_iommu's target is {@link qcomIommuDemoTargets}.)
 */
export function armSmmuDemoTargets(): DemoTargetEntry[] {
  return [
    {
      key: "arm-smmu",
      format: "ARM_64_LPAE_S1",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new ArmSmmuMaster(new ArmSmmu({ granules: [0x1000] })),
      byDefault: ["1g-blocks"],
    },
    {
      key: "arm-smmu-16k-64k",
      format: "ARM_64_LPAE_S1",
      granules: [0x4000, 0x1_0000],
      gapSyncs: false,
      createDriver: (granule) => new ArmSmmuMaster(new ArmSmmu({ granules: [granule as ArmSmmuGranule] })),
      byDefault: false,
    },
    {
      // A default row would be one of three `leaf` rows (the demo selects by scenario kind):
      // the short-descriptor context runs with `--all` / `--format arm-smmu-v7s`.
      key: "arm-smmu-v7s",
      format: "ARM_V7S",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () =>
        new ArmSmmuMaster(new ArmSmmu({ kernel: "arm32", aarch32S: true, ubs: 32, ias: 32 })),
      layout: { leafSizes: [SZ_4K, SZ_64K, SZ_1M, SZ_16M] },
      iova: SZ_1G,
      userPhys: LOW_RAM,
      byDefault: false,
    },
  ];
}

/** `iommu demo` target of qcom_iommu: 4K leaves only (its own scenarios), a master on context bank 0. */
export function qcomIommuDemoTargets(): DemoTargetEntry[] {
  return [
    {
      key: "qcom-iommu",
      format: "ARM_32_LPAE_S1 4K",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new QcomIommuMaster(new QcomIommu(), [0]),
      layout: { leafSizes: [SZ_4K] },
      iova: SZ_1G,
      byDefault: false,
    },
  ];
}
