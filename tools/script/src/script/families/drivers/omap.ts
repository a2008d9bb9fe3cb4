/**
 * drivers/iommu/omap-iommu.c in the script engine — the `omap` script family
 * (vectors/drivers/README.md Section C): @iommu/drivers-omap behind
 * the driver-harness protocol — `fmt omap [soc omap4|dra7-dsp] [mmus 1|2] [tlb 8|32]
 * [ptbase H]` (the MMUs probed, a paging domain allocated and attached to the client), the
 * harness's `err unsafe` guard (a 4 KiB / aligned 64 KiB map onto an L1 section or
 * supersection, which the driver would write through), `dump` of every MMU's tables and
 * `stats` counting tables as the driver's allocations (16 KiB L1, 1 KiB L2 objects).
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
  IOPGD_TABLE_SIZE,
  IOPTE_TABLE_SIZE,
  iopgdIsTable,
  iopgdPagePaddr,
  MMU_CNTL,
  MMU_GP_REG,
  MMU_IRQENABLE,
  MMU_TTB,
  type OmapDomain,
  OmapIommu,
  type OmapSoc,
  PTRS_PER_IOPGD,
  PTRS_PER_IOPTE,
} from "@iommu/drivers-omap";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex, parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const OMAP_FMT_NAMES: readonly string[] = ["omap"];

const DEFAULT_PTBASE = 0x8000_0000;
const PTBASE_ALIGN = 0x800_0000;
/** What the guarded ops return to stop the core's loop at a refused call. */
const EFAULT = -14;

interface OmapFmt {
  readonly soc: OmapSoc;
  readonly mmus: 1 | 2;
  readonly tlb: 8 | 32;
  readonly ptbase: number;
}

function parseOmapFmt(args: readonly string[]): OmapFmt | undefined {
  let soc: OmapSoc = "omap4";
  let mmus: 1 | 2 = 1;
  let tlb: 8 | 32 = 32;
  let ptbase = DEFAULT_PTBASE;
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const tok = args[i + 1];
    if (tok === undefined) return undefined;
    if (key === "soc") {
      if (tok !== "omap4" && tok !== "dra7-dsp") return undefined;
      soc = tok;
    } else if (key === "mmus" || key === "tlb") {
      const v = parseNum(tok);
      if (key === "mmus" && (v === 1 || v === 2)) mmus = v;
      else if (key === "tlb" && (v === 8 || v === 32)) tlb = v;
      else return undefined;
    } else if (key === "ptbase") {
      const v = parseHex(tok);
      // Table PAs live in 32-bit descriptors and the 32-bit MMU_TTB register.
      if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 32)
        return undefined;
      ptbase = v;
    } else return undefined;
  }
  return { soc, mmus, tlb, ptbase };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

/** The u32 IOVA / PA the driver keeps. */
function lo32(a: Addr): number {
  return Number(BigInt(a) & 0xffff_ffffn);
}

class OmapScriptTable implements ScriptTable {
  private destroyed = false;
  private refused: string | undefined;
  private readonly driverOps: IommuDomainOps<OmapDomain>;

  constructor(
    readonly omap: OmapIommu,
    readonly domain: OmapDomain,
    private readonly counters: IommuCounters,
  ) {
    this.driverOps = omap.ops;
    const ops = this.driverOps;
    const guarded: IommuDomainOps<OmapDomain> = {
      ...ops,
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, gfp, mapped) => {
        if (this.unsafe(iova, paddr, pgsize)) {
          this.refused = "unsafe";
          return EFAULT;
        }
        return ops.mapPages(d, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
      },
    };
    domain.ops = guarded;
  }

  /**
   * Section C `err unsafe`: a 4 KiB or 64 KiB call whose L1 slot (on any MMU) is a section or
   * supersection — except a 64 KiB call the driver rejects for alignment before writing.
   */
  private unsafe(iova: Addr, paddr: Addr, pgsize: number): boolean {
    if (pgsize !== 0x1000 && pgsize !== 0x1_0000) return false;
    const da = lo32(iova);
    if (pgsize === 0x1_0000 && ((da | lo32(paddr)) & 0xffff) !== 0) return false;
    for (const x of this.domain.iommus) {
      const c = this.domain.allocator.mem.chunk(x.pgtable)!;
      const e = c.words[(x.pgtable - c.pa) / 4 + (da >>> 20)]!;
      if (e !== 0 && !iopgdIsTable(e)) return true;
    }
    return false;
  }

  /** The word of a guard refusal inside the last `map`, once. */
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
    if (this.unsafe(iova, paddr, pgsize)) return "err unsafe";
    return this.driverOps.mapPages(this.domain, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    return this.driverOps.unmapPages(this.domain, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  /** Section C `dump`: one root per MMU, its L1 entries, each L2 table's entries after its line. */
  dump(): string[] {
    const mem = this.domain.allocator.mem;
    const out: string[] = [];
    let tables = 0;
    let leaves = 0;
    this.domain.iommus.forEach((x, k) => {
      out.push(`L1 pgd table#${tables++} mmu=${k} entries=${PTRS_PER_IOPGD} pa=${hex(x.pgtable)}`);
      const c = mem.chunk(x.pgtable)!;
      const b = (x.pgtable - c.pa) / 4;
      for (let i = 0; i < PTRS_PER_IOPGD; i++) {
        const e = c.words[b + i]!;
        if (e === 0) continue;
        const iova = hex(i * 0x10_0000);
        if (iopgdIsTable(e)) {
          out.push(`L1 ${i} table#${tables++} iova=${iova} raw=${hex8(e)}`);
          const pt = iopgdPagePaddr(e);
          const c2 = mem.chunk(pt);
          if (!c2) continue;
          const b2 = (pt - c2.pa) / 4;
          for (let j = 0; j < PTRS_PER_IOPTE; j++) {
            const p = c2.words[b2 + j]!;
            if (p === 0) continue;
            const at = hex(i * 0x10_0000 + j * 0x1000);
            if (p & 2) {
              leaves++;
              out.push(`L2 ${i}/${j} leaf iova=${at} size=0x1000 raw=${hex8(p)}`);
            } else if ((p & 3) === 1) {
              leaves++;
              out.push(`L2 ${i}/${j} leaf iova=${at} size=0x10000 raw=${hex8(p)}`);
            } else out.push(`L2 ${i}/${j} invalid raw=${hex8(p)}`);
          }
        } else if ((e & 3) === 2) {
          leaves++;
          out.push(
            `L1 ${i} leaf iova=${iova} size=${e & (1 << 18) ? "0x1000000" : "0x100000"} raw=${hex8(e)}`,
          );
        } else out.push(`L1 ${i} invalid raw=${hex8(e)}`);
      }
    });
    out.push(`end tables=${tables} leaves=${leaves}`);
    return out;
  }

  stats(): string {
    const l1 = this.domain.iommus.length;
    const l2 = this.domain.l2Cache.liveObjects;
    let writes = 0;
    let reads = 0;
    for (const m of this.omap.mmus) {
      writes += m.mmioWrites;
      reads += m.mmioReads;
    }
    return (
      `stats tables_live=${l1 + l2} table_bytes_live=${hex(l1 * IOPGD_TABLE_SIZE + l2 * IOPTE_TABLE_SIZE)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated} mmio_writes=${writes} mmio_reads=${reads} rpcit=0` +
      ` warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.driverOps.free!(this.domain); // detaches the client first
    this.domain.allocator.reset();
  }
}

/** Boot plus one client: the MMUs probed, a paging domain allocated and attached. */
function createOmap(parsed: OmapFmt, env: ScriptEnv): FmtResult {
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const omap = new OmapIommu({ soc: parsed.soc, mmus: parsed.mmus, tlbEntries: parsed.tlb, allocator });
  const d = omap.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") return { kind: "refused", line: `err domain_alloc_paging ${d} (ENOMEM)` };
  const ret = omap.attach(d);
  if (ret) return { kind: "refused", line: `err attach_dev ${ret} (${ret === -12 ? "ENOMEM" : "EINVAL"})` };
  for (const m of omap.mmus) m.resetMmio();
  const list = (f: (k: number) => number) => omap.mmus.map((_, k) => hex(f(k))).join(",");
  let line =
    `ok fmt=omap pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xffffffff soc=${parsed.soc}` +
    ` mmus=${parsed.mmus} tlb_entries=${parsed.tlb} pgd=${list((k) => d.iommus[k]!.pgtable)}` +
    ` ttb=${list((k) => omap.mmus[k]!.peek(MMU_TTB))} cntl=${list((k) => omap.mmus[k]!.peek(MMU_CNTL))}` +
    ` irqenable=${list((k) => omap.mmus[k]!.peek(MMU_IRQENABLE))}`;
  if (omap.syscon)
    line += ` gp_reg=${list((k) => omap.mmus[k]!.peek(MMU_GP_REG))} mmu_config=${hex(omap.syscon.mmuConfig)}`;
  return { kind: "ok", line, table: new OmapScriptTable(omap, d, env.counters) };
}

/** `fmt omap`: fresh MMUs (driver statics reset) and one attached paging domain per `fmt`. */
export function createOmapFamily(): ScriptFamily {
  return {
    formats: OMAP_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseOmapFmt(args),
    create: (parsed, env) => createOmap(parsed as OmapFmt, env),
  };
}
