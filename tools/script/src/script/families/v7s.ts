/**
 * The `v7s` script family: io-pgtable ARM_V7S behind the kernel-harness protocol
 * (SCRIPT-FORMAT.md §3–§9). Also home of the io-pgtable `fmt` argument parser shared with the
 * DART family (dart.ts), since both accept the same keys with per-format restrictions.
 */
import {
  type Addr,
  hex,
  type IommuDomain,
  IotlbGather,
  type PageTableInspector,
  type PhysMem,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import {
  type ArmV7sIoPgtable,
  allocIoPgtableOps,
  armV7sDoSelftests,
  createIoPgtableDomain,
  freeIoPgtableOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  ioPgtableIovaToPhys,
  ioPgtableOpsToPgtable,
} from "@iommu/io-pgtable";
import { leafProtOf, v7sDumpLines } from "../inspect-text.js";
import { IovaRanges } from "../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable, TableImage } from "../target.js";
import {
  DEFAULT_PTBASE,
  HarnessTlb,
  type IoPgtableFmtArgs,
  parseIoPgtableFmtArgs,
  pgsizesOrDefault,
} from "./io-pgtable-harness.js";

// ---------------------------------------------------------------------------------------------
// shared table plumbing (also used by dart.ts)

/** A format that keeps the harness's table accounting (§7: tables_live, table_bytes_live). */
type CountedIoPgtable = IoPgtable & { readonly tablesLive: number; readonly tableBytesLive: number };

/**
 * What every io-pgtable ScriptTable of these families shares: raw ops, stats, teardown, the
 * inspector and the leaf prot letters read from it.
 */
export abstract class IoPgtableScriptTable<T extends CountedIoPgtable> implements ScriptTable {
  readonly domain: IommuDomain;
  private readonly gather = new IotlbGather();
  private destroyed = false;

  constructor(
    readonly iop: T,
    protected readonly tlb: HarnessTlb,
    protected readonly env: ScriptEnv,
    protected readonly allocator: TableAllocator,
  ) {
    this.domain = createIoPgtableDomain(iop.ops, env.counters);
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.iop.ops.mapPages(iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    return this.iop.ops.unmapPages(iova, pgsize, pgcount, this.gather.init());
  }

  /** The vectors' `phys`: `ioPgtableIovaToPhys` (the io-pgtable wrapper) at {@link legacyIova} (pre-series-phys.ts). */
  phys(iova: Addr): Addr {
    return ioPgtableIovaToPhys(this.iop.ops, this.legacyIova(iova));
  }

  /** Where the pre-series `iova_to_phys` walked for `iova` (the IOVA itself unless overridden). */
  protected legacyIova(iova: Addr): Addr {
    return iova;
  }

  walk(): string | null {
    return null;
  }

  inspector(): PageTableInspector {
    return this.iop.ops.inspect!();
  }

  abstract dump(all: boolean): string[];

  /** The permissions of the leaf translating `iova` (the format's attributes-from-entry). */
  leafProt(iova: Addr): string | undefined {
    return leafProtOf(this.inspector(), iova);
  }

  stats(): string {
    return (
      `stats tables_live=${this.iop.tablesLive} table_bytes_live=${hex(this.iop.tableBytesLive)}` +
      ` tables_allocated_total=${this.env.counters.tablesAllocated} tlb_flush_all=${this.tlb.flushAll}` +
      ` tlb_flush_walk=${this.tlb.flushWalk} tlb_add_page=${this.tlb.addPage} warns_total=${this.env.counters.warns}`
    );
  }

  /** free_io_pgtable_ops(), then the page-table memory is reset (§8). */
  tableMemory(): PhysMem {
    return this.allocator.mem;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    freeIoPgtableOps(this.iop.ops); // flushes the whole TLB, then the format frees its tables
    this.allocator.reset();
  }
}

/**
 * Build the harness's cfg (its TLB callbacks, an allocator over the arena at `ptbase` or over
 * an image's memory) and call alloc_io_pgtable_ops(); null when the kernel refuses.
 */
export function allocScriptPgtable(
  fmt: IoPgtableFmt,
  cfg: Omit<IoPgtableCfg, "tlb" | "counters" | "allocator" | "fmt">,
  env: ScriptEnv,
  mem: PhysMem | undefined,
  ptbase: number,
  existingRoot: number | undefined,
): { iop: IoPgtable; tlb: HarnessTlb; allocator: TableAllocator } | null {
  const allocator = new TableAllocator(mem, { base: ptbase, counters: env.counters });
  const tlb = new HarnessTlb(env.counters);
  const full: IoPgtableCfg = { ...cfg, tlb, counters: env.counters, allocator };
  if (existingRoot !== undefined) full.existingRoot = existingRoot;
  const ops = allocIoPgtableOps(fmt, full, {});
  if (!ops) {
    allocator.reset();
    return null;
  }
  tlb.bitmap = full.pgsizeBitmap;
  return { iop: ioPgtableOpsToPgtable(ops), tlb, allocator };
}

// ---------------------------------------------------------------------------------------------
// v7s

const V7S_DEFAULT_BITMAP = 0x111_1000;

class V7sScriptTable extends IoPgtableScriptTable<ArmV7sIoPgtable> {
  private readonly reach = new IovaRanges([[0n, (1n << BigInt(this.iop.cfg.ias)) - 1n]]);

  /** pre-series-phys.ts: the L1 index mask folds the IOVA onto [0, 2^ias). */
  protected override legacyIova(iova: Addr): Addr {
    return this.reach.fold(iova);
  }

  dump(): string[] {
    return v7sDumpLines(this.inspector());
  }
}

function createV7s(parsed: IoPgtableFmtArgs, env: ScriptEnv, image?: TableImage): FmtResult {
  const ias = parsed.ias ?? 32;
  const oas = parsed.oas ?? 32;
  const bitmap = pgsizesOrDefault(parsed, V7S_DEFAULT_BITMAP);
  const r = allocScriptPgtable(
    IoPgtableFmt.ARM_V7S,
    { quirks: parsed.quirks, pgsizeBitmap: bitmap, ias, oas, coherentWalk: parsed.coherent },
    env,
    image?.mem,
    parsed.ptbase,
    image?.root,
  );
  if (!r) return { kind: "refused", line: "err alloc" };
  const iop = r.iop as ArmV7sIoPgtable;
  const c = iop.cfg;
  const line =
    `ok fmt=v7s pgsize_bitmap=${hex(c.pgsizeBitmap)} ias=${c.ias} oas=${c.oas} quirks=${hex(c.quirks)}` +
    ` levels=2 l1_entries=${iop.l1Entries} l2_entries=256 ttbr=${hex(c.armV7sCfg!.ttbr)}`;
  return { kind: "ok", line, table: new V7sScriptTable(iop, r.tlb, env, r.allocator) };
}

/** The `fmt` names of the v7s family. */
export const V7S_FMT_NAMES: readonly string[] = ["v7s"];

/** `fmt v7s`, and the table-less `selftest-v7s`. */
export function createV7sFamily(): ScriptFamily {
  return {
    formats: V7S_FMT_NAMES,
    parseFmt(_format, args) {
      const parsed = parseIoPgtableFmtArgs(args, { granule: false, pgsize: false });
      // A harness check, not the kernel's (it would compute 1 << (ias - 20)): like the
      // harness's other own checks (granule, ptbase) it is a parse error, not `err alloc`.
      if (parsed?.ias !== undefined && parsed.ias < 20) return undefined;
      return parsed;
    },
    create(parsed, env) {
      return createV7s(parsed as IoPgtableFmtArgs, env);
    },
    adopt(parsed, env, image) {
      return createV7s(parsed as IoPgtableFmtArgs, env, image);
    },
    command(name, _args, env, current) {
      if (name !== "selftest-v7s") return undefined;
      current?.destroy();
      const before = env.counters.warns;
      const allocator = new TableAllocator(undefined, { base: DEFAULT_PTBASE, counters: env.counters });
      const { ret } = armV7sDoSelftests(allocator, env.counters);
      allocator.reset();
      const warns = env.counters.warns - before;
      return {
        lines: [`selftest-v7s: ${ret === 0 ? "PASS" : "FAIL"} ret=${ret} warns=${warns}`],
        destroyed: true,
      };
    },
  };
}
