/**
 * drivers/iommu/s390-iommu.c in the script engine — the `s390` script family
 * (vectors/drivers/README.md Section B): @iommu/drivers-s390 behind
 * the driver-harness protocol — `fmt s390 [levels 3|4|5] [ptbase H]` (a zPCI function whose
 * DMA range makes the driver pick an RT, RS or RF origin; one domain allocated and attached),
 * `dump` of the region/segment/page tables (entries not at their empty value) and `stats`
 * counting tables as the driver's kmem_cache objects.
 *
 * The harness's core emulation never calls the sync ops (iotlb_sync_map, iotlb_sync): the
 * family's domain leaves them out, so `map`/`unmap` through @iommu/core issue no RPCIT either.
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
  type S390Domain,
  S390Iommu,
  s390OriginName,
  ZPCI_PT_ENTRIES,
  ZPCI_PT_SIZE,
  ZPCI_PTE_INVALID,
  ZPCI_RTE_FLAG_MASK,
  ZPCI_STE_FLAG_MASK,
  ZPCI_TABLE_ENTRIES,
  ZPCI_TABLE_INVALID,
  ZPCI_TABLE_SIZE,
} from "@iommu/drivers-s390";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex, parseNum } from "../../parse.js";
import { dropPageOffset } from "../../pre-series-phys.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const S390_FMT_NAMES: readonly string[] = ["s390"];

const DEFAULT_PTBASE = 0x8000_0000;
const PTBASE_ALIGN = 0x800_0000;
const TWO32 = 2 ** 32;
/** Entry spans from the top of a 5-level table: RF, RS, RT, ST, PT. */
const SPANS = [2n ** 53n, 2n ** 42n, 2n ** 31n, 2n ** 20n, 2n ** 12n];

interface S390Fmt {
  readonly levels: 3 | 4 | 5;
  readonly ptbase: number;
}

function parseS390Fmt(args: readonly string[]): S390Fmt | undefined {
  let levels: 3 | 4 | 5 = 3;
  let ptbase = DEFAULT_PTBASE;
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const tok = args[i + 1];
    if (key === "levels") {
      const v = tok === undefined ? undefined : parseNum(tok);
      if (v !== 3 && v !== 4 && v !== 5) return undefined;
      levels = v;
    } else if (key === "ptbase") {
      const v = tok === undefined ? undefined : parseHex(tok);
      if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 52)
        return undefined;
      ptbase = v;
    } else return undefined;
  }
  return { levels, ptbase };
}

function hex16(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, "0")}${(lo >>> 0).toString(16).padStart(8, "0")}`;
}

class S390ScriptTable implements ScriptTable {
  private destroyed = false;
  private readonly driverOps: IommuDomainOps<S390Domain>;

  constructor(
    readonly zdev: S390Iommu,
    readonly domain: S390Domain,
    private readonly counters: IommuCounters,
  ) {
    this.driverOps = zdev.ops;
    const { iotlbSync: _s, iotlbSyncMap: _m, flushIotlbAll: _a, ...rest } = zdev.ops;
    domain.ops = rest;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return this.driverOps.mapPages(this.domain, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    return this.driverOps.unmapPages(this.domain, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    // pre-series-phys.ts: the legacy op dropped the page offset.
    return dropPageOffset(iommuIovaToPhys(this.domain, iova));
  }

  walk(): string | null {
    return null;
  }

  /** Section B `dump`: depth-first from the root, entries that differ from their empty value. */
  dump(): string[] {
    const d = this.domain;
    const mem = d.allocator.mem;
    const top = 5 - d.levels;
    const out = [
      `L1 root table#0 type=${s390OriginName(d)} entries=${ZPCI_TABLE_ENTRIES} pa=${hex(d.dmaTable)}`,
    ];
    let tables = 1;
    let leaves = 0;
    const walk = (pa: number, level: number, path: string, base: bigint): void => {
      const k = top + level - 1;
      const pt = k === 4;
      const entries = pt ? ZPCI_PT_ENTRIES : ZPCI_TABLE_ENTRIES;
      const empty = pt ? ZPCI_PTE_INVALID : ZPCI_TABLE_INVALID;
      const c = mem.chunk(pa);
      if (!c) return;
      const w0 = (pa - c.pa) / 4;
      for (let i = 0; i < entries; i++) {
        const lo = c.words[w0 + 2 * i]!;
        const hi = c.words[w0 + 2 * i + 1]!;
        if (lo === empty && hi === 0) continue;
        const p = path === "" ? `${i}` : `${path}/${i}`;
        const iova = base + BigInt(i) * SPANS[k]!;
        if (pt) {
          if (lo & ZPCI_PTE_INVALID) out.push(`L${level} ${p} invalid raw=${hex16(lo, hi)}`);
          else {
            leaves++;
            out.push(`L${level} ${p} leaf iova=${hex(iova)} size=0x1000 raw=${hex16(lo, hi)}`);
          }
          continue;
        }
        if (lo & ZPCI_TABLE_INVALID) {
          out.push(`L${level} ${p} invalid raw=${hex16(lo, hi)}`);
          continue;
        }
        out.push(`L${level} ${p} table#${tables++} iova=${hex(iova)} raw=${hex16(lo, hi)}`);
        const mask = k === 3 ? ZPCI_STE_FLAG_MASK : ZPCI_RTE_FLAG_MASK;
        walk(hi * TWO32 + ((lo & ~mask) >>> 0), level + 1, p, iova);
      }
    };
    walk(d.dmaTable, 1, "", 0n);
    out.push(`end tables=${tables} leaves=${leaves}`);
    return out;
  }

  stats(): string {
    const d = this.domain;
    const live = d.regionTablesLive + d.ptCache.liveObjects;
    const bytes = d.regionTablesLive * ZPCI_TABLE_SIZE + d.ptCache.liveObjects * ZPCI_PT_SIZE;
    return (
      `stats tables_live=${live} table_bytes_live=${hex(bytes)} tables_allocated_total=${this.counters.tablesAllocated}` +
      ` mmio_writes=0 mmio_reads=0 rpcit=${this.zdev.rpcits} warns_total=${this.counters.warns}`
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.zdev.detach();
    this.driverOps.free!(this.domain);
    this.domain.allocator.reset();
  }
}

/** The fake machine per `levels`: 16 GiB of memory (3), or no limit with end_dma 2^53 − 1 (4) / 2^64 − 1 (5). */
function machine(levels: 3 | 4 | 5) {
  if (levels === 3) return { memoryBytes: 16 * 2 ** 30, apertureFactor: 1, endDma: (1n << 64n) - 1n };
  return { memoryBytes: 0, apertureFactor: 0, endDma: levels === 4 ? (1n << 53n) - 1n : (1n << 64n) - 1n };
}

/** Boot plus one client: a zPCI function, a paging domain, attached (its IOTA registered). */
function createS390(parsed: S390Fmt, env: ScriptEnv): FmtResult {
  const allocator = new TableAllocator(undefined, { base: parsed.ptbase });
  const zdev = new S390Iommu({ ...machine(parsed.levels), startDma: 2 ** 32, allocator });
  const d = zdev.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") return { kind: "refused", line: `err domain_alloc_paging ${d} (ENOMEM)` };
  const ret = zdev.attach(d);
  if (ret) return { kind: "refused", line: `err attach_dev ${ret} (${ret === -22 ? "EINVAL" : "EIO"})` };
  const end =
    typeof d.geometry.apertureEnd === "bigint" ? d.geometry.apertureEnd : BigInt(d.geometry.apertureEnd);
  const line =
    `ok fmt=s390 pgsize_bitmap=${hex(d.pgsizeBitmap)} aperture=0x0-${hex(end)} levels=${d.levels}` +
    ` origin=${s390OriginName(d)} start_dma=${hex(zdev.startDma)} end_dma=${hex(zdev.endDma)}` +
    ` iota=${hex(zdev.iota)}`;
  return { kind: "ok", line, table: new S390ScriptTable(zdev, d, env.counters) };
}

/** `fmt s390`: a fresh zPCI function (driver statics reset) and one attached domain per `fmt`. */
export function createS390Family(): ScriptFamily {
  return {
    formats: S390_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseS390Fmt(args),
    create: (parsed, env) => createS390(parsed as S390Fmt, env),
  };
}
