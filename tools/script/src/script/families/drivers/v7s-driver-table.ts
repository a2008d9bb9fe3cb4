/**
 * io-pgtable ARM_V7S tables owned by a driver (mtk_iommu, msm_iommu) in the script engine:
 * the kernel io-pgtable harness's protocol (SCRIPT-FORMAT.md §3–§9, the `v7s` family's
 * output lines) with every command going through the driver's domain ops instead of the
 * bare format — the driver's cfg, its map/unmap wrappers, its iova_to_phys_length — so the
 * io-pgtable vectors replay through the driver's cfg path (msm.ts, mtk-iommu.ts).
 */
import {
  type Addr,
  hex,
  type IommuDomain,
  IotlbGather,
  iommuIotlbSync,
  iommuIovaToPhys,
  type PageTableInspector,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import type { ArmV7sIoPgtable, IoPgtableOps } from "@iommu/io-pgtable";
import { ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { leafProtOf, v7sDumpLines } from "../../inspect-text.js";
import { parseHex } from "../../parse.js";
import { IovaRanges } from "../../pre-series-phys.js";
import type { ScriptEnv, ScriptTable } from "../../target.js";
import { PTBASE_ALIGN } from "../io-pgtable-harness.js";

/** A paging domain on an ARM_V7S io-pgtable (`pgtblOps`), as mtk_iommu and msm build them. */
export type V7sDriverDomain = IommuDomain & { pgtblOps: IoPgtableOps | null };

/** The format's calls into the driver's `iommu_flush_ops` (the harness's `tlb_*` stats). */
export interface TlbCallbackCounts {
  readonly flushAll: number;
  readonly flushWalk: number;
  readonly addPage: number;
}

/** `key value` and `key=value` tokens of a driver `fmt` line; undefined on a dangling key. */
export function fmtPairs(args: readonly string[]): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const tok = args[i]!;
    const eq = tok.indexOf("=");
    if (eq > 0) {
      out.push([tok.slice(0, eq), tok.slice(eq + 1)]);
      continue;
    }
    const v = args[i + 1];
    if (v === undefined) return undefined;
    out.push([tok, v]);
    i++;
  }
  return out;
}

/** The harness's `ptbase` rule (aligned to 128 MiB, below 2^52); undefined when invalid. */
export function parsePtbase(v: string): number | undefined {
  const n = parseHex(v);
  if (n === undefined || typeof n === "bigint" || n % PTBASE_ALIGN !== 0 || n >= 2 ** 52) return undefined;
  return n;
}

/** The `ok fmt=v7s …` line of the v7s family, for the driver's table, plus what built it. */
export function v7sFmtLine(iop: ArmV7sIoPgtable, suffix: string): string {
  const c = iop.cfg;
  return (
    `ok fmt=v7s pgsize_bitmap=${hex(c.pgsizeBitmap)} ias=${c.ias} oas=${c.oas} quirks=${hex(c.quirks)}` +
    ` levels=2 l1_entries=${iop.l1Entries} l2_entries=256 ttbr=${hex(c.armV7sCfg!.ttbr)}${suffix}`
  );
}

/** A driver domain behind the script protocol. */
export class V7sDriverScriptTable implements ScriptTable {
  private readonly gather = new IotlbGather();
  private destroyed = false;
  readonly iop: ArmV7sIoPgtable;
  /** What the pre-series walk folded IOVAs onto: [0, 2^ias). */
  private readonly reach: IovaRanges;

  constructor(
    readonly domain: V7sDriverDomain,
    private readonly env: ScriptEnv,
    private readonly allocator: TableAllocator,
    private readonly tlbCounts: () => TlbCallbackCounts,
    /** Driver teardown: what frees the table (msm: the identity attach; mtk: nothing does). */
    private readonly teardown: () => void,
  ) {
    this.iop = ioPgtableOpsToPgtable(domain.pgtblOps!) as ArmV7sIoPgtable;
    this.reach = new IovaRanges([[0n, (1n << BigInt(this.iop.cfg.ias)) - 1n]]);
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.domain.ops!.mapPages(this.domain, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  /** The driver's unmap_pages into a fresh gather, then `iommu_iotlb_sync()` of it. */
  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const n = this.domain.ops!.unmapPages(this.domain, iova, pgsize, pgcount, this.gather.init());
    iommuIotlbSync(this.domain, this.gather);
    return n;
  }

  /**
   * The vectors' `phys`, as the `v7s` family answers it: `iommu_iova_to_phys()` (the driver's
   * iova_to_phys_length) where the pre-series walk went (pre-series-phys.ts: the L1 fold).
   */
  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, this.reach.fold(iova));
  }

  walk(): string | null {
    return null;
  }

  inspector(): PageTableInspector {
    return this.iop.inspect();
  }

  dump(): string[] {
    return v7sDumpLines(this.inspector());
  }

  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  stats(): string {
    const t = this.tlbCounts();
    return (
      `stats tables_live=${this.iop.tablesLive} table_bytes_live=${hex(this.iop.tableBytesLive)}` +
      ` tables_allocated_total=${this.env.counters.tablesAllocated} tlb_flush_all=${t.flushAll}` +
      ` tlb_flush_walk=${t.flushWalk} tlb_add_page=${t.addPage} warns_total=${this.env.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.teardown();
    this.allocator.reset();
  }
}
