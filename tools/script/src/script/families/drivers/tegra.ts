/**
 * drivers/iommu/tegra-smmu.c in the script engine — the `tegra` script family
 * (vectors/drivers/README.md Section B): @iommu/drivers-tegra-smmu
 * behind the driver-harness protocol — `fmt tegra [addrbits 32|34] [ptbase H]` (a memory
 * controller probed, one address space allocated and attached), raw `map_pages`/`unmap_pages`
 * /`phys` on the driver's ops, `dump` following the driver's own page-table pointers with the
 * use counts, and `stats` with the SMMU's MMIO accesses.
 */
import {
  type Addr,
  hex,
  type IommuCounters,
  iommuIovaToPhys,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import { SMMU_NUM_PDE, SMMU_NUM_PTE, TegraSmmu, type TegraSmmuDomain } from "@iommu/drivers-tegra-smmu";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex, parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const TEGRA_FMT_NAMES: readonly string[] = ["tegra"];

const DEFAULT_PTBASE = 0x8000_0000;
const PTBASE_ALIGN = 0x800_0000;

interface TegraFmt {
  readonly addrbits: 32 | 34;
  readonly ptbase: number;
}

/** `ptbase <hex>`: a multiple of 128 MiB below 2^52 (Section B `fmt`). */
function parsePtbase(tok: string | undefined): number | undefined {
  const v = tok === undefined ? undefined : parseHex(tok);
  if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 52) return undefined;
  return v;
}

function parseTegraFmt(args: readonly string[]): TegraFmt | undefined {
  let addrbits: 32 | 34 = 34;
  let ptbase = DEFAULT_PTBASE;
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const value = args[i + 1];
    if (key === "addrbits") {
      const v = value === undefined ? undefined : parseNum(value);
      if (v !== 32 && v !== 34) return undefined;
      addrbits = v;
    } else if (key === "ptbase") {
      const v = parsePtbase(value);
      if (v === undefined) return undefined;
      ptbase = v;
    } else return undefined;
  }
  return { addrbits, ptbase };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

class TegraScriptTable implements ScriptTable {
  private destroyed = false;

  constructor(
    readonly smmu: TegraSmmu,
    readonly domain: TegraSmmuDomain,
    private readonly counters: IommuCounters,
  ) {}

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  /** Section B `dump`: the driver's `pts[]` pointers, `count[]`, every non-zero PTE a leaf. */
  dump(): string[] {
    const d = this.domain;
    const mem = d.allocator.mem;
    const pd = d.pdChunk;
    const pdBase = (d.pd - pd.pa) / 4;
    const out = [`L1 pd table#0 entries=${SMMU_NUM_PDE} pa=${hex(d.pd)}`];
    let tables = 1;
    let leaves = 0;
    for (let i = 0; i < SMMU_NUM_PDE; i++) {
      const pde = pd.words[pdBase + i]!;
      const pt = d.pts[i]!;
      const count = d.count[i]!;
      if (pt < 0) {
        if (pde !== 0 || count !== 0) out.push(`L1 ${i} invalid count=${count} raw=${hex8(pde)}`);
        continue;
      }
      out.push(`L1 ${i} table#${tables++} iova=${hex(i * 0x40_0000)} count=${count} raw=${hex8(pde)}`);
      const c = mem.chunk(pt)!;
      const base = (pt - c.pa) / 4;
      for (let j = 0; j < SMMU_NUM_PTE; j++) {
        const pte = c.words[base + j]!;
        if (pte === 0) continue;
        leaves++;
        out.push(`L2 ${i}/${j} leaf iova=${hex(i * 0x40_0000 + j * 0x1000)} size=0x1000 raw=${hex8(pte)}`);
      }
    }
    out.push(`end tables=${tables} leaves=${leaves}`);
    return out;
  }

  stats(): string {
    const a = this.domain.allocator;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated} mmio_writes=${this.smmu.mmioWrites}` +
      ` mmio_reads=${this.smmu.mmioReads} rpcit=0 warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.smmu.detach(this.domain);
    this.domain.ops!.free!(this.domain);
    this.domain.allocator.reset();
  }
}

/** Boot plus one client: probe the SMMU, allocate an address space, attach the client. */
function createTegra(parsed: TegraFmt, env: ScriptEnv): FmtResult {
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const smmu = new TegraSmmu({ soc: "tegra124", numAddressBits: parsed.addrbits, allocator });
  const d = smmu.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") return { kind: "refused", line: `err domain_alloc_paging ${d} (ENOMEM)` };
  const ret = smmu.attach(d);
  if (ret) {
    d.ops!.free!(d);
    return { kind: "refused", line: `err attach_dev ${ret} (${ret === -12 ? "ENOMEM" : "ENOSPC"})` };
  }
  smmu.resetMmio();
  const line =
    `ok fmt=tegra pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xffffffff addrbits=${parsed.addrbits}` +
    ` pfn_mask=${hex(smmu.pfnMask)} asid=${d.id} pd=${hex(d.pd)} ptb_data=${hex(smmu.readReg(0x020))}`;
  return { kind: "ok", line, table: new TegraScriptTable(smmu, d, env.counters) };
}

/** `fmt tegra`: a fresh memory controller (driver statics reset) and one attached address space per `fmt`. */
export function createTegraFamily(): ScriptFamily {
  return {
    formats: TEGRA_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseTegraFmt(args),
    create: (parsed, env) => createTegra(parsed as TegraFmt, env),
  };
}
