/**
 * The ARM LPAE family of the script engine (SCRIPT-FORMAT.md): formats arm64-s1, arm64-s2,
 * arm32-s1, arm32-s2 and mali over @iommu/io-pgtable, the LPAE `walk`/`stats` lines (`dump`
 * and prot letters are formatted from the table's inspector, ../inspect-text.ts),
 * the harness's TLB callbacks (counting, with the selftest's size sanity checks) and the
 * `selftest` command (a port of the kernel's io-pgtable-arm selftest).
 */
import {
  type Addr,
  GFP_KERNEL,
  hex,
  IotlbGather,
  type PageTableInspector,
  PhysLength,
  PhysMem,
  physOrZero,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import {
  type ArmLpaeIoPgtable,
  allocIoPgtableOps,
  armLpaeDoSelftests,
  createIoPgtableDomain,
  freeIoPgtableOps,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableOps,
  ioPgtableIovaToPhys,
  ioPgtableOpsToPgtable,
} from "@iommu/io-pgtable";
import { leafProtOf, lpaeDumpLines, lpaeWalkLine } from "../inspect-text.js";
import { IovaRanges, isU64Max } from "../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable, TableImage } from "../target.js";
import {
  DEFAULT_PTBASE,
  HarnessTlb,
  PTBASE_ALIGN,
  parseIoPgtableFmtArgs,
  pgsizesOrDefault,
} from "./io-pgtable-harness.js";

const FORMATS: Readonly<Record<string, IoPgtableFmt>> = {
  "arm64-s1": IoPgtableFmt.ARM_64_LPAE_S1,
  "arm64-s2": IoPgtableFmt.ARM_64_LPAE_S2,
  "arm32-s1": IoPgtableFmt.ARM_32_LPAE_S1,
  "arm32-s2": IoPgtableFmt.ARM_32_LPAE_S2,
  mali: IoPgtableFmt.ARM_MALI_LPAE,
};

/** The `fmt` names of the LPAE family. */
export const LPAE_FMT_NAMES: readonly string[] = Object.keys(FORMATS);

/** Default page-size bitmap by granule (SCRIPT-FORMAT.md §3; 4K when no granule is given). */
const GRANULE_BITMAPS: Readonly<Record<number, number>> = {
  4096: 0x40201000,
  16384: 0x2004000,
  65536: 0x20010000,
};

/** A parsed `fmt` line. */
export interface LpaeFmtArgs {
  readonly name: string;
  readonly fmt: IoPgtableFmt;
  readonly pgsizeBitmap: number;
  readonly ias: number;
  readonly oas: number;
  readonly quirks: number;
  readonly ptbase: number;
  readonly coherent: boolean;
}

/** Parse the arguments of `fmt <lpae-format> ...`; undefined = `err bad-args`. */
export function parseLpaeFmt(format: string, args: readonly string[]): LpaeFmtArgs | undefined {
  const fmt = FORMATS[format];
  if (fmt === undefined) return undefined;
  const p = parseIoPgtableFmtArgs(args, { granule: true, pgsize: false });
  if (!p) return undefined;
  return {
    name: format,
    fmt,
    pgsizeBitmap: pgsizesOrDefault(p, GRANULE_BITMAPS[p.granule ?? 0x1000]!),
    ias: p.ias ?? 48,
    oas: p.oas ?? 48,
    quirks: p.quirks,
    ptbase: p.ptbase,
    coherent: p.coherent,
  };
}

/** The `ok fmt=` line fields of an LPAE table. */
function fmtLine(name: string, cfg: IoPgtableCfg, d: ArmLpaeIoPgtable): string {
  const ttbr =
    cfg.armLpaeS1Cfg?.ttbr ?? cfg.armLpaeS2Cfg?.vttbr ?? cfg.armMaliLpaeCfg?.transtab ?? BigInt(d.pgdPa);
  return (
    `ok fmt=${name} pgsize_bitmap=${hex(cfg.pgsizeBitmap)} ias=${cfg.ias} oas=${cfg.oas}` +
    ` start_level=${d.startLevel} levels=${4 - d.startLevel} bits_per_level=${d.bitsPerLevel}` +
    ` pgd_bits=${d.pgdBits} pgd_entries=${2 ** d.pgdBits} granule=${hex(d.granule)} ttbr=${hex(ttbr)}`
  );
}

/** A live LPAE table of the script engine. */
class LpaeTable implements ScriptTable {
  readonly domain;
  /** The one range the table translates; the pre-series walk folded other IOVAs onto it. */
  private readonly reach: IovaRanges;
  /** 2^ias for a lower-half table, else 0: number IOVAs below it need no fold. */
  private readonly lowerLimit: number;
  private readonly lookup = new PhysLength();
  private readonly gather = new IotlbGather();
  private destroyed = false;

  constructor(
    private readonly ops: IoPgtableOps,
    private readonly d: ArmLpaeIoPgtable,
    private readonly tlb: HarnessTlb,
    private readonly allocator: TableAllocator,
    private readonly env: ScriptEnv,
  ) {
    this.domain = createIoPgtableDomain(ops, env.counters);
    this.reach = new IovaRanges(d.translatableRanges);
    const [first, last] = d.translatableRanges[0]!;
    this.lowerLimit = first === 0n ? Number(last) + 1 : 0;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.ops.mapPages(iova, paddr, pgsize, pgcount, prot, GFP_KERNEL, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    // The harness passes a fresh, never-queued gather; neither the format nor the harness TLB
    // writes to it, so one gather serves every call unchanged.
    return this.ops.unmapPages(iova, pgsize, pgcount, this.gather);
  }

  /**
   * The vectors' `phys` (pre-series-phys.ts): the io-pgtable wrapper's answer (`ioPgtableIovaToPhys`:
   * the harness calls the io-pgtable ops, as the kernel's does) where the pre-series walk went
   * (the masked top-level index folds the IOVA onto the table); 2^64 − 1 walks nothing.
   */
  phys(iova: Addr): Addr {
    // bench-walk's loop: a number IOVA inside a lower-half table goes straight to the op.
    if (typeof iova === "number" && iova < this.lowerLimit) {
      const pl = this.lookup;
      this.ops.iovaToPhysLength(iova, pl);
      return physOrZero(pl);
    }
    if (isU64Max(iova)) return 0;
    return ioPgtableIovaToPhys(this.ops, this.reach.fold(iova));
  }

  /** The kernel's `pgtable_walk` op (with its quirks: out-of-range IOVAs alias, 2^64 − 1 walks nothing). */
  walk(iova: Addr): string {
    const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
    const ret = this.ops.pgtableWalk!(iova, wd);
    return lpaeWalkLine(ret, wd.ptes, this.d.startLevel);
  }

  inspector(): PageTableInspector {
    return this.ops.inspect!();
  }

  dump(_all: boolean): string[] {
    return lpaeDumpLines(this.inspector());
  }

  stats(): string {
    const a = this.allocator;
    const t = this.tlb;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${this.env.counters.tablesAllocated} tlb_flush_all=${t.flushAll}` +
      ` tlb_flush_walk=${t.flushWalk} tlb_add_page=${t.addPage} warns_total=${this.env.counters.warns}`
    );
  }

  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  tableMemory(): PhysMem {
    return this.allocator.mem;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    freeIoPgtableOps(this.ops);
    this.allocator.reset();
  }
}

/** The LPAE family, with its page-table memory for one script run. */
export function createLpaeFamily(): ScriptFamily {
  let allocator: TableAllocator | null = null;

  /**
   * The run's page-table memory at `ptbase`, reset (as every successful `fmt` and the selftest
   * reset it). A different `ptbase` starts a new arena; the run's totals live in env.counters.
   */
  const arena = (env: ScriptEnv, ptbase: number): TableAllocator => {
    if (!allocator || allocator.base !== ptbase)
      allocator = new TableAllocator(new PhysMem(), { base: ptbase, counters: env.counters });
    allocator.counters = env.counters;
    allocator.reset();
    return allocator;
  };

  const build = (p: LpaeFmtArgs, env: ScriptEnv, a: TableAllocator, root?: number): FmtResult => {
    const tlb = new HarnessTlb(env.counters);
    const cfg: IoPgtableCfg = {
      quirks: p.quirks,
      pgsizeBitmap: p.pgsizeBitmap,
      ias: p.ias,
      oas: p.oas,
      coherentWalk: p.coherent,
      tlb,
      allocator: a,
      counters: env.counters,
    };
    if (root !== undefined) cfg.existingRoot = root;
    const ops = allocIoPgtableOps(p.fmt, cfg, cfg);
    if (!ops) return { kind: "refused", line: "err alloc" };
    const iop = ioPgtableOpsToPgtable(ops) as ArmLpaeIoPgtable;
    tlb.bitmap = iop.cfg.pgsizeBitmap;
    return { kind: "ok", line: fmtLine(p.name, iop.cfg, iop), table: new LpaeTable(ops, iop, tlb, a, env) };
  };

  return {
    formats: LPAE_FMT_NAMES,
    parseFmt: parseLpaeFmt,
    create: (parsed, env) => {
      const p = parsed as LpaeFmtArgs;
      return build(p, env, arena(env, p.ptbase));
    },
    adopt: (parsed, env, image: TableImage) => {
      const p = parsed as LpaeFmtArgs;
      // New tables go above everything the image holds, so they never overwrite it.
      const ranges = image.mem.ranges();
      const last = ranges[ranges.length - 1];
      const top = last ? last.pa + last.bytes : 0;
      const base = Math.max(p.ptbase, Math.ceil(top / PTBASE_ALIGN) * PTBASE_ALIGN);
      const a = new TableAllocator(image.mem, { base, counters: env.counters });
      return build(p, env, a, image.root);
    },
    command: (name, _args, env, current) => {
      if (name !== "selftest") return undefined;
      current?.destroy();
      const a = arena(env, allocator?.base ?? DEFAULT_PTBASE);
      const before = env.counters.warns;
      const { pass, fail } = armLpaeDoSelftests({
        allocator: a,
        counters: env.counters,
        log: (line) => env.stderr(`selftest: ${line}`),
      });
      a.reset();
      const lines = [
        `selftest: completed with ${pass} PASS ${fail} FAIL warns=${env.counters.warns - before}`,
      ];
      return current ? { lines, destroyed: true } : { lines };
    },
  };
}
