/**
 * The `rockchip` script family (drivers/README.md Section A): @iommu/drivers-rockchip behind
 * the driver-harness protocol — `fmt rockchip [v1|v2] [ptbase H]`, raw calls refused with
 * `err unsafe` where the driver would write past a page table, `dump` (stale invalid PTEs
 * included) and the arena `stats`.
 */
import {
  type Addr,
  hex,
  type IommuCounters,
  iommuIovaToPhys,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import { type RockchipDomain, RockchipIommu } from "@iommu/drivers-rockchip";
import { DRIVER_HARNESS } from "../../harness.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const ROCKCHIP_FMT_NAMES: readonly string[] = ["rockchip"];

const DEFAULT_PTBASE = 0x8000_0000n;
const ARENA = 0x8000_0000n;
const U64 = 1n << 64n;
const HEX = /^(0[xX])?[0-9a-fA-F]+$/;

interface RockchipFmt {
  readonly error?: true;
  readonly variant: "v1" | "v2";
  readonly ptbase: number;
}

/** Section A hex: digits with an optional 0x, no sign; undefined when invalid or ≥ 2^64. */
function parseHexA(tok: string): bigint | undefined {
  if (!HEX.test(tok)) return undefined;
  const v = BigInt(tok.startsWith("0x") || tok.startsWith("0X") ? tok : `0x${tok}`);
  return v < U64 ? v : undefined;
}

function parseRockchipFmt(args: readonly string[]): RockchipFmt {
  const bad: RockchipFmt = { error: true, variant: "v1", ptbase: 0 };
  let variant: "v1" | "v2" = "v1";
  let ptbase = DEFAULT_PTBASE;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "v1" || a === "v2") variant = a;
    else if (a === "ptbase") {
      const v = args[i + 1] === undefined ? undefined : parseHexA(args[i + 1]!);
      if (v === undefined) return bad;
      ptbase = v;
      i++;
    } else return bad;
  }
  const limit = variant === "v1" ? 1n << 32n : 1n << 40n;
  if (ptbase % 0x800_0000n !== 0n || ptbase + ARENA > limit) return bad;
  return { variant, ptbase: Number(ptbase) };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

class RockchipScriptTable implements ScriptTable {
  private destroyed = false;

  constructor(
    readonly iommu: RockchipIommu,
    readonly domain: RockchipDomain,
    private readonly counters: IommuCounters,
  ) {}

  /** Section A §5: the driver writes pgsize / 4 KiB PTEs from the IOVA's slot, ignoring count. */
  private unsafe(iova: Addr, pgsize: number): boolean {
    const slot = Number((BigInt(iova) >> 12n) & 0x3ffn);
    return slot + Math.floor(pgsize / 0x1000) > 1024;
  }

  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number | string {
    if (this.unsafe(iova, pgsize)) return "err unsafe";
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number | string {
    if (this.unsafe(iova, pgsize)) return "err unsafe";
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  dump(): string[] {
    const d = this.domain;
    const out = [`L1 dt table#0 pa=${hex(d.dt)} entries=1024`];
    let tables = 1;
    let leaves = 0;
    let invalid = 0;
    d.ops!.inspect!(d)!.visit((e) => {
      const raw = hex8(Number(e.raw));
      const iova = hex(Number(e.iova));
      if (e.level === 1) {
        if (e.kind === "table") out.push(`L1 ${e.index} table#${tables++} iova=${iova} raw=${raw}`);
        else {
          invalid++;
          out.push(`L1 ${e.index} invalid iova=${iova} raw=${raw}`);
        }
        return;
      }
      const path = `${Math.floor(Number(e.iova) / 0x40_0000)}/${e.index}`;
      if (e.kind === "leaf") {
        leaves++;
        out.push(`L2 ${path} leaf iova=${iova} size=0x1000 raw=${raw}`);
      } else {
        invalid++;
        out.push(`L2 ${path} invalid iova=${iova} raw=${raw}`);
      }
    });
    out.push(`end tables=${tables} leaves=${leaves} invalid=${invalid}`);
    return out;
  }

  stats(): string {
    const a = this.iommu.allocator;
    return (
      `stats tables_live=${a.liveCount} table_bytes_live=${hex(a.liveBytes)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated} warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.domain.ops!.free!(this.domain);
    this.iommu.allocator.reset();
  }
}

function createRockchip(parsed: RockchipFmt, env: ScriptEnv): FmtResult {
  if (parsed.error) return { kind: "refused", line: "err bad-fmt" };
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const iommu = new RockchipIommu({ variant: parsed.variant, allocator });
  const d = iommu.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") {
    allocator.reset();
    return { kind: "refused", line: `err alloc ${d} (ENOMEM)` };
  }
  const line =
    `ok fmt=rockchip-${parsed.variant} pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xffffffff` +
    ` dt=${hex(d.dt)} dte_addr_reg=${hex8(d.dteAddrReg)}`;
  return { kind: "ok", line, table: new RockchipScriptTable(iommu, d, env.counters) };
}

/** `fmt rockchip`: a fresh IOMMU (driver statics reset) and one attached domain per `fmt`. */
export function createRockchipFamily(): ScriptFamily {
  return {
    formats: ROCKCHIP_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseRockchipFmt(args),
    create: (parsed, env) => createRockchip(parsed as RockchipFmt, env),
  };
}
