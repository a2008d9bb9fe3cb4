/**
 * The generic_pt script family: `fmt amdv1|vtdss|x86_64|riscv` and the generic_pt dialect of
 * the kernel-harness protocol (vectors/generic-pt/README.md): walk, dump (contig=, `dump all`),
 * stats, info, trace on/off (the unmap gather suffix) and failalloc. `walk`, `dump` and prot
 * letters are the table's inspector (`PtInspector`) formatted by ../inspect-text.ts.
 */
import {
  type Addr,
  hex,
  type IommuDomainOps,
  IotlbGather,
  PhysLength,
  type PhysMem,
  physOrZero,
  type SizeOut,
  TableAllocator,
  toBigInt,
} from "@iommu/core";
import {
  featureBit,
  featureList,
  PT_FEAT_DMA_INCOHERENT,
  PT_FORMAT_DEFAULTS,
  PT_FORMAT_NAMES,
  PT_FORMATS,
  PtDomain,
  type PtFormat,
  type PtFormatName,
  type PtHwInfoField,
  PtInspector,
  type PtIommu,
  type PtTable,
  ptIommuInit,
} from "@iommu/generic-pt";
import { formatErrno } from "../errno-names.js";
import { genericPtDumpLines, genericPtWalkLine, leafProtOf } from "../inspect-text.js";
import { parseNum } from "../parse.js";
import { GENERIC_PT_ERANGE_PHYS, IovaRanges } from "../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable, TableImage } from "../target.js";

const PTBASE = 0x8000_0000;

/** A generic_pt domain whose ops the script table wraps. */
export type PtScriptDomain = PtIommu & { ops: IommuDomainOps<PtIommu> };

interface GenericPtFmtArgs {
  format: PtFormatName;
  features: number;
  vaBits: number;
  oaBits: number;
  /** undefined = the format's default. */
  level: number | undefined;
}

function smallNum(tok: string | undefined): number | undefined {
  if (tok === undefined) return undefined;
  const v = parseNum(tok);
  if (v === undefined) return undefined;
  return typeof v === "bigint" ? 0x1_0000_0000 : v;
}

function parseFeatures(fmt: PtFormat, tok: string): number | undefined {
  if (tok === "none") return 0;
  if (/^[0-9]/.test(tok)) {
    const v = parseNum(tok);
    if (v === undefined || typeof v === "bigint" || v > 0xffff_ffff) return undefined;
    return v >>> 0;
  }
  let f = 0;
  for (const name of tok.split(",")) {
    const b = featureBit(fmt, name);
    if (b < 0) return undefined;
    f |= 1 << b;
  }
  return f >>> 0;
}

/** `fmt <f> [va_bits N] [oa_bits N] [level N] [features a,b|none|0xN] [+feat] [-feat]` */
export function parseGenericPtFmt(
  format: string,
  args: readonly string[],
  formats: readonly PtFormatName[] = PT_FORMAT_NAMES,
): GenericPtFmtArgs | undefined {
  if (!(formats as readonly string[]).includes(format)) return undefined;
  const name = format as PtFormatName;
  const fmt = PT_FORMATS[name];
  const d = PT_FORMAT_DEFAULTS[name];
  const out: GenericPtFmtArgs = {
    format: name,
    features: d.features,
    vaBits: d.vaBits,
    oaBits: d.oaBits,
    level: d.level,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "va_bits" || a === "oa_bits" || a === "level") {
      const v = smallNum(args[++i]);
      if (v === undefined) return undefined;
      if (a === "va_bits") out.vaBits = v;
      else if (a === "oa_bits") out.oaBits = v;
      else out.level = v;
    } else if (a === "features") {
      const t = args[++i];
      if (t === undefined) return undefined;
      const f = parseFeatures(fmt, t);
      if (f === undefined) return undefined;
      out.features = f;
    } else if ((a[0] === "+" || a[0] === "-") && a.length > 1) {
      const b = featureBit(fmt, a.slice(1));
      if (b < 0) return undefined;
      out.features = (a[0] === "+" ? out.features | (1 << b) : out.features & ~(1 << b)) >>> 0;
    } else return undefined;
  }
  return out;
}

function featuresText(fmt: PtFormat, f: number): string {
  return `${hex(f >>> 0)}(${featureList(fmt, f)})`;
}

function hwText(fields: readonly PtHwInfoField[]): string {
  return fields.map((h) => `${h.name}=${h.hex ? hex(h.value) : h.value}`).join(" ");
}

/** The iotlb gather as the harness prints it: inclusive end, empty = ULONG_MAX-0. */
function gatherText(start: number, endExcl: number): string {
  const s = start >= 2 ** 64 ? "0xffffffffffffffff" : hex(toBigInt(start));
  const e = endExcl === 0 ? "0x0" : hex(toBigInt(endExcl) - 1n);
  return ` gather=${s}-${e}`;
}

/** A generic_pt table as a script table: a bare format's domain, or a driver's (drivers/intel.ts, drivers/amd.ts). */
export class GenericPtScriptTable implements ScriptTable {
  readonly domain: PtScriptDomain;
  readonly pt: PtTable;
  private readonly alloc: TableAllocator;
  private readonly env: ScriptEnv;
  /** A kernel unmap_pages ran since the last iotlb_sync (core skips the op for an empty gather). */
  private pendingSync = false;
  private lastGatherStart = 2 ** 64;
  private lastGatherEnd = 0;
  private readonly rawGather = new IotlbGather();
  private insp: PtInspector | undefined;
  /** The table's translatable ranges, for `phys` (pre-series-phys.ts). */
  private reach: IovaRanges;
  private readonly lookup = new PhysLength();

  constructor(
    domain: PtScriptDomain,
    alloc: TableAllocator,
    env: ScriptEnv,
    private readonly adopted = false,
  ) {
    // The gather bounds take doubles (≥ 2^31): start them as doubles so this object's hidden
    // class never changes under optimised code (see @iommu/testing sameHiddenClass).
    this.lastGatherEnd = 0.5;
    this.lastGatherEnd = 0;
    this.domain = domain;
    this.pt = domain.pt;
    this.reach = new IovaRanges(domain.pt.translatableRanges);
    this.alloc = alloc;
    this.env = env;
    // Wrap the format's ops so the harness's iotlb_sync accounting sees every sync.
    const base = domain.ops;
    const ops: IommuDomainOps<PtIommu> = {
      ...base,
      unmapPages: (d, iova, pgsize, pgcount, gather) => {
        this.pendingSync = true;
        return base.unmapPages(d, iova, pgsize, pgcount, gather);
      },
      iotlbSync: (d, gather) => {
        this.captureGather(gather);
        this.pendingSync = false;
        base.iotlbSync?.(d, gather);
      },
    };
    domain.ops = ops;
  }

  private captureGather(g: IotlbGather): void {
    this.lastGatherStart = g.start;
    this.lastGatherEnd = g.endExcl;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.domain.ops.mapPages(this.domain, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const g = this.rawGather.init();
    const n = this.pt.unmapPages(iova, pgsize, pgcount, g);
    this.captureGather(g);
    this.env.counters.syncs++;
    // The domain's iotlb_sync: the table's own for a bare format, the driver's flush otherwise.
    this.domain.ops.iotlbSync?.(this.domain, g);
    g.init();
    this.pendingSync = false;
    return n;
  }

  /** The vectors' `phys` (pre-series-phys.ts): the wrapper's answer; -ERANGE outside the top range. */
  phys(iova: Addr): Addr {
    // The wrapper's answer (`iommu_iova_to_phys()` without its walk count: the harness calls the
    // table's op, as the kernel's does).
    const pl = this.lookup;
    this.pt.iovaToPhysLength(iova, pl);
    const p = physOrZero(pl);
    if (p !== 0) return p;
    // Unmapped (or physical 0): outside the top range the pre-series op answered -ERANGE. The
    // ranges change when an amdv1 table grows its top.
    if (this.reach.ranges !== this.pt.translatableRanges)
      this.reach = new IovaRanges(this.pt.translatableRanges);
    return this.reach.contains(iova) ? 0 : GENERIC_PT_ERANGE_PHYS;
  }

  /** The table's inspector (live: it reads the table as it is at each call). */
  inspector(): PtInspector {
    this.insp ??= new PtInspector(this.pt);
    return this.insp;
  }

  /** The harness's walk (generic_pt has no pgtable_walk op): the inspector's walk. */
  walk(iova: Addr): string | null {
    return genericPtWalkLine(this.inspector(), iova);
  }

  dump(all: boolean): string[] {
    return genericPtDumpLines(this.inspector(), all);
  }

  stats(): string {
    const pt = this.pt;
    const c = this.env.counters;
    let inc = "";
    if (pt.feature(PT_FEAT_DMA_INCOHERENT)) {
      const i = pt.incoherent;
      inc = ` incoherent_start=${i.start} incoherent_flush=${i.flush} incoherent_flush_bytes=${hex(i.flushBytes)} incoherent_stop=${i.stop}`;
    }
    return (
      `stats tables_live=${this.alloc.liveCount} table_bytes_live=${hex(this.alloc.liveBytes)}` +
      ` tables_allocated_total=${c.tablesAllocated} tables_freed_total=${c.tablesFreed}` +
      ` iotlb_sync=${pt.syncCount} top_level=${pt.topLevel} top_changes=${pt.topChanges}${inc}` +
      ` warns_total=${c.warns}`
    );
  }

  unmapSuffix(): string {
    if (this.pendingSync) {
      // iommu_unmap() synced a gather the core found empty: the call still happened.
      this.pt.syncCount++;
      this.pendingSync = false;
      this.lastGatherStart = 2 ** 64;
      this.lastGatherEnd = 0;
    }
    const s =
      this.env.session.get("trace") === "on" ? gatherText(this.lastGatherStart, this.lastGatherEnd) : "";
    this.lastGatherStart = 2 ** 64;
    this.lastGatherEnd = 0;
    return s;
  }

  command(name: string, args: readonly string[]): string[] | undefined {
    if (name === "info") {
      const pt = this.pt;
      return [
        `info top_level=${pt.topLevel} levels=${pt.topLevel + 1} va_bits=${pt.maxVasz} oa_bits=${pt.maxOasz}` +
          ` pgsize_bitmap=${hex(pt.pgsizeBitmap)} va_start=${hex(this.domain.geometry.apertureStart)}` +
          ` va_end=${hex(this.domain.geometry.apertureEnd)} ${hwText(pt.hwInfo())}`,
      ];
    }
    if (name === "failalloc") {
      const n = args.length === 1 ? smallNum(args[0]) : undefined;
      if (n === undefined) return ["err bad-args"];
      this.alloc.failNth(n);
      return [`ok failalloc=${n}`];
    }
    return undefined;
  }

  /** The leaf's permissions: the format's attributes-from-entry, as the inspector reports them. */
  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  tableMemory(): PhysMem {
    return this.alloc.mem;
  }

  destroy(): void {
    this.pt.deinit();
    if (!this.adopted) this.alloc.reset();
  }
}

function createTable(p: GenericPtFmtArgs, env: ScriptEnv, image?: TableImage): FmtResult {
  const fmt = PT_FORMATS[p.format];
  const alloc = new TableAllocator(image?.mem, { base: PTBASE, counters: env.counters });
  const r = ptIommuInit(
    fmt,
    { features: p.features, vaBits: p.vaBits, oaBits: p.oaBits, level: p.level },
    alloc,
    env.counters,
    { log: (text) => env.stderr(text) },
    image?.root,
  );
  if (typeof r === "number") {
    const level = p.level ?? -1;
    return {
      kind: "refused",
      line:
        `err ${formatErrno(r)} fmt=${p.format} va_bits=${p.vaBits} oa_bits=${p.oaBits} level=${level}` +
        ` features=${featuresText(fmt, p.features)}`,
    };
  }
  const domain = PtDomain.of(r);
  const pt = domain.pt;
  const g = domain.geometry;
  const line =
    `ok fmt=${p.format} pgsize_bitmap=${hex(pt.pgsizeBitmap)} va_bits=${pt.maxVasz} oa_bits=${pt.maxOasz}` +
    ` top_level=${pt.topLevel} levels=${pt.topLevel + 1} va_start=${hex(g.apertureStart)} va_end=${hex(g.apertureEnd)}` +
    ` features=${featuresText(fmt, pt.features)} ${hwText(pt.hwInfo())}`;
  return { kind: "ok", line, table: new GenericPtScriptTable(domain, alloc, env, image !== undefined) };
}

/** `fmt amdv1|vtdss|x86_64|riscv`, or only the given formats. */
export function createGenericPtFamily(formats: readonly PtFormatName[] = PT_FORMAT_NAMES): ScriptFamily {
  return {
    formats,
    parseFmt(format, args) {
      return parseGenericPtFmt(format, args, formats);
    },
    create(parsed, env) {
      return createTable(parsed as GenericPtFmtArgs, env);
    },
    adopt(parsed, env, image) {
      return createTable(parsed as GenericPtFmtArgs, env, image);
    },
    // `trace on|off` is a setting of the harness process: it may come before any `fmt` and
    // stays across tables (vectors/generic-pt/README.md).
    command(name, args, env) {
      if (name !== "trace") return undefined;
      if (args.length !== 1 || (args[0] !== "on" && args[0] !== "off")) return { lines: ["err bad-args"] };
      env.session.set("trace", args[0]);
      return { lines: [`ok trace=${args[0]}`] };
    },
  };
}
