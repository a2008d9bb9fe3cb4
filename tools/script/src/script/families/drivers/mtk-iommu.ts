/**
 * drivers/iommu/mtk_iommu.c in the script engine — the `mtk-iommu` script family: an
 * @iommu/drivers-mtk-iommu M4U of a given SoC, a paging domain allocated and attached for a
 * master (mtk_iommu_domain_finalise: ARM_V7S with ARM_NS | NO_PERMS | ARM_MTK_EXT
 * [| ARM_MTK_TTBR_EXT], the SoC's ias/oas), behind the kernel io-pgtable harness's protocol
 * (v7s-driver-table.ts). `map` adds bit 32 in 4GB mode, `phys` strips it again.
 *
 * `fmt mtk-iommu [soc S] [4gb on|off] [larb N] [port P] [ptbase H]` (also `fmt
 * driver=mtk-iommu soc=mt8192 …`): S is a key of MTK_IOMMU_PLAT_DATA (default mt8192);
 * `larb`/`port` choose the master, and so the IOVA region (default larb 0 port 0).
 */
import { TableAllocator } from "@iommu/core";
import { MTK_IOMMU_PLAT_DATA, MtkIommu, type MtkIommuSoc } from "@iommu/drivers-mtk-iommu";
import { freeIoPgtableOps } from "@iommu/io-pgtable";
import type { FmtResult, ScriptEnv, ScriptFamily } from "../../target.js";
import { DEFAULT_PTBASE } from "../io-pgtable-harness.js";
import { fmtPairs, parsePtbase, V7sDriverScriptTable, v7sFmtLine } from "./v7s-driver-table.js";

/** The `fmt` names of the family. */
export const MTK_IOMMU_FMT_NAMES: readonly string[] = ["mtk-iommu", "driver=mtk-iommu"];

const NO_TLB_CALLBACKS = { flushAll: 0, flushWalk: 0, addPage: 0 } as const;

interface MtkFmt {
  readonly soc: MtkIommuSoc;
  readonly enable4GB: boolean;
  readonly larb: number;
  readonly port: number;
  readonly ptbase: number;
}

function parseMtkFmt(args: readonly string[]): MtkFmt | undefined {
  const pairs = fmtPairs(args);
  if (!pairs) return undefined;
  let soc: MtkIommuSoc = "mt8192";
  let enable4GB = false;
  let larb = 0;
  let port = 0;
  let ptbase = DEFAULT_PTBASE;
  for (const [k, v] of pairs) {
    if (k === "soc" && Object.hasOwn(MTK_IOMMU_PLAT_DATA, v)) soc = v as MtkIommuSoc;
    else if (k === "4gb" && (v === "on" || v === "off")) enable4GB = v === "on";
    else if ((k === "larb" || k === "port") && /^[0-9]{1,2}$/.test(v) && Number(v) < 32) {
      if (k === "larb") larb = Number(v);
      else port = Number(v);
    } else if (k === "ptbase") {
      const p = parsePtbase(v);
      if (p === undefined) return undefined;
      ptbase = p;
    } else return undefined;
  }
  return { soc, enable4GB, larb, port, ptbase };
}

function createMtk(p: MtkFmt, env: ScriptEnv): FmtResult {
  const allocator = new TableAllocator(undefined, { base: p.ptbase, counters: env.counters });
  let m4u: MtkIommu;
  try {
    m4u = new MtkIommu({ soc: p.soc, enable4GB: p.enable4GB, allocator, onMessage: (l) => env.stderr(l) });
  } catch {
    return { kind: "refused", line: "err probe" }; // mt6893: the kernel oopses in probe
  }
  const d = m4u.domainAllocPagingFlags(0, {
    counters: env.counters,
    allocator,
    master: { larb: p.larb, ports: [p.port] },
  });
  if (typeof d === "number") {
    allocator.reset();
    return { kind: "refused", line: d === -12 ? "err alloc" : `err attach ${d}` };
  }
  // Nothing in the driver frees the shared table: the harness frees it at teardown.
  const ops = d.pgtblOps!;
  const table = new V7sDriverScriptTable(
    d,
    env,
    allocator,
    () => NO_TLB_CALLBACKS,
    () => freeIoPgtableOps(ops),
  );
  const mode = m4u.enable4GB ? " 4gb=on" : "";
  return { kind: "ok", line: v7sFmtLine(table.iop, ` driver=mtk-iommu soc=${p.soc}${mode}`), table };
}

/** `fmt mtk-iommu` / `fmt driver=mtk-iommu`. */
export function createMtkIommuFamily(): ScriptFamily {
  return {
    formats: MTK_IOMMU_FMT_NAMES,
    parseFmt: (_format, args) => parseMtkFmt(args),
    create: (parsed, env) => createMtk(parsed as MtkFmt, env),
  };
}
