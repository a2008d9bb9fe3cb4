/**
 * The `dart1` / `dart2` script families: io-pgtable APPLE_DART / APPLE_DART2 behind the
 * kernel-harness protocol (SCRIPT-FORMAT.md). Quirks parse but the format ignores them.
 */
import { hex } from "@iommu/core";
import { type AppleDartIoPgtable, IoPgtableFmt } from "@iommu/io-pgtable";
import { dartDumpLines } from "../inspect-text.js";
import type { FmtResult, ScriptEnv, ScriptFamily, TableImage } from "../target.js";
import { type IoPgtableFmtArgs, parseIoPgtableFmtArgs, pgsizesOrDefault } from "./io-pgtable-harness.js";
import { allocScriptPgtable, IoPgtableScriptTable } from "./v7s.js";

const DART_DEFAULT_PGSIZE = 0x4000;

/** DART tables: `leafProt` is the shared one (DART2 also has NO_CACHE; x/m/p do not exist in DART PTEs). */
class DartScriptTable extends IoPgtableScriptTable<AppleDartIoPgtable> {
  dump(): string[] {
    return dartDumpLines(this.inspector());
  }
}

function createDart(format: string, parsed: IoPgtableFmtArgs, env: ScriptEnv, image?: TableImage): FmtResult {
  const dart2 = format === "dart2";
  const ias = parsed.ias ?? 32;
  const oas = parsed.oas ?? (dart2 ? 42 : 36);
  const bitmap = pgsizesOrDefault(parsed, parsed.granule ?? DART_DEFAULT_PGSIZE);
  const fmt = dart2 ? IoPgtableFmt.APPLE_DART2 : IoPgtableFmt.APPLE_DART;
  const r = allocScriptPgtable(
    fmt,
    { quirks: parsed.quirks, pgsizeBitmap: bitmap, ias, oas, coherentWalk: parsed.coherent },
    env,
    image?.mem,
    parsed.ptbase,
    image?.root,
  );
  if (!r) return { kind: "refused", line: "err alloc" };
  const iop = r.iop as AppleDartIoPgtable;
  const c = iop.cfg;
  const d = c.appleDartCfg!;
  const line =
    `ok fmt=${format} pgsize_bitmap=${hex(c.pgsizeBitmap)} ias=${c.ias} oas=${c.oas} n_levels=${d.nLevels}` +
    ` n_ttbrs=${d.nTtbrs} bits_per_level=${iop.bitsPerLevel} ptes_per_table=${iop.ptesPerTable}` +
    ` ttbr=${d.ttbr.map((t) => hex(t)).join(",")}`;
  return { kind: "ok", line, table: new DartScriptTable(iop, r.tlb, env, r.allocator) };
}

/** The `fmt` names of the DART family. */
export const DART_FMT_NAMES: readonly string[] = ["dart1", "dart2"];

/** `fmt dart1` / `fmt dart2`. */
export function createDartFamily(): ScriptFamily {
  return {
    formats: DART_FMT_NAMES,
    parseFmt(format, args) {
      const parsed = parseIoPgtableFmtArgs(args, { granule: true, pgsize: true });
      return parsed && { format, parsed };
    },
    create(p, env) {
      const { format, parsed } = p as { format: string; parsed: IoPgtableFmtArgs };
      return createDart(format, parsed, env);
    },
    adopt(p, env, image) {
      const { format, parsed } = p as { format: string; parsed: IoPgtableFmtArgs };
      return createDart(format, parsed, env, image);
    },
  };
}
