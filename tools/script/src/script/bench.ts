/**
 * The harness's timing commands (SCRIPT-FORMAT.md §5): `bench-map`, `bench-unmap`,
 * `bench-walk` on the live table, and `bench-1g`, a Markdown table for an arm64-s1 4K table
 * covering a 1 GiB identity region. They drive the raw ops of any {@link ScriptTable}, so every
 * family gets them. Clocks are read outside the loops only; the loops allocate nothing.
 */
import { hex, IOMMU_READ, IOMMU_WRITE, SizeOut, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import type { Clock } from "../clock.js";
import type { ScriptSession } from "./engine.js";
import { parseCount, parseHex } from "./parse.js";
import type { ScriptTable } from "./target.js";

const PROT_RW = IOMMU_READ | IOMMU_WRITE;
/** Where the identity region of the timing commands starts by default (1 GiB aligned). */
export const BENCH_BASE = 0x40000000;

export interface BenchResult {
  lines: string[];
  destroyed?: boolean;
}

/** One of the bench commands, or undefined when `name` is not one. */
export function benchCommand(
  name: string,
  args: readonly string[],
  s: ScriptSession,
): BenchResult | undefined {
  switch (name) {
    case "bench-map":
      return { lines: [withTable(s, (t) => benchMap(s, t, args))] };
    case "bench-unmap":
      return { lines: [withTable(s, (t) => benchUnmap(s, t, args))] };
    case "bench-walk":
      return { lines: [withTable(s, (t) => benchWalk(s, t, args))] };
    case "bench-1g":
      return bench1g(s, args);
    default:
      return undefined;
  }
}

function withTable(s: ScriptSession, fn: (t: ScriptTable) => string): string {
  return s.current ? fn(s.current) : "err no-fmt";
}

/** Optional hex arguments after a leading count; undefined when any is invalid. */
function parseArgs(args: readonly string[], maxHex: number): { n: number; hexes: number[] } | undefined {
  if (args.length < 1 || args.length > 1 + maxHex) return undefined;
  const n = parseCount(args[0]!);
  if (n === undefined) return undefined;
  const hexes: number[] = [];
  for (const a of args.slice(1)) {
    const v = parseHex(a);
    if (v === undefined) return undefined;
    hexes.push(Number(v));
  }
  return { n, hexes };
}

function ms(ns: bigint): string {
  return (Number(ns) / 1e6).toFixed(3);
}

function perOp(ns: bigint, n: number): string {
  return (n > 0 ? Number(ns) / n : 0).toFixed(1);
}

/** `bench-map n [pgsize] [base]`: n raw map_pages calls of one page each, identity. */
function benchMap(s: ScriptSession, t: ScriptTable, args: readonly string[]): string {
  const p = parseArgs(args, 2);
  if (!p) return "err bad-args";
  const { n } = p;
  const pgsize = p.hexes[0] ?? SZ_4K;
  const base = p.hexes[1] ?? BENCH_BASE;
  const m = s.mark();
  const mapped = new SizeOut();
  const t0 = s.clock();
  const failed = mapLoop(t, n, base, pgsize, mapped);
  const dt = s.clock() - t0;
  return `bench-map n=${n} pgsize=${hex(pgsize)} total_ms=${ms(dt)} ns/op=${perOp(dt, n)}${failed ? " ERR" : ""}${s.suffix(m)}`;
}

/** `bench-unmap n [pgsize] [base]`: n raw unmap_pages calls of one page each. */
function benchUnmap(s: ScriptSession, t: ScriptTable, args: readonly string[]): string {
  const p = parseArgs(args, 2);
  if (!p) return "err bad-args";
  const { n } = p;
  const pgsize = p.hexes[0] ?? SZ_4K;
  const base = p.hexes[1] ?? BENCH_BASE;
  const m = s.mark();
  const t0 = s.clock();
  const failed = unmapLoop(t, n, base, pgsize);
  const dt = s.clock() - t0;
  return `bench-unmap n=${n} pgsize=${hex(pgsize)} total_ms=${ms(dt)} ns/op=${perOp(dt, n)} failed=${failed}${s.suffix(m)}`;
}

/** `bench-walk n [stride] [base] [span]`: n iova_to_phys lookups cycling through [base, base+span). */
function benchWalk(s: ScriptSession, t: ScriptTable, args: readonly string[]): string {
  const p = parseArgs(args, 3);
  if (!p) return "err bad-args";
  const { n } = p;
  const stride = p.hexes[0] ?? SZ_4K;
  const base = p.hexes[1] ?? BENCH_BASE;
  const span = p.hexes[2] ?? Math.max(stride * n, SZ_4K);
  const m = s.mark();
  const t0 = s.clock();
  const notIdentity = walkLoop(t, n, base, stride, span);
  const dt = s.clock() - t0;
  return `bench-walk n=${n} stride=${hex(stride)} span=${hex(span)} total_ms=${ms(dt)} ns/op=${perOp(dt, n)} not_identity=${notIdentity}${s.suffix(m)}`;
}

/** One timed phase of bench-1g. */
interface Phase {
  name: string;
  /** Units the ns/op column divides by (pages, lookups). */
  ops: number;
  run(t: ScriptTable, clock: Clock): { ns: bigint; failed: number };
}

/*
 * The timed loops, each alone in a small function: V8 compiles a loop that runs once (a
 * bench's) by on-stack replacement, which comes sooner for a small function, and until then
 * every operation pays the interpreter's call into the op (≈ 90 ns here). Nothing else runs
 * in them, as in the kernel harness's loops.
 */

/** `n` map_pages calls of one page each, identity from `iova`; returns the failures. */
function mapLoop(t: ScriptTable, n: number, iova: number, pgsize: number, mapped: SizeOut): number {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    mapped.value = 0;
    if (t.mapPages(iova, iova, pgsize, 1, PROT_RW, mapped) !== 0) failed++;
    iova += pgsize;
  }
  return failed;
}

/** `n` unmap_pages calls of one page each from `iova`; returns the failures. */
function unmapLoop(t: ScriptTable, n: number, iova: number, pgsize: number): number {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    if (t.unmapPages(iova, pgsize, 1) !== pgsize) failed++;
    iova += pgsize;
  }
  return failed;
}

/** `n` lookups cycling through [base, base + span) by `stride`; returns the non-identity answers. */
function walkLoop(t: ScriptTable, n: number, base: number, stride: number, span: number): number {
  let notIdentity = 0;
  let off = 0;
  for (let i = 0; i < n; i++) {
    const iova = base + off;
    if (t.phys(iova) !== iova) notIdentity++;
    off += stride;
    if (off >= span) off %= span;
  }
  return notIdentity;
}

function mapEach(pgsize: number): (t: ScriptTable, clock: Clock) => { ns: bigint; failed: number } {
  return (t, clock) => {
    const mapped = new SizeOut();
    const t0 = clock();
    const failed = mapLoop(t, SZ_1G / pgsize, BENCH_BASE, pgsize, mapped);
    return { ns: clock() - t0, failed };
  };
}

function unmapEach(pgsize: number): (t: ScriptTable, clock: Clock) => { ns: bigint; failed: number } {
  return (t, clock) => {
    const t0 = clock();
    const failed = unmapLoop(t, SZ_1G / pgsize, BENCH_BASE, pgsize);
    return { ns: clock() - t0, failed };
  };
}

function lookupEach4k(t: ScriptTable, clock: Clock): { ns: bigint; failed: number } {
  const t0 = clock();
  const failed = walkLoop(t, SZ_1G / SZ_4K, BENCH_BASE, SZ_4K, SZ_1G);
  return { ns: clock() - t0, failed };
}

/** map_pages with the whole remaining count: the format stops at each table end. */
function mapBatched(t: ScriptTable, clock: Clock): { ns: bigint; failed: number } {
  const mapped = new SizeOut();
  let failed = 0;
  let done = 0;
  const t0 = clock();
  while (done < SZ_1G) {
    mapped.value = 0;
    const iova = BENCH_BASE + done;
    const ret = t.mapPages(iova, iova, SZ_4K, (SZ_1G - done) / SZ_4K, PROT_RW, mapped);
    if (ret !== 0 || mapped.value === 0) {
      failed++;
      break;
    }
    done += mapped.value;
  }
  return { ns: clock() - t0, failed };
}

function unmapBatched(t: ScriptTable, clock: Clock): { ns: bigint; failed: number } {
  let failed = 0;
  let done = 0;
  const t0 = clock();
  while (done < SZ_1G) {
    const r = t.unmapPages(BENCH_BASE + done, SZ_4K, (SZ_1G - done) / SZ_4K);
    if (typeof r === "string" || r <= 0) {
      failed++;
      break;
    }
    done += r;
  }
  return { ns: clock() - t0, failed };
}

/** Phase groups: each group runs on a fresh table, in order. */
const GROUPS: readonly (readonly Phase[])[] = [
  [
    { name: "map 4K x 262144 (map_pages, 1 page)", ops: SZ_1G / SZ_4K, run: mapEach(SZ_4K) },
    { name: "iova_to_phys over 4K leaves", ops: SZ_1G / SZ_4K, run: lookupEach4k },
    { name: "unmap 4K x 262144 (unmap_pages, 1 page)", ops: SZ_1G / SZ_4K, run: unmapEach(SZ_4K) },
  ],
  [
    { name: "map 2M x 512 (map_pages, 1 block)", ops: SZ_1G / SZ_2M, run: mapEach(SZ_2M) },
    { name: "iova_to_phys over 2M leaves (4K stride)", ops: SZ_1G / SZ_4K, run: lookupEach4k },
    { name: "unmap 2M x 512 (unmap_pages, 1 block)", ops: SZ_1G / SZ_2M, run: unmapEach(SZ_2M) },
  ],
  [
    { name: "batched map 4K (map_pages pgcount), per page", ops: SZ_1G / SZ_4K, run: mapBatched },
    { name: "batched unmap 4K (unmap_pages pgcount), per page", ops: SZ_1G / SZ_4K, run: unmapBatched },
  ],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * `bench-1g [reps]`: destroys the live table, then times each phase `reps` times (default 3,
 * after one uncounted warm-up) on fresh arm64-s1 4K ias/oas 48 tables and prints the medians
 * as a Markdown table.
 */
function bench1g(s: ScriptSession, args: readonly string[]): BenchResult {
  if (args.length > 1) return { lines: ["err bad-args"] };
  const reps = args[0] === undefined ? 3 : parseCount(args[0]);
  if (reps === undefined || reps < 1) return { lines: ["err bad-args"] };
  const family = s.families.find((f) => f.formats.includes("arm64-s1"));
  if (!family) return { lines: ["err bad-fmt", ""] };
  const parsed = family.parseFmt("arm64-s1", ["granule", "4k", "ias", "48", "oas", "48"]);
  s.replaceTable(null);
  const rows: Array<{ phase: Phase; ns: number[]; failed: number }> = [];
  for (const group of GROUPS) for (const phase of group) rows.push({ phase, ns: [], failed: 0 });
  // Repetition 0 warms the JIT up and is not counted.
  for (let r = -1; r < reps; r++) {
    let row = 0;
    for (const group of GROUPS) {
      const created = parsed === undefined ? undefined : family.create(parsed, s.env);
      if (created?.kind !== "ok") return { lines: ["err alloc"], destroyed: true };
      for (const phase of group) {
        const res = phase.run(created.table, s.clock);
        const entry = rows[row++]!;
        if (r < 0) continue;
        entry.ns.push(Number(res.ns));
        entry.failed += res.failed;
      }
      created.table.destroy();
    }
  }
  const lines = [
    `bench-1g: arm64-s1 4K ias=48 oas=48, 1 GiB identity at ${hex(BENCH_BASE)}, median of ${reps} after 1 warm-up`,
    "",
    "| operation | ops | total ms | ns/op | failed |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const { phase, ns, failed } of rows) {
    const med = median(ns);
    lines.push(
      `| ${phase.name} | ${phase.ops} | ${(med / 1e6).toFixed(3)} | ${(med / phase.ops).toFixed(1)} | ${failed} |`,
    );
  }
  return { lines, destroyed: true };
}
