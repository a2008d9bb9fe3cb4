/**
 * The `exynos` script family (drivers/README.md Section A): @iommu/drivers-exynos behind the
 * driver-harness protocol — `fmt exynos [version M[.m]] [ptbase H]`, the raw legacy calls
 * (`count` one-page `.map`/`.unmap` calls, `err unsafe` where the driver would overrun a
 * level-2 table), `dump` with each table's `free=` count, and the arena `stats`.
 */
import {
  type Addr,
  hex,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCounters,
  iommuIovaToPhys,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { type ExynosDomain, ExynosSysmmu, lv2entLarge } from "@iommu/drivers-exynos";
import { DRIVER_HARNESS } from "../../harness.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const EXYNOS_FMT_NAMES: readonly string[] = ["exynos"];

const DEFAULT_PTBASE = 0x8000_0000;
const ARENA = 0x8000_0000;
const U64 = 1n << 64n;
const HEX = /^(0[xX])?[0-9a-fA-F]+$/;

interface ExynosFmt {
  readonly error?: true;
  readonly major: number;
  readonly minor: number;
  readonly ptbase: number;
}

/** Section A hex: digits with an optional 0x, no sign; undefined when invalid or ≥ 2^64. */
function parseHexA(tok: string): bigint | undefined {
  if (!HEX.test(tok)) return undefined;
  const v = BigInt(tok.startsWith("0x") || tok.startsWith("0X") ? tok : `0x${tok}`);
  return v < U64 ? v : undefined;
}

function parseExynosFmt(args: readonly string[]): ExynosFmt {
  let major = 5;
  let minor = 0;
  let ptbase = BigInt(DEFAULT_PTBASE);
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const value = args[i + 1];
    if (value === undefined) return { error: true, major, minor, ptbase: 0 };
    if (key === "version") {
      const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
      if (!m) return { error: true, major, minor, ptbase: 0 };
      major = Number(m[1]);
      minor = m[2] === undefined ? 0 : Number(m[2]);
      if (!(major >= 1 && major <= 15 && minor <= 127)) return { error: true, major, minor, ptbase: 0 };
    } else if (key === "ptbase") {
      const v = parseHexA(value);
      if (v === undefined) return { error: true, major, minor, ptbase: 0 };
      ptbase = v;
    } else return { error: true, major, minor, ptbase: 0 };
  }
  const limit = major < 5 ? 1n << 32n : 1n << 36n;
  if (ptbase % 0x800_0000n !== 0n || ptbase + BigInt(ARENA) > limit)
    return { error: true, major, minor, ptbase: 0 };
  return { major, minor, ptbase: Number(ptbase) };
}

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

/** `iova + k·step` as the C harness computes it (u64), as an Addr. */
function addK(base: Addr, k: number, step: number): Addr {
  const v = (BigInt(base) + BigInt(k) * BigInt(step)) % U64;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

class ExynosScriptTable implements ScriptTable {
  readonly domain: ExynosDomain;
  private destroyed = false;

  constructor(
    readonly sysmmu: ExynosSysmmu,
    private readonly counters: IommuCounters,
    /** Arena allocations the counters do not see: one `lv2entcnt` block per domain so far. */
    private readonly bookkeeping: () => number,
  ) {
    const d = sysmmu.domainAlloc(IOMMU_DOMAIN_UNMANAGED, { counters });
    if (!d) throw new Error("exynos: domain allocation failed");
    this.domain = d;
  }

  /** Section A §5: the legacy driver would write 16 slots from a level-2 index above 240. */
  private unsafe(iova: Addr, pgsize: number, pgcount: number, map: boolean): boolean {
    if (pgcount > 65536) return true;
    if (pgsize === 0x1000 || (map && pgsize === 0x10_0000)) return false;
    const base = BigInt(iova);
    for (let k = 0; k < pgcount; k++) {
      const va = (base + BigInt(k) * BigInt(pgsize)) % U64;
      if (Number((va >> 12n) & 0xffn) > 240) return true;
    }
    return false;
  }

  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number | string {
    if (this.unsafe(iova, pgsize, pgcount, true)) return "err unsafe";
    const d = this.domain;
    const one = new SizeOut();
    for (let k = 0; k < pgcount; k++) {
      one.value = 0;
      const ret = d.ops!.mapPages(d, addK(iova, k, pgsize), addK(paddr, k, pgsize), pgsize, 1, prot, 0, one);
      if (ret !== 0) return ret;
      mapped.value += pgsize;
    }
    return 0;
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number | string {
    if (this.unsafe(iova, pgsize, pgcount, false)) return "err unsafe";
    const d = this.domain;
    let total = 0;
    for (let k = 0; k < pgcount; k++) {
      const r = d.ops!.unmapPages(d, addK(iova, k, pgsize), pgsize, 1, null);
      if (r === 0) break;
      total += r;
    }
    return total;
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  dump(): string[] {
    const d = this.domain;
    const insp = d.ops!.inspect!(d)!;
    const out = [`L1 pgtable table#0 pa=${hex(d.pgtable)} entries=4096`];
    let tables = 1;
    let leaves = 0;
    let invalid = 0;
    insp.visit((e) => {
      const raw = hex8(Number(e.raw));
      const iova = hex(Number(e.iova));
      if (e.level === 1) {
        if (e.kind === "table") {
          out.push(`L1 ${e.index} table#${tables++} iova=${iova} raw=${raw} free=${d.lv2entcnt[e.index]}`);
        } else if (e.kind === "leaf") {
          leaves++;
          out.push(`L1 ${e.index} leaf iova=${iova} size=0x100000 raw=${raw}`);
        } else {
          invalid++;
          out.push(`L1 ${e.index} invalid iova=${iova} raw=${raw}`);
        }
        return;
      }
      const path = `${Math.floor(Number(e.iova) / 0x10_0000)}/${e.index}`;
      if (e.kind === "leaf") {
        leaves++;
        const size = lv2entLarge(Number(e.raw)) ? "0x10000" : "0x1000";
        out.push(`L2 ${path} leaf iova=${iova} size=${size} raw=${raw}`);
      } else {
        invalid++;
        out.push(`L2 ${path} invalid iova=${iova} raw=${raw}`);
      }
    });
    out.push(`end tables=${tables} leaves=${leaves} invalid=${invalid}`);
    return out;
  }

  stats(): string {
    const a = this.sysmmu.allocator;
    const cache = this.sysmmu.cacheFor(a);
    const live = a.liveCount - cache.blockCount + cache.liveObjects;
    const bytes = a.liveBytes - cache.blockCount * 0x1000 + cache.liveObjects * 0x400;
    return (
      `stats tables_live=${live} table_bytes_live=${hex(bytes)}` +
      ` tables_allocated_total=${this.counters.tablesAllocated + this.bookkeeping()}` +
      ` warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.domain.ops!.free!(this.domain);
    this.sysmmu.allocator.reset();
  }
}

function createExynos(parsed: ExynosFmt, env: ScriptEnv, bookkeeping: () => number): FmtResult {
  if (parsed.error) return { kind: "refused", line: "err bad-fmt" };
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const sysmmu = new ExynosSysmmu({
    version: `${parsed.major}.${parsed.minor}`,
    allocator,
    counters: env.counters,
  });
  const table = new ExynosScriptTable(sysmmu, env.counters, bookkeeping);
  const d = table.domain;
  const line =
    `ok fmt=exynos version=${parsed.major}.${parsed.minor} pg_ent_shift=${sysmmu.pgEntShift}` +
    ` pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xffffffffffffffff pgtable=${hex(d.pgtable)}` +
    ` zero_lv2link=${hex8(sysmmu.zeroLv2Link)}`;
  return { kind: "ok", line, table };
}

/** `fmt exynos`: a fresh SysMMU (driver statics reset) and one attached domain per `fmt`. */
export function createExynosFamily(): ScriptFamily {
  // Per run ("process"): the harness's tables_allocated_total counts every arena allocation,
  // the domains' lv2entcnt blocks included, which the driver does not count as tables.
  let domains = 0;
  return {
    formats: EXYNOS_FMT_NAMES,
    harness: DRIVER_HARNESS,
    // A known name destroys the live table first; a bad option then leaves none (`err bad-fmt`).
    parseFmt: (_format, args) => parseExynosFmt(args),
    create: (parsed, env) => {
      const r = createExynos(parsed as ExynosFmt, env, () => domains);
      if (r.kind === "ok") domains++;
      return r;
    },
  };
}
