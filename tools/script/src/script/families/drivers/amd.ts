/**
 * The `fmt driver=amd` script family: a generic_pt table opened through the AMD-Vi driver's
 * cfg path (@iommu/drivers-amd) — the EFR, NpCache and the `amd_iommu=` options decide
 * format (v1 amdv1 / v2 x86_64), address width, features and page sizes — then driven with
 * the generic_pt harness dialect. Options (all `key=value`, any order):
 *
 *   efr=<EFR>               Extended Feature Register (default: the Genoa-like unit)
 *   npcache=on|off          IOMMU_CAP_NPCACHE (a virtualised IOMMU; default off)
 *   pgtable=v1|v2           amd_iommu=pgtbl_v1/pgtbl_v2 (default v1)
 *   nohugepages=on|off      amd_iommu=nohugepages
 *   v2_pgsizes_only=on|off  amd_iommu=v2_pgsizes_only
 *   flags=<n>               IOMMU_HWPT_ALLOC_* bits (nest_parent 1, dirty_tracking 2, pasid 8)
 */
import { SZ_1G, SZ_2M, SZ_4K, SZ_32K } from "@iommu/core";
import { AmdIommu } from "@iommu/drivers-amd";
import type { DemoTargetEntry } from "../../../registry.js";
import type { ScriptFamily } from "../../target.js";
import { driverFmtResult, parseBool, parseOptions, parseReg, scriptAllocator } from "./pt-driver-fmt.js";

/** The `fmt` names of the family. */
export const AMD_FMT_NAMES: readonly string[] = ["amd", "driver=amd"];

interface AmdFmt {
  efr?: bigint;
  npcache: boolean;
  pgtable: "v1" | "v2";
  nohugepages: boolean;
  v2PgsizesOnly: boolean;
  flags: number;
}

/** Parse the options of `fmt driver=amd`; undefined on anything unknown or malformed. */
export function parseAmdFmt(args: readonly string[]): AmdFmt | undefined {
  const o = parseOptions(args);
  if (!o) return undefined;
  const out: AmdFmt = { npcache: false, pgtable: "v1", nohugepages: false, v2PgsizesOnly: false, flags: 0 };
  for (const [k, v] of o) {
    if (k === "efr") {
      const r = parseReg(v);
      if (r === undefined) return undefined;
      out.efr = r;
    } else if (k === "npcache" || k === "nohugepages" || k === "v2_pgsizes_only") {
      const b = parseBool(v);
      if (b === undefined) return undefined;
      if (k === "npcache") out.npcache = b;
      else if (k === "nohugepages") out.nohugepages = b;
      else out.v2PgsizesOnly = b;
    } else if (k === "pgtable") {
      if (v !== "v1" && v !== "v2") return undefined;
      out.pgtable = v;
    } else if (k === "flags") {
      const r = parseReg(v);
      if (r === undefined || r > 0xffffn) return undefined;
      out.flags = Number(r);
    } else return undefined;
  }
  return out;
}

/** `fmt driver=amd ...` */
export function createAmdFamily(): ScriptFamily {
  return {
    formats: AMD_FMT_NAMES,
    parseFmt(format, args) {
      return AMD_FMT_NAMES.includes(format) ? parseAmdFmt(args) : undefined;
    },
    create(parsed, env) {
      const p = parsed as AmdFmt;
      const unit = new AmdIommu({
        ...(p.efr === undefined ? {} : { efr: p.efr }),
        npCache: p.npcache,
        cmdline: { pgtbl: p.pgtable, nohugepages: p.nohugepages, v2PgsizesOnly: p.v2PgsizesOnly },
      });
      const { allocator, counters } = scriptAllocator(env);
      const d = unit.domainAllocPagingFlags(p.flags, { allocator, counters });
      // Attached, so every sync queues the driver's INVALIDATE_IOMMU_PAGES.
      if (typeof d !== "number") unit.attachDev(d);
      return driverFmtResult(d, env, allocator, `driver=amd efr=0x${unit.efrReg.toString(16)}`);
    },
  };
}

/**
 * The `iommu demo` targets of the AMD-Vi driver (4 KiB granule). Each target is a fresh unit
 * whose domains come back attached (`AmdIommu.forDevice`), as VFIO type1 gets them.
 */
export function amdDemoTargets(): DemoTargetEntry[] {
  return [
    {
      // Bare metal v1: FLUSH_RANGE absorbs gaps, so no gap syncs.
      key: "amdv1",
      format: "amdv1",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new AmdIommu().forDevice(),
      byDefault: ["1g-blocks"],
    },
    {
      // v1's arbitrary power-of-two sizes: 1 GiB as one 1G leaf, as 2M leaves, as 32K runs
      // (NextLevel-7 entries of 8 replicated PTEs) and as 4K pages.
      key: "amdv1-32k",
      format: "amdv1 4K/32K/2M/1G",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new AmdIommu().forDevice(),
      layout: { leafSizes: [SZ_4K, SZ_32K, SZ_2M, SZ_1G], region: SZ_1G },
      byDefault: false,
    },
    {
      // In a VM (NpCache): FLUSH_RANGE_NO_GAPS syncs before a disjoint range.
      key: "amdv1-vm",
      format: "amdv1 npcache",
      granules: [0x1000],
      gapSyncs: true,
      createDriver: () => new AmdIommu({ npCache: true }).forDevice(),
      byDefault: false,
    },
    {
      // amd_iommu=pgtbl_v2: the x86_64 table, 5-level with a 5-level GATS.
      key: "amd-v2",
      format: "x86_64 5-level",
      granules: [0x1000],
      gapSyncs: false,
      createDriver: () => new AmdIommu({ cmdline: { pgtbl: "v2" } }).forDevice(),
      byDefault: false,
    },
  ];
}
