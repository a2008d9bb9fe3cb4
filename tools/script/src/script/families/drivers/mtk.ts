/**
 * drivers/iommu/mtk_iommu_v1.c in the script engine — the `mtk_v1` script family
 * (vectors/drivers/README.md Section B): @iommu/drivers-mtk-iommu-v1
 * behind the driver-harness protocol — `fmt mtk_v1 [ptbase H]` (an M4U probed, a domain
 * allocated and attached: the 4 MiB table sits at ptbase), the harness's range guard (`err oob`
 * for any driver call that would index past the table), `dump` of the flat table and `stats`
 * with the M4U's MMIO accesses.
 */
import {
  type Addr,
  hex,
  type IommuCounters,
  type IommuDomainOps,
  iommuIovaToPhys,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import {
  F_DESC_VALID,
  MTK_V1_ENTRIES,
  MtkIommuV1,
  type MtkIommuV1Domain,
  mtkV1InTable,
} from "@iommu/drivers-mtk-iommu-v1";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex } from "../../parse.js";
import { dropPageOffset } from "../../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const MTK_V1_FMT_NAMES: readonly string[] = ["mtk_v1"];

const DEFAULT_PTBASE = 0x8000_0000;
const PTBASE_ALIGN = 0x800_0000;
/** What the guarded ops return to stop the core's loop at a refused call. */
const EFAULT = -14;

interface MtkFmt {
  readonly ptbase: number;
}

function parseMtkFmt(args: readonly string[]): MtkFmt | undefined {
  let ptbase = DEFAULT_PTBASE;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] !== "ptbase") return undefined;
    const tok = args[i + 1];
    const v = tok === undefined ? undefined : parseHex(tok);
    if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 52) return undefined;
    ptbase = v;
  }
  return { ptbase };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

class MtkScriptTable implements ScriptTable {
  private destroyed = false;
  private refused: string | undefined;
  /** The driver's ops, called directly by the raw commands and through the guard by the core. */
  private readonly driverOps: IommuDomainOps<MtkIommuV1Domain>;

  constructor(
    readonly m4u: MtkIommuV1,
    readonly domain: MtkIommuV1Domain,
    private readonly counters: IommuCounters,
  ) {
    this.driverOps = m4u.ops;
    // The harness's range guard on the core's calls: refuse, stop the loop, report `oob`.
    const ops = this.driverOps;
    const guarded: IommuDomainOps<MtkIommuV1Domain> = {
      ...ops,
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, gfp, mapped) => {
        if (!mtkV1InTable(iova, pgcount)) {
          this.refused = "oob";
          return EFAULT;
        }
        return ops.mapPages(d, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
      },
      unmapPages: (d, iova, pgsize, pgcount, gather) => {
        if (!mtkV1InTable(iova, pgcount)) {
          this.refused = "oob";
          return 0;
        }
        return ops.unmapPages(d, iova, pgsize, pgcount, gather);
      },
    };
    domain.ops = guarded;
  }

  /** The word of a guard refusal inside the last `map`/`unmap`, once. */
  refusal(): string | undefined {
    const r = this.refused;
    this.refused = undefined;
    return r;
  }

  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number | string {
    if (!mtkV1InTable(iova, pgcount)) return "err oob";
    return this.driverOps.mapPages(this.domain, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number | string {
    if (!mtkV1InTable(iova, pgcount)) return "err oob";
    return this.driverOps.unmapPages(this.domain, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr | string {
    if (!mtkV1InTable(iova, 1)) return "err oob";
    // pre-series-phys.ts: the legacy op dropped the page offset.
    return dropPageOffset(iommuIovaToPhys(this.domain, iova));
  }

  walk(): string | null {
    return null;
  }

  /** Section B `dump`: every non-zero descriptor, a leaf when F_DESC_VALID is set. */
  dump(): string[] {
    const d = this.domain;
    const c = d.pgtChunk!;
    const base = (d.pgtPa - c.pa) / 4;
    const out = [`L1 pgt table#0 entries=${MTK_V1_ENTRIES} pa=${hex(d.pgtPa)}`];
    let leaves = 0;
    for (let i = 0; i < MTK_V1_ENTRIES; i++) {
      const e = c.words[base + i]!;
      if (e === 0) continue;
      if (e & F_DESC_VALID) {
        leaves++;
        out.push(`L1 ${i} leaf iova=${hex(i * 0x1000)} size=0x1000 raw=${hex8(e)}`);
      } else out.push(`L1 ${i} invalid raw=${hex8(e)}`);
    }
    out.push(`end tables=1 leaves=${leaves}`);
    return out;
  }

  stats(): string {
    const a = this.domain.allocator;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated} mmio_writes=${this.m4u.mmioWrites}` +
      ` mmio_reads=${this.m4u.mmioReads} rpcit=0 warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.driverOps.free!(this.domain);
    this.domain.allocator.reset();
  }
}

/** Boot plus one client: probe the M4U, allocate a paging domain, attach (the table is allocated). */
function createMtk(parsed: MtkFmt, env: ScriptEnv): FmtResult {
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const m4u = new MtkIommuV1({ allocator });
  const d = m4u.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") return { kind: "refused", line: `err domain_alloc_paging ${d} (ENOMEM)` };
  const ret = m4u.attach(d);
  if (ret) return { kind: "refused", line: `err attach_dev ${ret} (ENOMEM)` };
  m4u.resetMmio();
  const line =
    `ok fmt=mtk_v1 pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0x0 pgt_pa=${hex(d.pgtPa)}` +
    ` pt_base_reg=${hex(m4u.readReg(0))} entries=${MTK_V1_ENTRIES}`;
  return { kind: "ok", line, table: new MtkScriptTable(m4u, d, env.counters) };
}

/** `fmt mtk_v1`: a fresh M4U (driver statics reset) and one attached domain per `fmt`. */
export function createMtkV1Family(): ScriptFamily {
  return {
    formats: MTK_V1_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseMtkFmt(args),
    create: (parsed, env) => createMtk(parsed as MtkFmt, env),
  };
}
