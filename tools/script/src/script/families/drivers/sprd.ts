/**
 * The `sprd` script family (drivers/README.md Section A): @iommu/drivers-sprd behind the
 * driver-harness protocol — `fmt sprd [ex|vau]`, raw calls refused with `err unsafe` for
 * counts past the table, `dump` of the flat table and the arena `stats` (fault page included).
 */
import {
  type Addr,
  hex,
  type IommuCounters,
  iommuIovaToPhys,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import { type SprdDomain, SprdIommu, type SprdIommuVersion } from "@iommu/drivers-sprd";
import { DRIVER_HARNESS } from "../../harness.js";
import { sprdPreSeriesPhys } from "../../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const SPRD_FMT_NAMES: readonly string[] = ["sprd"];

const PTBASE = 0x8000_0000;

interface SprdFmt {
  readonly error?: true;
  readonly version: SprdIommuVersion;
}

function parseSprdFmt(args: readonly string[]): SprdFmt {
  let version: SprdIommuVersion = "ex";
  for (const a of args) {
    if (a === "ex" || a === "vau") version = a;
    else return { error: true, version };
  }
  return { version };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

class SprdScriptTable implements ScriptTable {
  private destroyed = false;

  constructor(
    readonly iommu: SprdIommu,
    readonly domain: SprdDomain,
    private readonly counters: IommuCounters,
  ) {}

  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number | string {
    if (pgcount > 65536) return "err unsafe"; // Section A §5: the driver would write past its table
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number | string {
    if (pgcount > 65536) return "err unsafe";
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    // pre-series-phys.ts: an empty entry in the aperture answered the page offset.
    const d = this.domain;
    return sprdPreSeriesPhys(iommuIovaToPhys(d, iova), iova, d.geometry);
  }

  walk(): string | null {
    return null;
  }

  dump(): string[] {
    const d = this.domain;
    const out = [`L1 pgt table#0 pa=${hex(d.pgt)} entries=65536`];
    let leaves = 0;
    d.ops!.inspect!(d)!.visit((e) => {
      leaves++;
      out.push(`L1 ${e.index} leaf iova=${hex(Number(e.iova))} size=0x1000 raw=${hex8(Number(e.raw))}`);
    });
    out.push(`end tables=1 leaves=${leaves} invalid=0`);
    return out;
  }

  stats(): string {
    const a = this.iommu.allocator;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated} warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.domain.ops!.free!(this.domain);
    this.iommu.allocator.reset();
  }
}

function createSprd(parsed: SprdFmt, env: ScriptEnv): FmtResult {
  if (parsed.error) return { kind: "refused", line: "err bad-fmt" };
  const allocator = new TableAllocator(undefined, { base: PTBASE });
  const iommu = new SprdIommu({ version: parsed.version, allocator, counters: env.counters });
  const d = iommu.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") {
    allocator.reset();
    return { kind: "refused", line: `err attach ${d} (ENOMEM)` };
  }
  const line =
    `ok fmt=sprd version=${parsed.version} pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xfffffff` +
    ` pgt=${hex(d.pgt)} prot_page=${hex(iommu.protPage)}`;
  return { kind: "ok", line, table: new SprdScriptTable(iommu, d, env.counters) };
}

/** `fmt sprd`: a fresh IOMMU (driver statics reset) and one attached domain per `fmt`. */
export function createSprdFamily(): ScriptFamily {
  return {
    formats: SPRD_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseSprdFmt(args),
    create: (parsed, env) => createSprd(parsed as SprdFmt, env),
  };
}
