/**
 * The `fmt driver=intel` script family: a generic_pt table opened through the VT-d driver's
 * cfg path (@iommu/drivers-intel) — CAP/ECAP and the command line decide format, address
 * width, features and page sizes — then driven with the generic_pt harness dialect (walk,
 * dump, stats, info, failalloc, trace). Options (all `key=value`, any order):
 *
 *   cap=<CAP_REG>  ecap=<ECAP_REG>   (default: the SPR-like unit of the package)
 *   sm=on|off      intel_iommu=sm_on/sm_off (default on)
 *   sp=on|off      intel_iommu=sp_off clears super-pages (default on)
 *   stage=1|2      call the first- or second-stage allocator directly (default: the driver's
 *                  choice, first stage when the unit has one)
 *   flags=<n>      IOMMU_HWPT_ALLOC_* bits (nest_parent 1, dirty_tracking 2, pasid 8)
 */
import { SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import { IntelIommu, VTD_LEGACY_CAP, VTD_LEGACY_ECAP } from "@iommu/drivers-intel";
import type { DemoTargetEntry } from "../../../registry.js";
import type { ScriptFamily } from "../../target.js";
import { driverFmtResult, parseBool, parseOptions, parseReg, scriptAllocator } from "./pt-driver-fmt.js";

/** The `fmt` names of the family. */
export const INTEL_FMT_NAMES: readonly string[] = ["intel", "driver=intel"];

interface IntelFmt {
  cap?: bigint;
  ecap?: bigint;
  sm: boolean;
  sp: boolean;
  stage?: "first" | "second";
  flags: number;
}

/** Parse the options of `fmt driver=intel`; undefined on anything unknown or malformed. */
export function parseIntelFmt(args: readonly string[]): IntelFmt | undefined {
  const o = parseOptions(args);
  if (!o) return undefined;
  const out: IntelFmt = { sm: true, sp: true, flags: 0 };
  for (const [k, v] of o) {
    if (k === "cap" || k === "ecap") {
      const r = parseReg(v);
      if (r === undefined) return undefined;
      out[k] = r;
    } else if (k === "sm" || k === "sp") {
      const b = parseBool(v);
      if (b === undefined) return undefined;
      out[k] = b;
    } else if (k === "stage") {
      if (v !== "1" && v !== "2") return undefined;
      out.stage = v === "1" ? "first" : "second";
    } else if (k === "flags") {
      const r = parseReg(v);
      if (r === undefined || r > 0xffffn) return undefined;
      out.flags = Number(r);
    } else return undefined;
  }
  return out;
}

/** `fmt driver=intel ...` */
export function createIntelFamily(): ScriptFamily {
  return {
    formats: INTEL_FMT_NAMES,
    parseFmt(format, args) {
      return INTEL_FMT_NAMES.includes(format) ? parseIntelFmt(args) : undefined;
    },
    create(parsed, env) {
      const p = parsed as IntelFmt;
      const unit = new IntelIommu({
        ...(p.cap === undefined ? {} : { cap: p.cap }),
        ...(p.ecap === undefined ? {} : { ecap: p.ecap }),
        scalableMode: p.sm,
        superpage: p.sp,
      });
      const { allocator, counters } = scriptAllocator(env);
      const d =
        p.stage === undefined
          ? unit.domainAllocPagingFlags(p.flags, { allocator, counters })
          : unit.domainAllocStage(p.stage, p.flags, { allocator, counters });
      // Attached, so every sync issues the driver's IOTLB invalidation.
      if (typeof d !== "number") unit.attachDev(d);
      const what = `driver=intel cap=0x${unit.capReg.toString(16)} ecap=0x${unit.ecapReg.toString(16)}`;
      return driverFmtResult(d, env, allocator, what);
    },
  };
}

/**
 * The `iommu demo` targets of the VT-d driver (4 KiB granule; generic_pt's FLUSH_RANGE gather
 * absorbs gaps, so no gap syncs). Each target is a fresh unit whose domains come back attached
 * (`IntelIommu.forDevice`), as VFIO type1 gets them.
 */
export function intelDemoTargets(): DemoTargetEntry[] {
  return [
    {
      // A legacy-mode server unit: second stage only, 4-level, 2M + 1G super-pages.
      key: "vtdss",
      format: "vtdss 4-level",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new IntelIommu({ cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP }).forDevice(),
      byDefault: ["1g-blocks"],
    },
    {
      // The same unit without 1G super-pages (SSLPS = 2M only): 1G regions are 2M leaves.
      key: "vtdss-no1g",
      format: "vtdss 4-level 2M-only",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () =>
        new IntelIommu({ cap: VTD_LEGACY_CAP & ~(2n << 34n), ecap: VTD_LEGACY_ECAP }).forDevice(),
      layout: { leafSizes: [SZ_4K, SZ_2M], region: SZ_1G },
      byDefault: false,
    },
    {
      // A scalable-mode unit (SPR caps): the first stage, 5-level x86_64 with 1G pages.
      key: "x86_64",
      format: "x86_64 5-level",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new IntelIommu().forDevice(),
      byDefault: false,
    },
  ];
}
