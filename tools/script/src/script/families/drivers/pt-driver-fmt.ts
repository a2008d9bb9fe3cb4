/**
 * What the `fmt driver=intel` and `fmt driver=amd` families share: the `key=value` option
 * parser, and the table a driver's generic_pt domain becomes — the generic_pt script table,
 * with the result line the bare format prints (so a vector replays byte for byte when the
 * driver derives the same cfg).
 */
import { hex, type IommuCounters, TableAllocator } from "@iommu/core";
import { featureList, type PtIommu } from "@iommu/generic-pt";
import { formatErrno } from "../../errno-names.js";
import { parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv } from "../../target.js";
import { GenericPtScriptTable, type PtScriptDomain } from "../generic-pt.js";

/** The harness's table base (as the generic_pt family's). */
const PTBASE = 0x8000_0000;

/** `key=value` tokens into a map; undefined on a token without `=` or a repeated key. */
export function parseOptions(args: readonly string[]): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf("=");
    if (i <= 0 || out.has(a.slice(0, i))) return undefined;
    out.set(a.slice(0, i), a.slice(i + 1));
  }
  return out;
}

/** A 64-bit register value (`0x...` or decimal); undefined when malformed. */
export function parseReg(tok: string): bigint | undefined {
  const v = parseNum(tok);
  if (v === undefined) return undefined;
  const b = BigInt(v);
  return b < 0n || b >= 1n << 64n ? undefined : b;
}

/** `on|off|1|0` */
export function parseBool(tok: string): boolean | undefined {
  if (tok === "on" || tok === "1") return true;
  if (tok === "off" || tok === "0") return false;
  return undefined;
}

/** The allocator and counters a driver's domain gets in a script run. */
export function scriptAllocator(env: ScriptEnv): { allocator: TableAllocator; counters: IommuCounters } {
  return {
    allocator: new TableAllocator(undefined, { base: PTBASE, counters: env.counters }),
    counters: env.counters,
  };
}

/**
 * The result of a driver's `domain_alloc_paging`: refused (`err <errno> driver=... <what>`) or
 * the generic_pt result line of the domain (`ok fmt=<format> pgsize_bitmap=... <hw_info>`).
 */
export function driverFmtResult(
  d: PtIommu | number,
  env: ScriptEnv,
  allocator: TableAllocator,
  refusedText: string,
): FmtResult {
  if (typeof d === "number") return { kind: "refused", line: `err ${formatErrno(d)} ${refusedText}` };
  const pt = d.pt;
  const g = d.geometry;
  const hw = pt
    .hwInfo()
    .map((h) => `${h.name}=${h.hex ? hex(h.value) : h.value}`)
    .join(" ");
  const line =
    `ok fmt=${pt.fmt.name} pgsize_bitmap=${hex(d.pgsizeBitmap)} va_bits=${pt.maxVasz} oa_bits=${pt.maxOasz}` +
    ` top_level=${pt.topLevel} levels=${pt.topLevel + 1} va_start=${hex(g.apertureStart)} va_end=${hex(g.apertureEnd)}` +
    ` features=${hex(pt.features >>> 0)}(${featureList(pt.fmt, pt.features)}) ${hw}`;
  return { kind: "ok", line, table: new GenericPtScriptTable(d as PtScriptDomain, allocator, env) };
}
