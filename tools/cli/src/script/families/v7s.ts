/**
 * The `v7s` script family: io-pgtable ARM_V7S behind the kernel-harness protocol
 * (SCRIPT-FORMAT.md §3–§9). Also home of the io-pgtable `fmt` argument parser shared with the
 * DART family (dart.ts), since both accept the same keys with per-format restrictions.
 */
import {
  type Addr,
  and64,
  hex,
  IOMMU_CACHE,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDomain,
  type IommuDomainOps,
  IotlbGather,
  type PhysMem,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import {
  ARM_V7S_L1_ATTR_SHIFT,
  ARM_V7S_L2_ATTR_SHIFT,
  ARM_V7S_PTE_AP_RDONLY,
  ARM_V7S_PTE_AP_UNPRIV,
  ARM_V7S_TEX_MASK,
  ARM_V7S_TEX_SHIFT,
  type ArmV7sIoPgtable,
  armV7sDoSelftests,
  armV7sDumpLines,
  armV7sInitFns,
  armV7sPteIsCont,
  IO_PGTABLE_QUIRK_NO_PERMS,
  type IommuFlushOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
  type IoPgtableOps,
} from "@iommu/io-pgtable";
import { parseHex, parseNum } from "../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable, TableImage } from "../target.js";

// ---------------------------------------------------------------------------------------------
// fmt arguments (§3), shared with dart.ts

/** Quirk names of the `quirks` key and their IO_PGTABLE_QUIRK_* bits (`none` adds nothing). */
const QUIRK_NAMES: Readonly<Record<string, number>> = {
  ns: 1 << 0,
  noperms: 1 << 1,
  mtk_ext: 1 << 3,
  mtk_ttbr_ext: 1 << 4,
  ttbr1: 1 << 5,
  outer_wbwa: 1 << 6,
  hd: 1 << 7,
  s2fwb: 1 << 8,
  nowarn: 1 << 9,
  none: 0,
};
const PTBASE_ALIGN = 0x800_0000;
export const DEFAULT_PTBASE = 0x8000_0000;

/** The io-pgtable `fmt` keys as parsed; absent keys are undefined (defaults are per format). */
export interface IoPgtableFmtArgs {
  /** `granule` / `pgsize` (synonyms where accepted; the last one wins): bytes. */
  granule?: number;
  ias?: number;
  oas?: number;
  /** `pgsizes` (0 = default). */
  pgsizes?: number;
  quirks: number;
  ptbase: number;
  coherent: boolean;
}

const SIZE_WORDS: Readonly<Record<string, number>> = { "4k": 0x1000, "16k": 0x4000, "64k": 0x1_0000 };

/**
 * Parse `fmt <format>`'s key/value list. `allow` says which of `granule`/`pgsize` the format
 * takes (the harness rejects `granule` for v7s and `pgsize` outside DART). Undefined = bad-args.
 */
export function parseIoPgtableFmtArgs(
  args: readonly string[],
  allow: { granule: boolean; pgsize: boolean },
): IoPgtableFmtArgs | undefined {
  const out: IoPgtableFmtArgs = { quirks: 0, ptbase: DEFAULT_PTBASE, coherent: true };
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!;
    if (key === "noncoherent") {
      out.coherent = false;
      continue;
    }
    const val = args[i + 1];
    if (val === undefined) return undefined;
    i++;
    switch (key) {
      case "granule":
      case "pgsize": {
        if (!allow[key]) return undefined;
        const sz = SIZE_WORDS[val.toLowerCase()];
        if (sz === undefined || (key === "pgsize" && sz === 0x1_0000)) return undefined;
        out.granule = sz;
        break;
      }
      case "ias":
      case "oas": {
        const v = parseNum(val);
        if (v === undefined) return undefined;
        out[key] = Number(v);
        break;
      }
      case "pgsizes": {
        const v = parseHex(val);
        if (v === undefined) return undefined;
        out.pgsizes = Number(v);
        break;
      }
      case "quirks": {
        for (const name of val.split(",")) {
          const bit = QUIRK_NAMES[name];
          if (bit === undefined) return undefined;
          out.quirks |= bit;
        }
        break;
      }
      case "ptbase": {
        const v = parseHex(val);
        if (v === undefined) return undefined;
        const n = Number(v);
        if (n % PTBASE_ALIGN !== 0 || n >= 2 ** 52) return undefined;
        out.ptbase = n;
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// shared table plumbing (also used by dart.ts)

/** TLB callbacks of the harness: counted, and checked like the kernel selftest's (§7). */
export class HarnessTlb implements IommuFlushOps {
  flushAll = 0;
  flushWalk = 0;
  addPage = 0;
  bitmap = 0;

  constructor(private readonly counters: IommuCounters) {}

  tlbFlushAll(): void {
    this.flushAll++;
  }

  tlbFlushWalk(_iova: number, size: number): void {
    this.flushWalk++;
    this.check(size);
  }

  tlbAddPage(_gather: IotlbGather | null, _iova: number, granule: number): void {
    this.addPage++;
    this.check(granule);
  }

  private check(size: number): void {
    if (and64(size, this.bitmap) === 0)
      this.counters.warn("tlb sanity check: WARN_ON(!(size & cfg->pgsize_bitmap))");
  }
}

/** A domain over io-pgtable ops, as an io-pgtable-based driver would build it. */
export function ioPgtableDomain(
  ops: IoPgtableOps,
  bitmap: number,
  ias: number,
  counters: IommuCounters,
): IommuDomain {
  const domainOps: IommuDomainOps = {
    name: "io-pgtable",
    mapPages: (_d, iova, paddr, pgsize, pgcount, prot, gfp, mapped) =>
      ops.mapPages(iova, paddr, pgsize, pgcount, prot, gfp, mapped),
    unmapPages: (_d, iova, pgsize, pgcount, gather) => ops.unmapPages(iova, pgsize, pgcount, gather),
    iovaToPhysLength: (_d, iova, out) => ops.iovaToPhysLength(iova, out),
    iovaToPhys: (_d, iova) => ops.iovaToPhys(iova),
  };
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops: domainOps,
    pgsizeBitmap: bitmap,
    geometry: { apertureStart: 0, apertureEnd: 2 ** ias - 1, forceAperture: true },
    counters,
  };
}

/** What every io-pgtable ScriptTable of these families shares: raw ops, stats, teardown. */
export abstract class IoPgtableScriptTable<T extends IoPgtable> implements ScriptTable {
  readonly domain: IommuDomain;
  private readonly gather = new IotlbGather();
  private destroyed = false;

  constructor(
    readonly iop: T,
    private readonly fns: IoPgtableInitFns,
    protected readonly tlb: HarnessTlb,
    protected readonly env: ScriptEnv,
    protected readonly allocator: TableAllocator,
  ) {
    this.domain = ioPgtableDomain(iop.ops, iop.cfg.pgsizeBitmap, iop.cfg.ias, env.counters);
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.iop.ops.mapPages(iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    return this.iop.ops.unmapPages(iova, pgsize, pgcount, this.gather.init());
  }

  phys(iova: Addr): Addr {
    return this.iop.ops.iovaToPhys(iova);
  }

  walk(): string | null {
    return null;
  }

  abstract dump(all: boolean): string[];
  protected abstract get tablesLive(): number;
  protected abstract get tableBytesLive(): number;

  stats(): string {
    return (
      `stats tables_live=${this.tablesLive} table_bytes_live=${hex(this.tableBytesLive)}` +
      ` tables_allocated_total=${this.env.counters.tablesAllocated} tlb_flush_all=${this.tlb.flushAll}` +
      ` tlb_flush_walk=${this.tlb.flushWalk} tlb_add_page=${this.tlb.addPage} warns_total=${this.env.counters.warns}`
    );
  }

  /** free_io_pgtable_ops(), then the page-table memory is reset (§8). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.tlb.tlbFlushAll();
    this.fns.free(this.iop);
    this.allocator.reset();
  }
}

/**
 * Build a cfg, call the format's alloc (the alloc_io_pgtable_ops steps: fmt set first, cfg
 * copied after), and hand back the live io_pgtable or null when the kernel refuses.
 */
export function allocScriptPgtable(
  fns: IoPgtableInitFns,
  fmt: IoPgtableFmt,
  cfg: Omit<IoPgtableCfg, "tlb" | "counters" | "allocator" | "fmt">,
  env: ScriptEnv,
  mem: PhysMem | undefined,
  ptbase: number,
  existingRoot: number | undefined,
): { iop: IoPgtable; tlb: HarnessTlb; allocator: TableAllocator } | null {
  const allocator = new TableAllocator(mem, { base: ptbase, counters: env.counters });
  const tlb = new HarnessTlb(env.counters);
  const full: IoPgtableCfg = {
    ...cfg,
    fmt,
    tlb,
    counters: env.counters,
    allocator,
  };
  if (existingRoot !== undefined) full.existingRoot = existingRoot;
  const cookie = {};
  const iop = fns.alloc(full, cookie);
  if (!iop) {
    allocator.reset();
    return null;
  }
  iop.fmt = fmt;
  iop.cookie = cookie;
  iop.cfg = { ...full };
  tlb.bitmap = full.pgsizeBitmap;
  return { iop, tlb, allocator };
}

// ---------------------------------------------------------------------------------------------
// v7s

const V7S_DEFAULT_BITMAP = 0x111_1000;

class V7sScriptTable extends IoPgtableScriptTable<ArmV7sIoPgtable> {
  dump(): string[] {
    return armV7sDumpLines(this.iop);
  }

  protected get tablesLive(): number {
    return this.iop.tablesLive;
  }

  protected get tableBytesLive(): number {
    return this.iop.tableBytesLive;
  }

  /** The mapping's permissions from its PTE (`arm_v7s_pte_to_prot`'s reading). */
  leafProt(iova: Addr): string | undefined {
    const leaf = this.iop.leafAt(iova);
    if (!leaf) return undefined;
    const { pte, lvl } = leaf;
    // NO_PERMS tables carry no AP/XN bits (MediaTek reuses them for PA bits): full access.
    const noPerms = (this.iop.quirks & IO_PGTABLE_QUIRK_NO_PERMS) !== 0;
    const attr = pte >>> (lvl === 1 ? ARM_V7S_L1_ATTR_SHIFT : ARM_V7S_L2_ATTR_SHIFT);
    let prot = IOMMU_READ;
    if (noPerms || !(attr & ARM_V7S_PTE_AP_RDONLY)) prot |= IOMMU_WRITE;
    if (!noPerms && !(attr & ARM_V7S_PTE_AP_UNPRIV)) prot |= IOMMU_PRIV;
    const tex =
      lvl === 2 && armV7sPteIsCont(pte, 2)
        ? (pte >>> 12) & ARM_V7S_TEX_MASK
        : (attr >>> ARM_V7S_TEX_SHIFT) & ARM_V7S_TEX_MASK;
    if (tex === 0) prot |= IOMMU_MMIO;
    else if (pte & 0x8) prot |= IOMMU_CACHE;
    const xn = lvl === 1 ? pte & 0x10 : armV7sPteIsCont(pte, 2) ? pte & 0x8000 : pte & 0x1;
    if (xn && !noPerms) prot |= IOMMU_NOEXEC;
    return protLetters(prot);
  }
}

/** Prot flags as letters in SCRIPT-FORMAT.md §1 order. */
export function protLetters(prot: number): string {
  const order: Array<[number, string]> = [
    [IOMMU_READ, "r"],
    [IOMMU_WRITE, "w"],
    [IOMMU_CACHE, "c"],
    [IOMMU_NOEXEC, "x"],
    [IOMMU_MMIO, "m"],
    [IOMMU_PRIV, "p"],
  ];
  return order.map(([bit, ch]) => (prot & bit ? ch : "")).join("");
}

function createV7s(parsed: IoPgtableFmtArgs, env: ScriptEnv, image?: TableImage): FmtResult {
  const ias = parsed.ias ?? 32;
  const oas = parsed.oas ?? 32;
  const bitmap = parsed.pgsizes || V7S_DEFAULT_BITMAP;
  const r = allocScriptPgtable(
    armV7sInitFns,
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
  return { kind: "ok", line, table: new V7sScriptTable(iop, armV7sInitFns, r.tlb, env, r.allocator) };
}

/** `fmt v7s`, and the table-less `selftest-v7s`. */
export function createV7sFamily(): ScriptFamily {
  return {
    formats: ["v7s"],
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
