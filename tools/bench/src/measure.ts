/**
 * Timing discipline shared by every section: a run builds its fixture untimed, times one
 * loop with two process.hrtime.bigint() reads around it, and tears down untimed. The figure
 * kept is the median over several runs after warm-up runs (JIT tiers settle first).
 */
export interface MeasureOptions {
  warmup: number;
  runs: number;
  /** Operations to run untimed before sampling (default 50,000; a smoke run passes 0). */
  warmupOps?: number;
}

export const DEFAULT_MEASURE: MeasureOptions = { warmup: 2, runs: 7 };

/** Operations to run untimed before sampling (at least `warmup` runs). */
const WARMUP_OPS = 50_000;

/** One run: returns the elapsed nanoseconds of its timed loop. */
export type TimedRun = () => bigint;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median nanoseconds per op of `run` (which performs `ops` operations in its timed loop). */
export function nsPerOp(run: TimedRun, ops: number, o: MeasureOptions = DEFAULT_MEASURE): number {
  // Warm up by work done, not by runs: a 512-op loop needs many runs before V8's optimising
  // tier has compiled its path (the kernel figure is of compiled C, so compare compiled code).
  const warmups = Math.max(o.warmup, Math.ceil((o.warmupOps ?? WARMUP_OPS) / ops));
  for (let i = 0; i < warmups; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < o.runs; i++) samples.push(Number(run()) / ops);
  return median(samples);
}

/** A benchmark result row; sections return these and index.ts prints them. */
export interface BenchRow {
  /** What was measured. */
  name: string;
  /** Median ns per operation (per page for batched rows). */
  ns: number;
  /** The kernel C figure for the same operation, when there is one. */
  kernelNs?: number;
  /** Free text: counts, PTE reads... */
  note?: string;
}
