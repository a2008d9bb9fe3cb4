/**
 * drivers/iommu/msm_iommu.c in the script engine — the `msm` script family: an
 * @iommu/drivers-msm IOMMU, a paging domain allocated and attached (msm_iommu_domain_config:
 * ARM_V7S, ias = oas = 32, no quirks, non-coherent walk, msm_iommu_flush_ops), behind the
 * kernel io-pgtable harness's protocol (v7s-driver-table.ts). `phys` answers through
 * `iommu_iova_to_phys()`, i.e. the driver's iova_to_phys_length (the legacy op and its hardware
 * V2PPR/PAR path are gone with the series).
 *
 * `fmt msm [ptbase H] [length software|checked] [ncb N]` (also `fmt driver=msm …`, with
 * `key=value` tokens): `length checked` makes iova_to_phys_length cross-check the hardware.
 */
import { type IommuCounters, TableAllocator } from "@iommu/core";
import { MsmIommu, type MsmLengthMode } from "@iommu/drivers-msm";
import type { FmtResult, ScriptEnv, ScriptFamily } from "../../target.js";
import { DEFAULT_PTBASE } from "../io-pgtable-harness.js";
import { fmtPairs, parsePtbase, V7sDriverScriptTable, v7sFmtLine } from "./v7s-driver-table.js";

/** The `fmt` names of the family. */
export const MSM_FMT_NAMES: readonly string[] = ["msm", "driver=msm"];

interface MsmFmt {
  readonly ptbase: number;
  readonly lengthMode: MsmLengthMode;
  readonly ncb: number;
}

function parseMsmFmt(args: readonly string[]): MsmFmt | undefined {
  const pairs = fmtPairs(args);
  if (!pairs) return undefined;
  let ptbase = DEFAULT_PTBASE;
  let lengthMode: MsmLengthMode = "software";
  let ncb = 4;
  for (const [k, v] of pairs) {
    if (k === "ptbase") {
      const p = parsePtbase(v);
      // The context's TTBR0 and the table descriptors hold 32-bit PAs.
      if (p === undefined || p >= 2 ** 32) return undefined;
      ptbase = p;
    } else if (k === "length" && (v === "software" || v === "checked")) lengthMode = v;
    else if (k === "ncb" && /^[1-9][0-9]?$/.test(v) && Number(v) <= 64) ncb = Number(v);
    else return undefined;
  }
  return { ptbase, lengthMode, ncb };
}

function createMsm(p: MsmFmt, env: ScriptEnv): FmtResult {
  const counters: IommuCounters = env.counters;
  const allocator = new TableAllocator(undefined, { base: p.ptbase, counters });
  const iommu = new MsmIommu({
    ncb: p.ncb,
    lengthMode: p.lengthMode,
    allocator,
    onMessage: (l) => env.stderr(l),
  });
  const d = iommu.domainAllocPagingFlags(0, { counters, allocator });
  if (typeof d === "number" || !d.pgtblOps) {
    // The kernel ignores the failed table allocation and attaches without one.
    allocator.reset();
    return { kind: "refused", line: "err alloc" };
  }
  const table = new V7sDriverScriptTable(
    d,
    env,
    allocator,
    () => d.tlbCallbacks,
    () => iommu.detach(d),
  );
  return { kind: "ok", line: v7sFmtLine(table.iop, " driver=msm"), table };
}

/** `fmt msm` / `fmt driver=msm`. */
export function createMsmFamily(): ScriptFamily {
  return {
    formats: MSM_FMT_NAMES,
    parseFmt: (_format, args) => parseMsmFmt(args),
    create: (parsed, env) => createMsm(parsed as MsmFmt, env),
  };
}
