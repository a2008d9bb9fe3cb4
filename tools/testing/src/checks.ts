/**
 * The per-IOVA and per-operation checks of the conformance kit, as plain functions that
 * throw a {@link ConformanceError} (no vitest inside, so the hot loops stay cheap and the
 * self-tests can `expect(() => check(…)).toThrow()`).
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  minPageSize,
  type PageTableInspector,
  PhysLength,
  type TableAllocator,
} from "@iommu/core";
import type { ReferenceMap } from "./reference-map.js";

/** A check failed: `check` names it, the message says where and what differed. */
export class ConformanceError extends Error {
  override readonly name = "ConformanceError";
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(`${check}: ${message}`);
  }
}

export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function fail(check: string, message: string, where?: string): never {
  throw new ConformanceError(check, where ? `${message} [${where}]` : message);
}

const out = new PhysLength();

/** Physical address as a bigint from a number or bigint. */
function big(a: number | bigint): bigint {
  return typeof a === "bigint" ? a : BigInt(a);
}

/** Largest multiple of `len` (a power of two) at or below `iova`. */
function alignDown(iova: number, len: number): number {
  return Math.floor(iova / len) * len;
}

function isPow2(n: number): boolean {
  if (n >= 1 && n <= 0x4000_0000) return (n & (n - 1)) === 0;
  return n > 0x4000_0000 && Number.isInteger(n) && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * `iommu_iova_to_phys_length()` at `iova` against the reference: mapped exactly where the
 * reference maps, to the same physical address, and (mapped) a unit that lies inside the
 * reference mapping — or, with `exactLeaf`, exactly the leaf the core's page-size split made.
 */
export function checkTranslation(
  domain: IommuDomain,
  ref: ReferenceMap,
  iova: number,
  options: { exactLeaf?: boolean; where?: string } = {},
): void {
  const C = "reference";
  iommuIovaToPhysLength(domain, iova, out);
  const r = ref.lookup(iova);
  if (r) {
    if (!out.mapped)
      fail(
        C,
        `${hex(iova)} maps to ${hex(r.phys)} in the reference, the domain says unmapped (length ${hex(out.length)})`,
        options.where,
      );
    if (out.physBigInt !== BigInt(r.phys))
      fail(C, `${hex(iova)} → ${hex(out.physBigInt)}, the reference says ${hex(r.phys)}`, options.where);
    if (options.exactLeaf) {
      if (out.length !== r.unitSize)
        fail(
          C,
          `${hex(iova)}: length ${hex(out.length)}, the reference leaf is ${hex(r.unitSize)}`,
          options.where,
        );
    } else {
      const base = alignDown(iova, out.length);
      if (base < r.entry.iova || base + out.length > r.entry.iova + r.entry.size)
        fail(
          C,
          `${hex(iova)}: unit ${hex(base)}+${hex(out.length)} leaves the reference mapping ${hex(r.entry.iova)}+${hex(r.entry.size)}`,
          options.where,
        );
    }
  } else if (out.mapped) {
    fail(
      C,
      `${hex(iova)} is unmapped in the reference, the domain maps it to ${hex(out.physBigInt)}`,
      options.where,
    );
  }
}

/**
 * The `iova_to_phys_length` contract at `iova`: mapped — a power-of-two length ≥ the smallest
 * page whose naturally aligned unit lies inside one reference mapping and translates linearly
 * (checked with `iommu_iova_to_phys()` lookups at both ends of the unit) onto a naturally
 * aligned physical block (a leaf maps an aligned block of its size); unmapped — the whole
 * naturally aligned span is unmapped in the reference.
 */
export function checkLengthContract(
  domain: IommuDomain,
  ref: ReferenceMap,
  iova: number,
  where?: string,
): void {
  const C = "length-contract";
  const min = minPageSize(domain);
  iommuIovaToPhysLength(domain, iova, out);
  const mapped = out.mapped;
  const phys = out.physBigInt;
  const len = out.length;
  if (!isPow2(len)) fail(C, `${hex(iova)}: length ${len} is not a power of two`, where);
  // A leaf is at least the smallest page; a hole is the span of the empty item the walk stopped
  // at, which may be a table granule below it (amdv1_mock HUGE: 2 KiB items, 4 KiB pages).
  if (mapped && len < min)
    fail(C, `${hex(iova)}: length ${hex(len)} is below the smallest page ${hex(min)}`, where);
  const base = alignDown(iova, len);
  if (mapped) {
    const r = ref.lookup(iova);
    if (!r) fail(C, `${hex(iova)} is mapped (${hex(phys)}) where the reference has a hole`, where);
    const e = r.entry;
    if (base < e.iova || base + len > e.iova + e.size)
      fail(
        C,
        `${hex(iova)}: unit ${hex(base)}+${hex(len)} leaves the mapping ${hex(e.iova)}+${hex(e.size)}`,
        where,
      );
    const physBase = phys - BigInt(iova - base);
    if (physBase !== BigInt(e.phys + (base - e.iova)))
      fail(
        C,
        `${hex(iova)}: unit ${hex(base)} starts at phys ${hex(physBase)}, not linear with the mapping`,
        where,
      );
    if (physBase % BigInt(len) !== 0n)
      fail(C, `${hex(iova)}: the unit maps phys ${hex(physBase)}+${hex(len)}, not naturally aligned`, where);
    const atBase = big(iommuIovaToPhys(domain, base));
    const atEnd = big(iommuIovaToPhys(domain, base + len - 1));
    if ((physBase !== 0n && atBase !== physBase) || atEnd !== physBase + BigInt(len - 1))
      fail(
        C,
        `${hex(iova)}: the unit ${hex(base)}+${hex(len)} does not translate linearly (iova_to_phys ${hex(atBase)} … ${hex(atEnd)}, expected ${hex(physBase)} … ${hex(physBase + BigInt(len - 1))})`,
        where,
      );
  } else if (!ref.isFree(base, len)) {
    const m = ref.overlapping(base, len)[0]!;
    fail(
      C,
      `${hex(iova)}: empty span ${hex(base)}+${hex(len)} overlaps the mapping ${hex(m.iova)}+${hex(m.size)}`,
      where,
    );
  }
}

/**
 * `iommu_iova_to_phys_length()` against the inspector's walk, which reads table memory
 * directly (no walk cache): the same mapped-ness, physical address and length; a hole's
 * length equal to the empty entry's span. With `protMask`, the leaf's decoded permissions
 * grant exactly the reference's prot on those bits (plus read for a write-only mapping when
 * `writeImpliesRead`: formats that cannot express write-only).
 */
export function checkInspectorWalk(
  domain: IommuDomain,
  inspector: PageTableInspector,
  iova: number,
  options: { ref?: ReferenceMap; protMask?: number; writeImpliesRead?: boolean; where?: string } = {},
): void {
  const C = "inspector";
  iommuIovaToPhysLength(domain, iova, out);
  const w = inspector.walk(iova);
  if (w.end === "missing-table")
    fail(C, `${hex(iova)}: the walk reached a table with no memory`, options.where);
  if (out.mapped) {
    if (w.end !== "leaf")
      fail(
        C,
        `${hex(iova)}: mapped to ${hex(out.physBigInt)}, the inspector's walk ends at a ${w.end}`,
        options.where,
      );
    if (w.phys !== out.physBigInt || w.length !== out.length)
      fail(
        C,
        `${hex(iova)}: lookup ${hex(out.physBigInt)}+${hex(out.length)}, inspector ${hex(w.phys ?? -1n)}+${hex(w.length ?? 0)}`,
        options.where,
      );
    const mask = options.protMask ?? 0;
    const r = options.ref?.lookup(iova);
    const leaf = w.steps[w.steps.length - 1];
    if (mask && r && leaf?.prot !== undefined) {
      const asked = r.prot & mask;
      const granted = leaf.prot & mask;
      // Everything asked is granted; nothing more, except read for a write-only request
      // where the format declares it cannot express write-only.
      const implied = options.writeImpliesRead && asked & IOMMU_WRITE ? IOMMU_READ : 0;
      if ((asked & ~granted) !== 0 || (granted & ~asked & ~implied) !== 0)
        fail(
          C,
          `${hex(iova)}: the leaf grants prot ${hex(granted)}, it was mapped with ${hex(asked)}`,
          options.where,
        );
    }
  } else {
    if (w.end === "leaf")
      fail(
        C,
        `${hex(iova)}: unmapped by the lookup, the inspector finds a leaf → ${hex(w.phys ?? -1n)}`,
        options.where,
      );
    if (w.end === "hole" && w.length !== out.length)
      fail(
        C,
        `${hex(iova)}: hole of ${hex(out.length)} by the lookup, ${hex(w.length ?? 0)} by the inspector`,
        options.where,
      );
  }
}

/**
 * Counters of one lookup through the core: `iommu_iova_to_phys_length()` and
 * `iommu_iova_to_phys()` each count exactly one walk, read at least one entry and write none.
 */
export function checkLookupCounters(domain: IommuDomain, iova: number, where?: string): void {
  const C = "counters";
  const c = domain.counters;
  for (const which of ["iova_to_phys_length", "iova_to_phys"] as const) {
    const walks = c.walks;
    const reads = c.pteReads;
    const writes = c.pteWrites;
    if (which === "iova_to_phys_length") iommuIovaToPhysLength(domain, iova, out);
    else iommuIovaToPhys(domain, iova);
    if (c.walks - walks !== 1)
      fail(C, `${which}(${hex(iova)}) counted ${c.walks - walks} walks, not 1`, where);
    if (c.pteWrites !== writes)
      fail(C, `${which}(${hex(iova)}) wrote ${c.pteWrites - writes} entries`, where);
    if (c.pteReads - reads < 1) fail(C, `${which}(${hex(iova)}) counted no entry read`, where);
  }
}

/** Counter values an operation check compares. */
export interface OpCounters {
  walks: number;
  pteWrites: number;
  tablesAllocated: number;
  tablesFreed: number;
  bugs: number;
  liveCount: number;
}

export function opCounters(domain: IommuDomain, allocator: TableAllocator): OpCounters {
  const c = domain.counters;
  return {
    walks: c.walks,
    pteWrites: c.pteWrites,
    tablesAllocated: c.tablesAllocated,
    tablesFreed: c.tablesFreed,
    bugs: c.bugs,
    liveCount: allocator.liveCount,
  };
}

/**
 * Counters across one map or unmap through the core: no walk counted, no BUG, entries
 * written when something changed, and — with `blockPerTable` (one allocator block per
 * table) — tables allocated minus freed equal to the change of the allocator's live blocks.
 */
export function checkOpCounters(
  domain: IommuDomain,
  allocator: TableAllocator,
  before: OpCounters,
  changedBytes: number,
  options: { blockPerTable?: boolean; where?: string } = {},
): void {
  const C = "counters";
  const where = options.where;
  const now = opCounters(domain, allocator);
  if (now.walks !== before.walks) fail(C, `a map/unmap counted ${now.walks - before.walks} walks`, where);
  if (now.bugs !== before.bugs) fail(C, "a map/unmap hit the kernel's BUG()", where);
  if (changedBytes > 0 && now.pteWrites === before.pteWrites)
    fail(C, `${hex(changedBytes)} bytes changed with no entry written`, where);
  if (options.blockPerTable) {
    const net = now.tablesAllocated - before.tablesAllocated - (now.tablesFreed - before.tablesFreed);
    if (net !== now.liveCount - before.liveCount)
      fail(
        C,
        `tables allocated − freed = ${net}, live blocks changed by ${now.liveCount - before.liveCount}`,
        where,
      );
  }
}

/**
 * Distinct tables in memory an inspector reaches: the root and every table an entry points
 * at (a format may present registers, e.g. DART's TTBRs, as a top table that is not memory).
 */
export function tablesReached(inspector: PageTableInspector): number {
  const set = new Set<number>([inspector.geometry().root]);
  inspector.visit((e) => {
    if (e.kind === "table" && e.nextTable !== undefined && !e.tableMissing) set.add(e.nextTable);
  });
  return set.size;
}

/**
 * Table accounting: tables allocated minus freed (the domain's counters) equal the tables
 * the domain holds — the distinct tables its inspector reaches when it has one (formats may
 * carve several tables out of one allocator block), else the allocator's live blocks.
 */
export function checkTableCount(
  domain: IommuDomain,
  allocator: TableAllocator,
  inspector: PageTableInspector | null,
  where?: string,
): void {
  const c = domain.counters;
  const net = c.tablesAllocated - c.tablesFreed;
  const held = inspector ? tablesReached(inspector) : allocator.liveCount;
  if (net !== held)
    fail(
      "counters",
      `tables allocated − freed = ${net}, the domain holds ${held} (${inspector ? "reachable tables" : "live blocks"})`,
      where,
    );
}

/**
 * Every live table block's bytes and the live count; with an inspector, also every non-zero
 * entry it reaches (`tableAddr:index` → kind and raw value).
 */
export interface TableSnapshot {
  readonly liveCount: number;
  readonly blocks: ReadonlyArray<{ readonly pa: number; readonly bytes: number; readonly data: Uint8Array }>;
  readonly entries?: ReadonlyMap<string, { readonly kind: string; readonly raw: bigint }>;
}

export function snapshotTables(
  allocator: TableAllocator,
  inspector?: PageTableInspector | null,
): TableSnapshot {
  let entries: Map<string, { kind: string; raw: bigint }> | undefined;
  if (inspector) {
    entries = new Map();
    const m = entries;
    inspector.visit((e) => {
      m.set(`${hex(e.tableAddr)}:${e.index}`, { kind: e.kind, raw: e.raw });
    });
  }
  return {
    liveCount: allocator.liveCount,
    blocks: allocator.liveBlocks().map((b) => ({ ...b, data: allocator.mem.exportRange(b.pa, b.bytes) })),
    ...(entries ? { entries } : {}),
  };
}

/**
 * Differences between two table snapshots, or undefined when none is allowed by `mode`:
 * `exact` — the same blocks with the same bytes; `keeps-tables` — what a format that keeps
 * the tables installed before a failure leaves behind: every earlier block still there, and
 * (with the inspector's entries) every earlier entry unchanged and every new one a table
 * entry, or (without) only words that were zero changed.
 */
export function diffSnapshots(
  before: TableSnapshot,
  after: TableSnapshot,
  mode: "exact" | "keeps-tables",
): string | undefined {
  if (mode === "exact" && after.liveCount !== before.liveCount)
    return `live tables ${before.liveCount} → ${after.liveCount}`;
  const byPa = new Map(after.blocks.map((b) => [b.pa, b]));
  if (mode === "exact" && after.blocks.length !== before.blocks.length)
    return `live blocks ${before.blocks.length} → ${after.blocks.length}`;
  if (mode === "keeps-tables" && before.entries && after.entries) {
    for (const [k, e] of before.entries) {
      const a = after.entries.get(k);
      if (!a || a.raw !== e.raw)
        return `entry ${k} changed ${e.kind} ${hex(e.raw)} → ${a ? `${a.kind} ${hex(a.raw)}` : "none"}`;
    }
    for (const [k, a] of after.entries)
      if (!before.entries.has(k) && a.kind !== "table") return `new ${a.kind} entry ${k} = ${hex(a.raw)}`;
    for (const b of before.blocks)
      if (byPa.get(b.pa)?.bytes !== b.bytes)
        return `table block ${hex(b.pa)} (${hex(b.bytes)} bytes) is gone`;
    return undefined;
  }
  for (const b of before.blocks) {
    const a = byPa.get(b.pa);
    if (!a || a.bytes !== b.bytes) return `table block ${hex(b.pa)} (${hex(b.bytes)} bytes) is gone`;
    const wb = new Uint32Array(b.data.buffer, b.data.byteOffset, b.bytes / 4);
    const wa = new Uint32Array(a.data.buffer, a.data.byteOffset, a.bytes / 4);
    for (let i = 0; i < wb.length; i++) {
      if (wa[i] === wb[i]) continue;
      if (mode === "keeps-tables" && wb[i] === 0) continue;
      return `table block ${hex(b.pa)}: word at +${hex(4 * i)} changed ${hex(wb[i]!)} → ${hex(wa[i]!)}`;
    }
  }
  return undefined;
}
