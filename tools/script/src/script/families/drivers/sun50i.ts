/**
 * The `sun50i` script family (drivers/README.md Section A): @iommu/drivers-sun50i behind the
 * driver-harness protocol — `fmt sun50i` (no options), raw calls (never refused: the driver
 * writes one PTE per call), `dump` and the arena `stats` (page tables are 1 KiB objects of
 * the IOMMU's `pt_pool`).
 */
import {
  type Addr,
  hex,
  type IommuCounters,
  iommuIovaToPhys,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import { type Sun50iDomain, Sun50iIommu } from "@iommu/drivers-sun50i";
import { DRIVER_HARNESS } from "../../harness.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const SUN50I_FMT_NAMES: readonly string[] = ["sun50i"];

const PTBASE = 0x8000_0000;

function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

class Sun50iScriptTable implements ScriptTable {
  private destroyed = false;

  constructor(
    readonly iommu: Sun50iIommu,
    readonly domain: Sun50iDomain,
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

  dump(): string[] {
    const d = this.domain;
    const out = [`L1 dt table#0 pa=${hex(d.dt)} entries=4096`];
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
      const path = `${Math.floor(Number(e.iova) / 0x10_0000)}/${e.index}`;
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
    const pool = this.iommu.poolFor(a);
    const live = a.liveCount - pool.blockCount + pool.liveObjects;
    const bytes = a.liveBytes - pool.blockCount * 0x1000 + pool.liveObjects * 0x400;
    return (
      `stats tables_live=${live} table_bytes_live=${hex(bytes)}` +
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

function createSun50i(parsed: { error?: true }, env: ScriptEnv): FmtResult {
  if (parsed.error) return { kind: "refused", line: "err bad-fmt" };
  const allocator = new TableAllocator(undefined, { base: PTBASE });
  const iommu = new Sun50iIommu({ allocator });
  const d = iommu.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") {
    allocator.reset();
    return { kind: "refused", line: `err alloc ${d} (ENOMEM)` };
  }
  const line = `ok fmt=sun50i pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-0xffffffff dt=${hex(d.dt)}`;
  return { kind: "ok", line, table: new Sun50iScriptTable(iommu, d, env.counters) };
}

/** `fmt sun50i`: a fresh IOMMU (driver statics reset) and one attached domain per `fmt`. */
export function createSun50iFamily(): ScriptFamily {
  return {
    formats: SUN50I_FMT_NAMES,
    harness: DRIVER_HARNESS,
    // No option is accepted: any is `err bad-fmt` (after the live table was destroyed).
    parseFmt: (_format, args) => (args.length === 0 ? {} : { error: true }),
    create: (parsed, env) => createSun50i(parsed as { error?: true }, env),
  };
}
