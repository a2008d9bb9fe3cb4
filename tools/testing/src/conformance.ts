/**
 * `describeDomainConformance()`: the test suite every IOMMU domain passes, written once and run
 * per format (the model's counterpart of generic_pt's kunit template). Random map / unmap /
 * lookup sequences go through the core API (`iommuMap`, `iommuUnmap`,
 * `iommuIovaToPhysLength`, `iommuIovaToPhys`) and are checked against {@link ReferenceMap};
 * each check is also exported as a function ({@link runConformanceCheck}) so the kit's
 * self-tests can prove that it catches the bug it is for.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  minPageSize,
  type PageTableInspector,
  PhysLength,
  type TableAllocator,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConformanceError,
  checkInspectorWalk,
  checkLengthContract,
  checkLookupCounters,
  checkOpCounters,
  checkTableCount,
  checkTranslation,
  diffSnapshots,
  hex,
  opCounters,
  snapshotTables,
  type TableSnapshot,
} from "./checks.js";
import { type PageTableSemantics, pageSizesOf, ReferenceMap, splitLeaves } from "./reference-map.js";
import { deriveSeed, seedOf } from "./seed.js";

/** A fresh domain under test and the allocator its tables come from. */
export interface ConformanceTarget {
  readonly domain: IommuDomain;
  readonly allocator: TableAllocator;
  /** Format-specific invariants (e.g. no table leaked), run after every sequence; throw to fail. */
  readonly invariant?: () => void;
}

export type DomainFactory = () => ConformanceTarget;

/** The checks a suite registers, in order. */
export const CHECKS = [
  "reference",
  "length-contract",
  "walk-cache",
  "inspector",
  "alloc-failure",
  "counters",
] as const;
export type CheckName = (typeof CHECKS)[number];

/** An address window [start, start + size). */
export interface Window {
  readonly start: number;
  readonly size: number;
}

export interface ConformanceOptions {
  /** The format's known kernel behaviours where formats differ (see {@link PageTableSemantics}). */
  readonly semantics: Omit<PageTableSemantics, "pgsizeBitmap">;
  /** Page sizes the generators build requests from (default: the domain's, up to 1 GiB). */
  readonly pageSizes?: readonly number[];
  /**
   * IOVAs the generators use (default: from the aperture start, 16 × the largest page size and
   * at least 64 MiB, inside the aperture). Its first quarter is populated before allocation
   * failures are injected into a map in the rest.
   */
  readonly iovaWindow?: Window;
  /** Physical addresses maps use (default [0, 4 GiB)). */
  readonly physWindow?: Window;
  /** Prot values maps use (default IOMMU_READ, IOMMU_WRITE, both). */
  readonly prots?: readonly number[];
  /** Executed operations of the reference sequence (default and minimum 10,000). */
  readonly ops?: number;
  /** Executed operations of each other sequence check (default 3,000). */
  readonly otherOps?: number;
  /** Operations on one fresh domain before the next (default 250). */
  readonly opsPerDomain?: number;
  /** Populated tables the allocation-failure check injects failures into (default 6). */
  readonly allocFailureRuns?: number;
  /** Base seed (default: {@link seedOf} the suite name). Each check derives its own from it. */
  readonly seed?: number;
  /** fast-check replay path printed by a failure (with the same seed). */
  readonly path?: string;
  /** Shrink a failing sequence (default true; the self-tests turn it off for speed). */
  readonly shrink?: boolean;
  /**
   * Wall-clock budget of one check, shrinking included (default 40 s, below vitest's 60 s test
   * timeout, so a failure is reported with its counterexample rather than as a timeout).
   * Running out of it without a failure fails the check.
   */
  readonly timeLimitMs?: number;
  /**
   * Known kernel behaviours that change what a check may demand, each with the reason (it
   * appears in the test name): nothing is relaxed silently.
   */
  readonly known?: {
    /** The lengths reported are not the leaves of the core's page-size split. */
    readonly leavesDifferFromSplit?: string;
    /** Tables installed by a map before its allocation failure stay (empty, reachable). */
    readonly allocFailureKeepsTables?: string;
    /** Tables stay allocated after everything is unmapped and the domain is freed. */
    readonly freeKeepsTables?: string;
    /** A write-only map is granted read too (the format cannot express write-only). */
    readonly writeImpliesRead?: string;
    /**
     * Several tables share one allocator block (a slab): table accounting is checked against
     * the inspector's reachable tables after each sequence only, not per operation.
     */
    readonly tablesShareBlocks?: string;
  };
  /** Prot bits an inspector's leaf must report back (default IOMMU_READ | IOMMU_WRITE; 0: none). */
  readonly protMask?: number;
  /** Checks that do not apply, with the reason: registered as skipped. */
  readonly skip?: Partial<Record<CheckName, string>>;
}

/** What one check executed. */
export interface CheckStats {
  /** Operations executed (a map, an unmap or a lookup; each also counted when it failed as expected). */
  ops: number;
  /** Fresh domains used. */
  domains: number;
  /** IOVAs checked after operations. */
  touched: number;
  /** Allocation failures injected (alloc-failure only). */
  failures: number;
  /** The check's seed. */
  seed: number;
  /** Kernel behaviours the sequences exercised (`map refused`, `unmap of a hole`, …). */
  events: Set<string>;
}

interface Plan {
  readonly sem: PageTableSemantics;
  /** The domain's aperture, inclusive (as numbers). */
  readonly aperture: { readonly start: number; readonly end: number };
  readonly sizes: readonly number[]; // ascending
  readonly min: number;
  readonly win: Window;
  readonly phys: Window;
  readonly prots: readonly number[];
  readonly exactLeaf: boolean;
}

const U32 = 2 ** 32;
const MAX_LEAVES_PER_MAP = 1024;

function frac(x: number): number {
  return x / U32;
}

function alignDown(x: number, a: number): number {
  return Math.floor(x / a) * a;
}

function num(a: number | bigint): number {
  return typeof a === "bigint" ? Number(a) : a;
}

/** The generators' plan for a domain: page sizes, windows, prots and the declared semantics. */
export function planOf(domain: IommuDomain, options: ConformanceOptions): Plan {
  const all = [...pageSizesOf(domain.pgsizeBitmap)].reverse();
  const sizes = [...(options.pageSizes ?? all.filter((s) => s <= 2 ** 30))].sort((a, b) => a - b);
  if (sizes.length === 0) throw new Error("conformance: no page size to use");
  for (const s of sizes)
    if (!all.includes(s)) throw new Error(`conformance: page size ${hex(s)} is not in the domain's bitmap`);
  const min = minPageSize(domain);
  const apStart = num(domain.geometry.apertureStart);
  const apEnd = num(domain.geometry.apertureEnd);
  const largest = sizes[sizes.length - 1]!;
  const win =
    options.iovaWindow ??
    ({ start: apStart, size: Math.min(Math.max(16 * largest, 2 ** 26), apEnd - apStart + 1) } as Window);
  if (win.start % largest !== 0 && options.iovaWindow === undefined)
    throw new Error("conformance: the aperture start is not aligned to the largest page size");
  const phys = options.physWindow ?? { start: 0, size: 2 ** 32 };
  return {
    sem: { ...options.semantics, pgsizeBitmap: domain.pgsizeBitmap },
    aperture: { start: apStart, end: Math.min(apEnd, Number.MAX_SAFE_INTEGER) },
    sizes,
    min,
    win,
    phys,
    prots: options.prots ?? [IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE],
    exactLeaf: options.known?.leavesDifferFromSplit === undefined,
  };
}

type Raw = readonly [number, number, number, number];

const rawOp = fc.tuple(
  fc.integer({ min: 0, max: 99 }),
  fc.integer({ min: 0, max: U32 - 1 }),
  fc.integer({ min: 0, max: U32 - 1 }),
  fc.integer({ min: 0, max: U32 - 1 }),
);

interface MapReq {
  iova: number;
  phys: number;
  size: number;
  prot: number;
}

/** Per-IOVA checks applied after every operation. */
type PerIova = (seq: Sequence, iova: number, where: string) => void;

/**
 * One fresh domain and its reference, and the operations the checks drive through the core.
 * Every executed operation is compared with the reference before it counts.
 */
class Sequence {
  readonly ref = new ReferenceMap();
  readonly domain: IommuDomain;
  readonly allocator: TableAllocator;
  executed = 0;
  touched = 0;
  /** Which step of the sequence runs (`op 17`), for messages. */
  prefix = "";
  /** The operation running, for messages. */
  label = "";
  /** One allocator block per table: the per-operation table accounting applies. */
  blockPerTable = true;
  /** The check this sequence runs for (names its own failures). */
  check: CheckName = "reference";
  /** Kernel behaviours exercised. */
  readonly events = new Set<string>();

  constructor(
    readonly target: ConformanceTarget,
    readonly plan: Plan,
    readonly perIova: PerIova,
    readonly countersCheck: boolean,
    public win: Window = plan.win,
  ) {
    this.domain = target.domain;
    this.allocator = target.allocator;
  }

  /**
   * Check one IOVA with the sequence's per-IOVA checks; false (nothing checked) outside the
   * domain's aperture. The reference knows the whole aperture: nothing is mapped outside the
   * window.
   */
  touch(iova: number): boolean {
    if (iova < this.plan.aperture.start || iova > this.plan.aperture.end) return false;
    this.touched++;
    this.perIova(this, iova, this.label);
    return true;
  }

  /** The IOVAs an operation on [iova, iova + size) touched: both ends, inside, and both neighbours. */
  touchRange(iova: number, size: number, salt: number): void {
    this.touch(iova);
    this.touch(iova + size - 1);
    this.touch(iova + Math.floor(frac(salt) * size));
    this.touch(iova - 1);
    this.touch(iova + size);
  }

  // ---------------------------------------------------------------- operations

  /** iommu_map through the core vs the reference. */
  map(req: MapReq): boolean {
    const { iova, phys, size, prot } = req;
    this.label = `${this.prefix}: map ${hex(iova)}+${hex(size)} → ${hex(phys)} prot ${prot}`;
    const before = this.countersCheck ? opCounters(this.domain, this.allocator) : undefined;
    const refBytes = this.ref.bytes;
    const want = this.ref.map(iova, phys, size, prot, this.plan.sem);
    let code: string | undefined;
    try {
      iommuMap(this.domain, iova, phys, size, prot);
    } catch (e) {
      if (!(e instanceof IommuError)) throw e;
      code = e.code;
      if (e.unrolled !== e.mapped)
        throw new ConformanceError(
          "reference",
          `the rollback of a failed map unmapped ${hex(e.unrolled)} of the ${hex(e.mapped)} bytes mapped [${this.label}]`,
        );
    }
    if (want.ok && code !== undefined)
      throw new ConformanceError(
        "reference",
        `failed with ${code}, the reference expects success [${this.label}]`,
      );
    if (!want.ok && code !== want.errno)
      throw new ConformanceError(
        "reference",
        `${code === undefined ? "succeeded" : `failed with ${code}`}, the reference expects ${want.errno} [${this.label}]`,
      );
    if (before)
      checkOpCounters(
        this.domain,
        this.allocator,
        before,
        want.ok ? size : Math.abs(this.ref.bytes - refBytes),
        {
          blockPerTable: this.blockPerTable,
          where: this.label,
        },
      );
    this.executed++;
    if (!want.ok) this.events.add("map refused");
    else if (this.ref.bytes - refBytes < size) this.events.add("map replaced smaller leaves");
    else this.events.add("map");
    this.touchRange(iova, size, phys % U32);
    return want.ok;
  }

  /** iommu_unmap through the core vs the reference (the range must have a defined outcome). */
  unmap(iova: number, size: number): number {
    this.label = `${this.prefix}: unmap ${hex(iova)}+${hex(size)}`;
    const before = this.countersCheck ? opCounters(this.domain, this.allocator) : undefined;
    const want = this.ref.unmap(iova, size, this.plan.sem);
    const got = iommuUnmap(this.domain, iova, size);
    if (got !== want.ret)
      throw new ConformanceError(
        "reference",
        `returned ${got}, the reference expects ${want.ret} [${this.label}]`,
      );
    if (before)
      checkOpCounters(this.domain, this.allocator, before, want.bytes, {
        blockPerTable: this.blockPerTable,
        where: this.label,
      });
    this.executed++;
    this.events.add(
      want.ret < 0
        ? "unmap of a hole: errno"
        : want.bytes === 0
          ? "unmap of nothing"
          : want.bytes < size
            ? "unmap stopped early"
            : want.bytes > size
              ? "unmap of more than asked"
              : "unmap",
    );
    this.touchRange(iova, Math.max(size, want.bytes), (iova + size) % U32);
    return got;
  }

  /** One lookup operation (the per-IOVA checks are the comparison); counted only when it ran. */
  lookup(iova: number): void {
    this.label = `${this.prefix}: lookup ${hex(iova)}`;
    if (this.touch(iova)) this.executed++;
  }

  // ---------------------------------------------------------------- generators

  private pickSize(a: number): number {
    return this.plan.sizes[a % this.plan.sizes.length]!;
  }

  private pickEntry(x: number) {
    const es = this.ref.entries;
    return es.length ? es[x % es.length] : undefined;
  }

  /** A map request from raw numbers: mostly near existing mappings, so they meet. */
  genMap(a: number, b: number, c: number): MapReq {
    const { min, win, phys: pw } = this.plan;
    const s = this.pickSize(a);
    let size = (1 + ((a >>> 8) % 3)) * s + (((a >>> 10) & 3) === 0 ? ((a >>> 12) % 4) * min : 0);
    if (size > win.size / 2) size = s <= win.size / 2 ? s : min;
    const align = ((a >>> 14) & 3) === 0 ? min : s;
    const e = this.pickEntry(b);
    let iova: number;
    switch (e ? (a >>> 16) % 4 : 0) {
      case 1: // right after a mapping
        iova = e!.iova + e!.size;
        break;
      case 2: // over a mapping
        iova = alignDown(e!.iova + frac(b) * e!.size, align);
        break;
      case 3: // right before a mapping
        iova = e!.iova - size;
        break;
      default:
        iova = win.start + alignDown(frac(b) * win.size, align);
    }
    if (iova < win.start) iova = win.start;
    if (iova + size > win.start + win.size) iova = win.start + alignDown(win.size - size, align);
    const prot = this.plan.prots[(a >>> 20) % this.plan.prots.length]!;
    // Physical address: mostly congruent with the iova modulo s (so large leaves are possible),
    // else offset by a smaller page size (so the split falls back to smaller leaves).
    const room = Math.max(pw.size - size - 2 * s, 0);
    const base = pw.start + alignDown(frac(c) * room, s) + (iova % s);
    const smaller = this.plan.sizes.filter((x) => x < s);
    let phys = base;
    if (((a >>> 24) & 3) === 0 && smaller.length) {
      phys = base + smaller[(c >>> 28) % smaller.length]!;
      const leaves = splitLeaves([...this.plan.sizes].reverse(), iova, phys, size) ?? [];
      let n = 0;
      for (const l of leaves) n += l.size / l.leaf;
      if (n > MAX_LEAVES_PER_MAP) phys = base;
    }
    return { iova, phys, size, prot };
  }

  /** Whether unmapping [iova, iova + size) has a defined outcome. */
  defined(iova: number, size: number): boolean {
    if (size <= 0 || iova < this.win.start || iova + size > this.win.start + this.win.size) return false;
    return !("undefinedBecause" in this.ref.predictUnmap(iova, size, this.plan.sem));
  }

  /** Unmap exactly a mapping and up to `extra` mappings adjacent to it: always defined. */
  unmapWhole(x: number, extra: number): void {
    const e = this.pickEntry(x);
    if (!e) {
      this.unmapHole(x, extra);
      return;
    }
    let end = e.iova + e.size;
    for (let k = 0; k < extra; k++) {
      const next = this.ref.find(end);
      if (!next || next.iova !== end) break;
      end += next.size;
    }
    this.unmap(e.iova, end - e.iova);
  }

  /**
   * An unmap starting in a hole, at an odd multiple of the smallest page (so the core's first
   * chunk is one smallest page: defined for every format), possibly running into mappings.
   */
  unmapHole(x: number, len: number): void {
    const { min, win } = this.plan;
    const iova = win.start + alignDown(frac(x) * (win.size - 2 * min), 2 * min) + min;
    const e = this.ref.find(iova);
    if (e) {
      this.unmap(e.iova, e.size);
      return;
    }
    const size = Math.max(min, alignDown(frac(len) * 64 * min, min));
    this.unmap(iova, this.defined(iova, size) ? size : min);
  }

  /** Part of a mapping: leaf-aligned or not, possibly past its end; falls back to a whole unmap. */
  unmapPartial(a: number, b: number, c: number): void {
    const e = this.pickEntry(b);
    if (!e) {
      this.unmapHole(b, c);
      return;
    }
    const { min } = this.plan;
    const unit = (a & 1) === 0 ? e.leaf : min;
    const start = e.iova + alignDown(frac(b) * e.size, unit);
    let end: number;
    switch ((a >>> 1) % 3) {
      case 0: // inside the mapping
        end = start + Math.max(unit, alignDown(frac(c) * (e.iova + e.size - start), unit));
        break;
      case 1: // past its end, into whatever follows
        end = e.iova + e.size + Math.max(min, alignDown(frac(c) * 4 * e.leaf, min));
        break;
      default: // mid-leaf end
        end = start + Math.max(min, alignDown(frac(c) * 2 * e.leaf, min));
    }
    if (this.defined(start, end - start)) this.unmap(start, end - start);
    else this.unmap(e.iova, e.size);
  }

  /** A lookup: anywhere in the window, inside a mapping, or just outside one. */
  genLookup(a: number, b: number): number {
    const e = this.pickEntry(b);
    const { win } = this.plan;
    switch (e ? a % 4 : 0) {
      case 1:
        return e!.iova + Math.floor(frac(b) * e!.size);
      case 2:
        return e!.iova - 1;
      case 3:
        return e!.iova + e!.size;
      default:
        return win.start + Math.floor(frac(b) * win.size);
    }
  }

  /** One operation of the random mix. */
  step([kind, a, b, c]: Raw): void {
    if (kind < 40) this.map(this.genMap(a, b, c));
    else if (kind < 62) this.unmapWhole(a, b % 4);
    else if (kind < 74) this.unmapPartial(a, b, c);
    else if (kind < 80) this.unmapHole(b, c);
    else this.lookup(this.genLookup(a, b));
  }

  /**
   * One churn step (walk-cache check): warm the lookups around an address, change the table
   * there (unmap, remap elsewhere, map over, map next to it), look again.
   */
  churn([kind, a, b, c]: Raw): void {
    const e = this.pickEntry(b);
    const x = e ? e.iova + Math.floor(frac(c) * e.size) : this.genLookup(0, b);
    const warm = [x, e ? e.iova : x, e ? e.iova + e.size - 1 : x];
    for (const w of warm) this.lookup(w);
    const m = kind % 4;
    if (m === 0 && e) {
      this.unmap(e.iova, e.size);
    } else if (m === 1 && e) {
      this.unmap(e.iova, e.size);
      const pw = this.plan.phys;
      const phys = pw.start + alignDown(frac(c) * Math.max(pw.size - e.size, 0), e.leaf);
      this.map({ iova: e.iova, size: e.size, phys, prot: this.plan.prots[a % this.plan.prots.length]! });
    } else if (m === 2) {
      const s = this.plan.sizes[this.plan.sizes.length - 1 - (a % Math.min(2, this.plan.sizes.length))]!;
      const iova = Math.max(this.plan.win.start, alignDown(x, s));
      if (iova + s <= this.plan.win.start + this.plan.win.size)
        this.map({ iova, phys: alignDown(this.genMap(a, b, c).phys, s), size: s, prot: this.plan.prots[0]! });
      else this.map(this.genMap(a, b, c));
    } else {
      this.map(this.genMap(a, b, c));
    }
    for (const w of warm) this.lookup(w);
  }

  /**
   * Every translation of the window, walked the way callers walk (one step per unit), checked
   * against the reference (the sequence's own per-IOVA checks ran where it operated).
   */
  scan(window: Window = this.win): void {
    const o = new PhysLength();
    const end = window.start + window.size;
    const exactLeaf = this.plan.exactLeaf;
    let steps = 0;
    for (let iova = window.start; iova < end; ) {
      checkTranslation(this.domain, this.ref, iova, { exactLeaf, where: `${this.label} (scan)` });
      iommuIovaToPhysLength(this.domain, iova, o);
      const next = alignDown(iova, o.length) + o.length;
      // A length that does not advance is a contract violation the per-IOVA checks report;
      // guard against looping on a domain that breaks it anyway.
      iova = next > iova ? next : iova + this.plan.min;
      if (++steps > 1_000_000)
        throw new ConformanceError("reference", "scan: more than 10^6 units in the window");
    }
  }

  /** Unmap every mapping (whole), check the window is empty, run the invariant, free the domain. */
  teardown(freeKeepsTables: boolean): void {
    this.prefix = `${this.prefix} (teardown)`;
    this.label = this.prefix;
    this.scan();
    this.target.invariant?.();
    while (this.ref.count) this.unmapWhole(0, 0);
    this.scan();
    this.target.invariant?.();
    // Table accounting once the table is empty (a visit is then cheap): every table still
    // allocated is reachable, and the counters say so.
    if (this.countersCheck)
      checkTableCount(this.domain, this.allocator, iommuDomainInspector(this.domain), this.label);
    this.domain.ops?.free?.(this.domain);
    if (freeKeepsTables) return;
    if (this.allocator.liveCount !== 0)
      throw new ConformanceError(
        this.check,
        `${this.allocator.liveCount} table blocks stay allocated after everything was unmapped and the domain freed`,
      );
    const c = this.domain.counters;
    if (this.countersCheck && c.tablesAllocated !== c.tablesFreed)
      throw new ConformanceError(
        "counters",
        `after the domain was freed: ${c.tablesAllocated} tables allocated, ${c.tablesFreed} freed`,
      );
  }
}

function perIovaFor(check: CheckName, plan: Plan, options: ConformanceOptions): PerIova {
  switch (check) {
    case "reference":
    case "walk-cache":
      return (s, iova, where) =>
        checkTranslation(s.domain, s.ref, iova, { exactLeaf: plan.exactLeaf, where });
    case "length-contract":
      return (s, iova, where) => checkLengthContract(s.domain, s.ref, iova, where);
    case "inspector": {
      const mask = options.protMask ?? IOMMU_READ | IOMMU_WRITE;
      const writeImpliesRead = options.known?.writeImpliesRead !== undefined;
      return (s, iova, where) => {
        const insp = iommuDomainInspector(s.domain) as PageTableInspector;
        checkTranslation(s.domain, s.ref, iova, { exactLeaf: plan.exactLeaf, where });
        checkInspectorWalk(s.domain, insp, iova, { ref: s.ref, protMask: mask, writeImpliesRead, where });
      };
    }
    case "counters":
      return (s, iova, where) => checkLookupCounters(s.domain, iova, where);
    default:
      return () => {};
  }
}

function assertRuns(
  check: CheckName,
  seed: number,
  options: ConformanceOptions,
  runs: number,
  perRun: number,
  body: (ops: readonly Raw[]) => void,
): void {
  const out = fc.check(
    fc.property(fc.array(rawOp, { minLength: perRun, maxLength: perRun }), (ops) => {
      body(ops);
    }),
    {
      numRuns: runs,
      seed: seed | 0,
      ...(options.path !== undefined ? { path: options.path } : {}),
      endOnFailure: options.shrink === false,
      // Report (a partly shrunk) failure before the test runner's own timeout hides it; a run
      // cut short without a failure fails too.
      interruptAfterTimeLimit: options.timeLimitMs ?? 40_000,
      markInterruptAsFailure: true,
    },
  );
  if (!out.failed) return;
  // Report the violation itself, with what replays it (the counterexample is thousands of numbers).
  const cause = out.errorInstance;
  if (cause === undefined || cause === null)
    throw new ConformanceError(
      check,
      `interrupted after ${options.timeLimitMs ?? 40_000} ms with ${out.numRuns} of ${runs} sequences run (seed ${hex(seed)})`,
    );
  const replay = `replay: seed ${hex(seed)} (fast-check ${out.seed}), path "${out.counterexamplePath}"${out.numShrinks ? `, shrunk ${out.numShrinks} times` : ""}`;
  if (cause instanceof ConformanceError)
    throw new ConformanceError(cause.check, `${cause.message.slice(cause.check.length + 2)}\n  ${replay}`);
  throw new ConformanceError(check, `${cause instanceof Error ? cause.stack : String(cause)}\n  ${replay}`);
}

/**
 * Run one check of the conformance suite on domains from `makeDomain`; throws (a
 * {@link ConformanceError} inside fast-check's report) on the first violation. Returns what it
 * executed; `describeDomainConformance` asserts the counts.
 */
export function runConformanceCheck(
  check: CheckName,
  makeDomain: DomainFactory,
  options: ConformanceOptions,
  baseSeed: number = options.seed ?? 0,
): CheckStats {
  const seed = deriveSeed(baseSeed, CHECKS.indexOf(check));
  const perDomain = options.opsPerDomain ?? 250;
  const stats: CheckStats = { ops: 0, domains: 0, touched: 0, failures: 0, seed, events: new Set() };
  const freeKeeps = options.known?.freeKeepsTables !== undefined;
  if (check === "alloc-failure") {
    runAllocFailure(makeDomain, options, seed, stats);
    return stats;
  }
  const want = check === "reference" ? Math.max(options.ops ?? 10_000, 10_000) : (options.otherOps ?? 3_000);
  const churn = check === "walk-cache" || check === "inspector";
  // A step executes one operation (a churn step about eight); the raw steps are replayed in
  // order until the domain has executed its share.
  const perRun = churn ? Math.ceil(perDomain / 6) : perDomain;
  const runs = Math.ceil(want / perDomain);
  assertRuns(check, seed, options, runs, perRun, (ops) => {
    const t = makeDomain();
    const plan = planOf(t.domain, options);
    const s = new Sequence(t, plan, perIovaFor(check, plan, options), check === "counters");
    s.blockPerTable = options.known?.tablesShareBlocks === undefined;
    s.check = check;
    stats.domains++;
    for (let i = 0; s.executed < perDomain; i++) {
      s.prefix = `op ${i}`;
      const raw = ops[i % ops.length]!;
      if (churn) s.churn(raw);
      else s.step(raw);
    }
    s.teardown(freeKeeps);
    stats.ops += s.executed;
    stats.touched += s.touched;
    for (const e of s.events) stats.events.add(e);
  });
  return stats;
}

/** The units of `window` a caller's walk visits (one lookup per unit). */
function unitStarts(domain: IommuDomain, window: Window, min: number): number[] {
  const o = new PhysLength();
  const out: number[] = [];
  for (let iova = window.start; iova < window.start + window.size; ) {
    out.push(iova);
    iommuIovaToPhysLength(domain, iova, o);
    const next = alignDown(iova, o.length) + o.length;
    iova = next > iova ? next : iova + min;
  }
  return out;
}

/** One lookup as text: `iova:phys+length` or `iova:hole length`. */
function lookupText(domain: IommuDomain, iova: number, o: PhysLength): string {
  iommuIovaToPhysLength(domain, iova, o);
  return `${hex(iova)}:${o.mapped ? `${hex(o.physBigInt)}+${hex(o.length)}` : `hole ${hex(o.length)}`}`;
}

/**
 * Allocation failure at every table allocation of one map into a populated table: populate
 * the first quarter of the window at random, then, in the untouched rest, map a run of
 * smallest pages that starts just below a large page boundary, with `allocator.failNth(N)`
 * for N = 1, 2, … until it succeeds (a run that needed no new table stays mapped, and the
 * next one, twice as long, is tried after it). After each failure: ENOMEM, the same table
 * memory and live count (or, for formats that keep tables installed before the failure,
 * only empty entries filled, with blocks the successful map then uses), and the same
 * translations everywhere.
 */
function runAllocFailure(
  makeDomain: DomainFactory,
  options: ConformanceOptions,
  seed: number,
  stats: CheckStats,
) {
  const keeps = options.known?.allocFailureKeepsTables !== undefined;
  // Blocks shared by several tables hold free space with stale bytes a new table is zeroed
  // over: compare entries (through the inspector) rather than words there.
  const byEntry = keeps && options.known?.tablesShareBlocks !== undefined;
  const runs = options.allocFailureRuns ?? 6;
  assertRuns("alloc-failure", seed, options, runs, 60, (ops) => {
    const t = makeDomain();
    const plan = planOf(t.domain, options);
    const { min, win } = plan;
    const quarter = alignDown(win.size / 4, plan.sizes[plan.sizes.length - 1]!);
    const lower: Window = { start: win.start, size: quarter };
    const upper: Window = { start: win.start + quarter, size: win.size - quarter };
    const s = new Sequence(
      t,
      { ...plan, win: lower },
      (q, iova, where) => checkTranslation(q.domain, q.ref, iova, { exactLeaf: plan.exactLeaf, where }),
      false,
      lower,
    );
    s.check = "alloc-failure";
    stats.domains++;
    ops.forEach((raw, i) => {
      s.prefix = `populate op ${i}`;
      s.step(raw);
    });
    stats.ops += s.executed;
    const big = [...plan.sizes].reverse().find((x) => x > min && 8 * x <= upper.size) ?? 2 * min;
    const [, a, b] = ops[0] ?? [0, 0, 0, 0];
    const prot = plan.prots[a % plan.prots.length]!;
    // Physical addresses one smallest page off the IOVA's alignment: every leaf is a smallest page.
    const physBase = plan.phys.start + alignDown(frac(b) * (plan.phys.size / 2), big) + min;
    let at = upper.start + big - min;
    for (let leaves = 4; ; leaves *= 2) {
      const size = leaves * min;
      if (at + size > upper.start + upper.size)
        throw new ConformanceError(
          "alloc-failure",
          `no map of smallest pages up to ${hex(size)} from ${hex(upper.start + big - min)} needed a new table`,
        );
      const failures = injectUntilSuccess(s, t, plan, keeps, byEntry, at, physBase + (at % big), size, prot);
      stats.failures += failures;
      stats.ops++;
      if (failures > 0) break;
      at += size;
    }
    s.win = win;
    s.scan(win);
    s.teardown(options.known?.freeKeepsTables !== undefined);
  });
}

/** The failNth(1, 2, …) loop of one map; returns the number of failures injected before it succeeded. */
function injectUntilSuccess(
  s: Sequence,
  t: ConformanceTarget,
  plan: Plan,
  keeps: boolean,
  byEntry: boolean,
  iova: number,
  phys: number,
  size: number,
  prot: number,
): number {
  const { min, win } = plan;
  const lower = s.win;
  const extra = s.ref.entries.flatMap((e) => [e.iova, e.iova + e.size - 1]);
  const left: TableSnapshot[] = [];
  const o = new PhysLength();
  let n = 1;
  for (; ; n++) {
    if (n > 256)
      throw new ConformanceError("alloc-failure", "the map still fails after 256 injected failures");
    const before = snapshotTables(t.allocator, byEntry ? iommuDomainInspector(t.domain) : null);
    const samples = [...unitStarts(t.domain, win, min), ...extra];
    const seen = samples.map((x) => lookupText(t.domain, x, o));
    t.allocator.failNth(n);
    let err: unknown;
    try {
      iommuMap(t.domain, iova, phys, size, prot);
    } catch (e) {
      err = e;
    }
    t.allocator.failNth(0);
    const where = `map ${hex(iova)}+${hex(size)} → ${hex(phys)} with allocation ${n} failing`;
    if (err === undefined) break;
    if (!(err instanceof IommuError) || err.code !== "ENOMEM")
      throw new ConformanceError(
        "alloc-failure",
        `${where}: expected IommuError ENOMEM, got ${err instanceof IommuError ? err.code : String(err)}`,
      );
    const after = snapshotTables(t.allocator, byEntry ? iommuDomainInspector(t.domain) : null);
    const diff = diffSnapshots(before, after, keeps ? "keeps-tables" : "exact");
    if (diff) throw new ConformanceError("alloc-failure", `${where}: ${diff}`);
    // The same lookups at every unit seen before (holes may have shrunk where a format kept
    // a table), then a walk of the whole window against the reference.
    samples.forEach((x, j) => {
      const now = lookupText(t.domain, x, o);
      if (now === seen[j] || (keeps && !o.mapped && seen[j]!.includes("hole"))) return;
      throw new ConformanceError("alloc-failure", `${where}: translation changed: ${seen[j]} → ${now}`);
    });
    s.label = where;
    s.win = win;
    s.scan(win);
    s.win = lower;
    left.push(after);
  }
  // It succeeded: the reference agrees, and tables kept by failed attempts are in use.
  const want = s.ref.map(iova, phys, size, prot, plan.sem);
  if (!want.ok)
    throw new ConformanceError("alloc-failure", `the reference refuses ${hex(iova)}+${hex(size)}`);
  s.label = `map ${hex(iova)}+${hex(size)} → ${hex(phys)} after ${n - 1} failures`;
  s.win = win;
  s.scan({ start: iova, size });
  s.win = lower;
  // Blocks a failed attempt left allocated must still be live and, where the inspector can
  // tell, hold a table the page table reaches.
  const final = new Set(t.allocator.liveBlocks().map((x) => x.pa));
  const insp = iommuDomainInspector(t.domain);
  const tables: number[] = [];
  if (insp) {
    tables.push(insp.geometry().root);
    insp.visit((e) => {
      if (e.kind === "table" && e.nextTable !== undefined) tables.push(e.nextTable);
    });
  }
  for (const snap of left)
    for (const blk of snap.blocks) {
      if (!final.has(blk.pa))
        throw new ConformanceError(
          "alloc-failure",
          `table block ${hex(blk.pa)} left by a failed attempt was freed when the map succeeded`,
        );
      if (insp && !tables.some((x) => x >= blk.pa && x < blk.pa + blk.bytes))
        throw new ConformanceError(
          "alloc-failure",
          `table block ${hex(blk.pa)} left by a failed attempt is not reachable from the page table (leaked)`,
        );
    }
  return n - 1;
}

/**
 * The kernel behaviours a reference sequence must have exercised for `semantics` (so a
 * generator that stops reaching one fails rather than passing vacuously).
 */
export function expectedEvents(semantics: ConformanceOptions["semantics"]): string[] {
  const out = ["map", "map refused", "unmap", "unmap stopped early", "unmap of nothing"];
  if (semantics.mapOverTable === "replace") out.push("map replaced smaller leaves");
  if (semantics.unmapHole !== 0) out.push("unmap of a hole: errno");
  if (semantics.unmapPartialLeaf === "whole") out.push("unmap of more than asked");
  return out;
}

function checkTitle(check: CheckName, options: ConformanceOptions, seed: number): string {
  const ops = Math.max(options.ops ?? 10_000, 10_000);
  const other = options.otherOps ?? 3_000;
  const k = options.known ?? {};
  switch (check) {
    case "reference":
      return `random map/unmap/lookup through the core vs the reference model: ≥ ${ops.toLocaleString("en")} ops (seed ${hex(seed)})${k.leavesDifferFromSplit ? ` (lengths checked as contained units: ${k.leavesDifferFromSplit})` : ""}`;
    case "length-contract":
      return `iova_to_phys_length keeps its length contract at every touched IOVA: ≥ ${other.toLocaleString("en")} ops`;
    case "walk-cache":
      return `walk caches are invisible: lookups right after unmap / remap / map-over match the reference: ≥ ${other.toLocaleString("en")} ops`;
    case "inspector":
      return `every lookup matches the inspector's cache-free walk (phys, length, prot): ≥ ${other.toLocaleString("en")} ops`;
    case "alloc-failure":
      return `allocation failure at every table allocation of a map into a populated table leaves tables and translations unchanged${k.allocFailureKeepsTables ? ` (except empty tables kept: ${k.allocFailureKeepsTables})` : ""}`;
    case "counters":
      return `counters: one walk and no write per lookup, no walk per map/unmap, tables allocated − freed = tables held: ≥ ${other.toLocaleString("en")} ops${k.tablesShareBlocks ? ` (tables counted per sequence: ${k.tablesShareBlocks})` : ""}`;
  }
}

/**
 * Register the conformance suite of a domain (vitest `describe`): one `it` per check, skipped
 * with its reason where it does not apply. `makeDomain` must return a fresh domain each call.
 */
export function describeDomainConformance(
  name: string,
  makeDomain: DomainFactory,
  options: ConformanceOptions,
): void {
  const seed = options.seed ?? seedOf(name);
  const opts: ConformanceOptions = { ...options, seed };
  describe(`${name} conformance (seed ${hex(seed)})`, () => {
    const probe = makeDomain();
    const hasInspector = iommuDomainInspector(probe.domain) !== null;
    probe.domain.ops?.free?.(probe.domain);
    for (const check of CHECKS) {
      const title = checkTitle(check, opts, seed);
      const reason =
        options.skip?.[check] ??
        (check === "inspector" && !hasInspector
          ? "the domain has no inspector (iommuDomainInspector → null)"
          : undefined);
      if (reason !== undefined) {
        it.skip(`${title} — skipped: ${reason}`, () => {});
        continue;
      }
      it(title, () => {
        const stats = runConformanceCheck(check, makeDomain, opts, seed);
        if (check === "alloc-failure") {
          expect(stats.failures, "allocation failures injected").toBeGreaterThanOrEqual(stats.domains);
        } else {
          const want =
            check === "reference" ? Math.max(options.ops ?? 10_000, 10_000) : (options.otherOps ?? 3_000);
          expect(stats.ops, `executed operations (seed ${hex(stats.seed)})`).toBeGreaterThanOrEqual(want);
          if (check === "reference")
            expect([...stats.events], "kernel behaviours exercised").toEqual(
              expect.arrayContaining(expectedEvents(options.semantics)),
            );
        }
      });
    }
  });
}
