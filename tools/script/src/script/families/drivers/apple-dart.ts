/**
 * drivers/iommu/apple-dart.c in the script engine — `fmt driver=apple-dart ...`: a DART probed
 * from a variant and its PARAMS values, one device attached to a paging domain, and the
 * io-pgtable commands replayed through the driver's domain (its cfg path, its ops and TLB
 * maintenance). The table lines (`ok fmt=`, `dump`) are the APPLE_DART/APPLE_DART2 family's,
 * so io-pgtable vectors whose cfg the driver produces replay unchanged; `info` prints the
 * driver's side (variant, TCR/TTBR registers, TLB invalidations).
 *
 * Options (`key=value`; all optional):
 *
 * | key        | values                              | sets                                             |
 * |------------|-------------------------------------|--------------------------------------------------|
 * | `hw`       | t8103, t8103-usb4, t6000, t8110     | the `compatible` (default t8103)                 |
 * | `pgsize`   | 4k, 16k                             | PARAMS1 page size (default 16k)                  |
 * | `pagesize` | 4k, 16k                             | kernel PAGE_SIZE (default: the DART page size)   |
 * | `va`/`pa`  | bits                                | T8110 PARAMS3 VA/PA width (default 32/42)        |
 * | `sids`     | count                               | T8110 PARAMS4 streams (default 256)              |
 * | `sid`      | n[,n...]                            | the device's streams (default 0)                 |
 * | `bypass`   | 0, 1                                | PARAMS2 bypass support (default 1)               |
 * | `locked`   | 0, 1                                | the firmware lock bit (default 0: 1 refuses)     |
 * | `ptbase`   | hex, 128 MiB aligned                | where table memory starts (default 0x80000000)   |
 */
import {
  type Addr,
  errnoName,
  hex,
  IommuError,
  IotlbGather,
  iommuDomainInspector,
  iommuIovaToPhys,
  type PageTableInspector,
  type SizeOut,
  SZ_4K,
  SZ_16K,
  TableAllocator,
} from "@iommu/core";
import {
  AppleDart,
  type AppleDartDomain,
  type AppleDartMaster,
  type AppleDartOptions,
  type AppleDartVariant,
} from "@iommu/drivers-apple-dart";
import { type AppleDartIoPgtable, IoPgtableFmt, ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { dartDumpLines, leafProtOf } from "../../inspect-text.js";
import { parseHex, parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";
import { DEFAULT_PTBASE, PTBASE_ALIGN } from "../io-pgtable-harness.js";

/** The `fmt` name of the family. */
export const APPLE_DART_FMT_NAMES: readonly string[] = ["apple-dart", "driver=apple-dart"];

const VARIANTS: readonly AppleDartVariant[] = ["t8103", "t8103-usb4", "t6000", "t8110"];
const SIZES: Readonly<Record<string, number>> = { "4k": SZ_4K, "16k": SZ_16K };

/** A parsed `fmt driver=apple-dart` line. */
export interface AppleDartFmt {
  readonly hw: AppleDartOptions;
  readonly sids: readonly number[];
  readonly ptbase: number;
}

/** Parse the options after `fmt driver=apple-dart`; undefined = `err bad-args`. */
export function parseAppleDartFmt(args: readonly string[]): AppleDartFmt | undefined {
  const hw: AppleDartOptions = {};
  let sids: number[] = [0];
  let ptbase = DEFAULT_PTBASE;
  let pageSize: number | undefined;
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) return undefined;
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1).toLowerCase();
    const num = () => {
      const v = parseNum(value);
      return typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
    };
    switch (key) {
      case "hw":
        if (!VARIANTS.includes(value as AppleDartVariant)) return undefined;
        hw.variant = value as AppleDartVariant;
        break;
      case "pgsize":
      case "pagesize": {
        const s = SIZES[value];
        if (s === undefined) return undefined;
        if (key === "pgsize") hw.pgsize = s as typeof SZ_4K | typeof SZ_16K;
        else pageSize = s;
        break;
      }
      case "va":
      case "pa":
      case "sids": {
        const v = num();
        if (v === undefined) return undefined;
        if (key === "va") hw.vaBits = v;
        else if (key === "pa") hw.paBits = v;
        else hw.numSids = v;
        break;
      }
      case "bypass":
      case "locked":
        if (value !== "0" && value !== "1") return undefined;
        if (key === "bypass") hw.bypass = value === "1";
        else hw.locked = value === "1";
        break;
      case "sid": {
        const list = value.split(",").map((s) => parseNum(s));
        if (list.some((v) => typeof v !== "number" || !Number.isSafeInteger(v))) return undefined;
        sids = list as number[];
        break;
      }
      case "ptbase": {
        const v = parseHex(value);
        if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 52)
          return undefined;
        ptbase = v;
        break;
      }
      default:
        return undefined;
    }
  }
  // The kernel a DART is used under: PAGE_SIZE at least the DART's page (Asahi's 16K kernels).
  hw.pageSize = pageSize ?? Math.max(SZ_4K, hw.pgsize ?? SZ_16K);
  return { hw, sids, ptbase };
}

function errLine(ret: number): string {
  return `err ${ret} (${errnoName(ret) ?? "E?"})`;
}

/** A DART, a device on it and the paging domain it is attached to. */
class AppleDartScriptTable implements ScriptTable {
  private readonly gather = new IotlbGather();
  private destroyed = false;

  constructor(
    readonly dart: AppleDart,
    readonly domain: AppleDartDomain,
    private readonly master: AppleDartMaster,
    private readonly env: ScriptEnv,
  ) {}

  private get iop(): AppleDartIoPgtable {
    return ioPgtableOpsToPgtable(this.domain.pgtblOps!) as AppleDartIoPgtable;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, this.gather.init());
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  inspector(): PageTableInspector {
    return iommuDomainInspector(this.domain)!;
  }

  dump(): string[] {
    return dartDumpLines(this.inspector());
  }

  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  /** The io-pgtable stats line; the DART driver gives io-pgtable no flush ops, so no callbacks. */
  stats(): string {
    const iop = this.iop;
    return (
      `stats tables_live=${iop.tablesLive} table_bytes_live=${hex(iop.tableBytesLive)}` +
      ` tables_allocated_total=${this.env.counters.tablesAllocated} tlb_flush_all=0 tlb_flush_walk=0` +
      ` tlb_add_page=0 warns_total=${this.env.counters.warns}`
    );
  }

  /** `info`: the driver's view (variant, probe results, this device's TCR/TTBRs, TLB work). */
  command(name: string, args: readonly string[]): string[] | undefined {
    if (name !== "info" || args.length) return undefined;
    const dart = this.dart;
    const hw = dart.hw;
    const sids = this.master.streams[0]!.sids;
    const regs = sids.map((sid) => {
      const ttbrs = Array.from(dart.ttbr.subarray(sid * hw.ttbrCount, (sid + 1) * hw.ttbrCount), (t) =>
        hex(t),
      );
      return ` sid${sid}_tcr=${hex(dart.tcr[sid]!)} sid${sid}_ttbr=${ttbrs.join(",")}`;
    });
    return [
      `info driver=apple-dart hw=${hw.variant} type=${hw.type} fmt=${hw.fmt === IoPgtableFmt.APPLE_DART2 ? "APPLE_DART2" : "APPLE_DART"}` +
        ` pgsize=${hex(dart.pgsize)} page_size=${hex(dart.pageSize)} ias=${dart.ias} oas=${dart.oas}` +
        ` streams=${dart.numStreams} bypass=${dart.supportsBypass ? 1 : 0} four_level=${dart.fourLevel ? 1 : 0}` +
        ` aperture=0x0-${hex(this.domain.geometry.apertureEnd)}${regs.join("")}` +
        ` tlb_flushes=${dart.tlbFlushes} tlb_commands=${dart.tlbCommands}`,
    ];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.domain.ops!.free!(this.domain);
    this.domain.allocator.reset();
  }
}

/** `fmt driver=apple-dart`: probe, allocate the paging domain for the device, attach it. */
export function createAppleDartFamily(): ScriptFamily {
  return {
    formats: APPLE_DART_FMT_NAMES,
    parseFmt: (_format, args) => parseAppleDartFmt(args),
    create(parsed, env): FmtResult {
      const p = parsed as AppleDartFmt;
      let dart: AppleDart;
      let master: AppleDartMaster;
      try {
        dart = new AppleDart(p.hw);
        master = dart.master(p.sids);
      } catch (e) {
        if (e instanceof IommuError) return { kind: "refused", line: errLine(-e.errno) };
        throw e;
      }
      const allocator = new TableAllocator(undefined, { base: p.ptbase, counters: env.counters });
      const d = dart.domainAllocPagingFlags(0, { master, allocator, counters: env.counters });
      if (typeof d === "number") return { kind: "refused", line: errLine(d) };
      const ret = dart.attachDev(d, master);
      if (ret) {
        d.ops!.free!(d);
        return { kind: "refused", line: errLine(ret) };
      }
      const iop = ioPgtableOpsToPgtable(d.pgtblOps!) as AppleDartIoPgtable;
      const c = iop.cfg;
      const dc = c.appleDartCfg!;
      const format = iop.isDart2 ? "dart2" : "dart1";
      const line =
        `ok fmt=${format} pgsize_bitmap=${hex(c.pgsizeBitmap)} ias=${c.ias} oas=${c.oas} n_levels=${dc.nLevels}` +
        ` n_ttbrs=${dc.nTtbrs} bits_per_level=${iop.bitsPerLevel} ptes_per_table=${iop.ptesPerTable}` +
        ` ttbr=${dc.ttbr.map((t) => hex(t)).join(",")}`;
      return { kind: "ok", line, table: new AppleDartScriptTable(dart, d, master, env) };
    },
  };
}
