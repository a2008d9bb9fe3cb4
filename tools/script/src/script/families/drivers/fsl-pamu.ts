/**
 * drivers/iommu/fsl_pamu_domain.c in the script engine — the `fsl-pamu` script family: one
 * UNMANAGED domain of @iommu/drivers-fsl-pamu. It has no map_pages and no pgsize_bitmap, so
 * `map`/`unmap` through the core emulation give the kernel's WARN + errors; `phys` is the
 * identity inside [0, 2^36 − 1] and 0 outside; `lookup` prints the length-aware answer; `dump`
 * has nothing to list.
 */
import { type Addr, hex, iommuIovaToPhys, iommuIovaToPhysLength, PhysLength } from "@iommu/core";
import { type FslDmaDomain, FslPamu } from "@iommu/drivers-fsl-pamu";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const FSL_PAMU_FMT_NAMES: readonly string[] = ["fsl-pamu", "driver=fsl-pamu"];

class PamuScriptTable implements ScriptTable {
  private readonly out = new PhysLength();

  constructor(
    readonly domain: FslDmaDomain,
    private readonly env: ScriptEnv,
  ) {}

  /** The kernel has no map_pages: a raw call is refused as the harness refuses a missing op. */
  mapPages(): string {
    return "err unsupported";
  }

  unmapPages(): string {
    return "err unsupported";
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  dump(): string[] {
    return ["end tables=0 leaves=0"];
  }

  stats(): string {
    return `stats tables_live=0 liodns=${this.domain.liodns.size} warns_total=${this.env.counters.warns}`;
  }

  command(name: string, args: readonly string[]): string[] | undefined {
    if (name !== "lookup") return undefined;
    const iova = args.length === 1 ? parseHex(args[0]!) : undefined;
    if (iova === undefined) return ["err bad-args"];
    const o = iommuIovaToPhysLength(this.domain, iova, this.out);
    return [`lookup mapped=${o.mapped ? 1 : 0} phys=${hex(o.phys)} length=${hex(o.length)}`];
  }

  destroy(): void {
    this.domain.ops!.free!(this.domain);
  }
}

function createPamu(env: ScriptEnv): FmtResult {
  const pamu = new FslPamu({ counters: env.counters });
  const d = pamu.domainAllocPagingFlags(0, { counters: env.counters }) as FslDmaDomain;
  const line = `ok fmt=fsl-pamu pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-${hex(d.geometry.apertureEnd)}`;
  return { kind: "ok", line, table: new PamuScriptTable(d, env) };
}

/** `fmt fsl-pamu` (no options): a fresh PAMU and one domain per `fmt`. */
export function createFslPamuFamily(): ScriptFamily {
  return {
    formats: FSL_PAMU_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => (args.length === 0 ? {} : undefined),
    create: (_parsed, env) => createPamu(env),
  };
}
