/**
 * drivers/iommu/ipmmu-vmsa.c in the script engine — `fmt driver=ipmmu ...`: an IPMMU of a
 * SoC, one device attached to a paging domain (context allocated, ARM_32_LPAE_S1 table built
 * with the driver's cfg: IO_PGTABLE_QUIRK_ARM_NS, ias 32, oas 40, non-coherent walk), and the
 * io-pgtable commands replayed through the driver's domain (its ops and whole-context TLB
 * flushes). The table lines (`ok fmt=`, `walk`, `dump`) are the LPAE family's; `info` prints
 * the driver's side (SoC, features, context registers, flushes).
 *
 * Options (`key=value`; all optional):
 *
 * | key       | values                          | sets                                                |
 * |-----------|---------------------------------|-----------------------------------------------------|
 * | `soc`     | r8a7790 … r8a779h0              | the SoC and its feature table (default r8a7790, Gen2) |
 * | `rev`     | ES1.0, ES2.0, ES3.0, …          | the SoC revision the deny list sees (default ES3.0) |
 * | `utlb`    | n[,n...]                        | the device's micro-TLBs (default 0)                 |
 * | `pci`     | 0, 1                            | a PCI device (default 1) or a platform one          |
 * | `dev`     | name                            | `dev_name()` for the allow list (default 0000:00:00.0) |
 * | `fixnull` | 0, 1                            | the model's fix of the missing NULL checks          |
 * | `ptbase`  | hex, 128 MiB aligned            | where table memory starts (default 0x80000000)      |
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
  TableAllocator,
} from "@iommu/core";
import {
  IMCTR,
  IMTTBCR,
  IMTTLBR0,
  IMTTUBR0,
  IPMMU_SOCS,
  type IpmmuMasterOptions,
  IpmmuVmsa,
  type IpmmuVmsaDomain,
  type IpmmuVmsaOptions,
} from "@iommu/drivers-ipmmu-vmsa";
import { type ArmLpaeIoPgtable, ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { leafProtOf, lpaeDumpLines, lpaeWalkLine } from "../../inspect-text.js";
import { parseHex, parseNum } from "../../parse.js";
import { IovaRanges, isU64Max } from "../../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";
import { DEFAULT_PTBASE, PTBASE_ALIGN } from "../io-pgtable-harness.js";

/** The `fmt` names of the family. */
export const IPMMU_FMT_NAMES: readonly string[] = ["ipmmu", "driver=ipmmu"];

/** A parsed `fmt driver=ipmmu` line. */
export interface IpmmuFmt {
  readonly hw: IpmmuVmsaOptions;
  readonly master: IpmmuMasterOptions;
  readonly ptbase: number;
}

/** Parse the options after `fmt driver=ipmmu`; undefined = `err bad-args`. */
export function parseIpmmuFmt(args: readonly string[]): IpmmuFmt | undefined {
  const hw: IpmmuVmsaOptions = {};
  const master: { utlbs?: number[]; pci?: boolean; name?: string } = {};
  let ptbase = DEFAULT_PTBASE;
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) return undefined;
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    switch (key) {
      case "soc":
        if (!IPMMU_SOCS[value]) return undefined;
        hw.soc = value;
        break;
      case "rev":
        if (!/^ES\d+\.\d+$/.test(value)) return undefined;
        hw.revision = value;
        break;
      case "utlb": {
        const list = value.split(",").map((s) => parseNum(s));
        if (list.some((v) => typeof v !== "number" || !Number.isSafeInteger(v))) return undefined;
        master.utlbs = list as number[];
        break;
      }
      case "pci":
      case "fixnull":
        if (value !== "0" && value !== "1") return undefined;
        if (key === "pci") master.pci = value === "1";
        else hw.fixNullIop = value === "1";
        break;
      case "dev":
        if (value === "") return undefined;
        master.name = value;
        break;
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
  return { hw, master, ptbase };
}

function errLine(ret: number): string {
  return `err ${ret} (${errnoName(ret) ?? "E?"})`;
}

/** The LPAE family's `ok fmt=` line for the driver's table. */
function fmtLine(iop: ArmLpaeIoPgtable): string {
  const cfg = iop.cfg;
  return (
    `ok fmt=arm32-s1 pgsize_bitmap=${hex(cfg.pgsizeBitmap)} ias=${cfg.ias} oas=${cfg.oas}` +
    ` start_level=${iop.startLevel} levels=${4 - iop.startLevel} bits_per_level=${iop.bitsPerLevel}` +
    ` pgd_bits=${iop.pgdBits} pgd_entries=${2 ** iop.pgdBits} granule=${hex(iop.granule)} ttbr=${hex(cfg.armLpaeS1Cfg!.ttbr)}`
  );
}

/** An IPMMU, a device on it and the paging domain it is attached to. */
class IpmmuScriptTable implements ScriptTable {
  private readonly gather = new IotlbGather();
  /** The table's one range; the pre-series walk folded other IOVAs onto it (made on first use). */
  private reach: IovaRanges | undefined;
  private destroyed = false;
  /** env.counters.flushWalk when the table was built (the counters are the run's). */
  private readonly walkBase: number;

  constructor(
    readonly mmu: IpmmuVmsa,
    readonly domain: IpmmuVmsaDomain,
    private readonly env: ScriptEnv,
  ) {
    this.walkBase = env.counters.flushWalk;
  }

  private get iop(): ArmLpaeIoPgtable {
    return ioPgtableOpsToPgtable(this.domain.pgtblOps!) as ArmLpaeIoPgtable;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, this.gather.init());
  }

  /** The vectors' `phys`, as the `lpae` family answers it (pre-series-phys.ts: the LPAE fold). */
  phys(iova: Addr): Addr {
    if (isU64Max(iova)) return 0;
    this.reach ??= new IovaRanges(this.iop.translatableRanges);
    return iommuIovaToPhys(this.domain, this.reach.fold(iova));
  }

  walk(iova: Addr): string {
    const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
    const iop = this.iop;
    const ret = iop.ops.pgtableWalk!(iova, wd);
    return lpaeWalkLine(ret, wd.ptes, iop.startLevel);
  }

  inspector(): PageTableInspector {
    return iommuDomainInspector(this.domain)!;
  }

  dump(): string[] {
    return lpaeDumpLines(this.inspector());
  }

  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  /**
   * The io-pgtable stats line with the callbacks the driver's ipmmu_flush_ops received:
   * tlb_flush_walk requests (tlb_flush_all comes only at free; there is no tlb_add_page).
   */
  stats(): string {
    const a = this.domain.allocator;
    const c = this.env.counters;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${c.tablesAllocated} tlb_flush_all=0 tlb_flush_walk=${c.flushWalk - this.walkBase}` +
      ` tlb_add_page=0 warns_total=${c.warns}`
    );
  }

  /** `info`: SoC, features, the context and its registers, the hardware flushes. */
  command(name: string, args: readonly string[]): string[] | undefined {
    if (name !== "info" || args.length) return undefined;
    const mmu = this.mmu;
    const root = mmu.root;
    const f = mmu.features;
    const ctx = this.domain.contextId;
    return [
      `info driver=ipmmu-vmsa soc=${mmu.soc.socId} family=${mmu.soc.family.replace(/ /g, "_")} compatible=${mmu.compatible}` +
        ` contexts=${mmu.numCtx} free_contexts=${mmu.freeContexts} utlbs=${f.numUtlbs} cache_snoop=${f.cacheSnoop ? 1 : 0}` +
        ` ctx=${ctx} imttbcr=${hex(root.peekCtx(ctx, IMTTBCR))} imttlbr0=${hex(root.peekCtx(ctx, IMTTLBR0))}` +
        ` imttubr0=${hex(root.peekCtx(ctx, IMTTUBR0))} imctr=${hex(root.peekCtx(ctx, IMCTR))}` +
        ` aperture=0x0-${hex(this.domain.geometry.apertureEnd)} tlb_flushes=${root.tlbFlushes}`,
    ];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.domain.ops!.free!(this.domain);
    this.domain.allocator.reset();
  }
}

/** `fmt driver=ipmmu`: probe, allocate a paging domain, attach the device (first attach builds the table). */
export function createIpmmuFamily(): ScriptFamily {
  return {
    formats: IPMMU_FMT_NAMES,
    parseFmt: (_format, args) => parseIpmmuFmt(args),
    create(parsed, env): FmtResult {
      const p = parsed as IpmmuFmt;
      let mmu: IpmmuVmsa;
      let master: ReturnType<IpmmuVmsa["master"]>;
      try {
        mmu = new IpmmuVmsa(p.hw);
        master = mmu.master(p.master);
      } catch (e) {
        if (e instanceof IommuError) return { kind: "refused", line: errLine(-e.errno) };
        throw e;
      }
      const allocator = new TableAllocator(undefined, { base: p.ptbase, counters: env.counters });
      const d = mmu.domainAllocPagingFlags(0, { allocator, counters: env.counters });
      if (typeof d === "number") return { kind: "refused", line: errLine(d) };
      const ret = mmu.attachDev(d, master);
      if (ret) {
        d.ops!.free!(d);
        return { kind: "refused", line: errLine(ret) };
      }
      const iop = ioPgtableOpsToPgtable(d.pgtblOps!) as ArmLpaeIoPgtable;
      return { kind: "ok", line: fmtLine(iop), table: new IpmmuScriptTable(mmu, d, env) };
    },
  };
}
