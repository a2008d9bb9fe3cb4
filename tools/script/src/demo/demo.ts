/**
 * `iommu demo`: every scenario × every driver/format, legacy vs length-aware. This is the
 * run itself (jobs, progress, rows); printing the table or JSON and writing the report file
 * are the CLI's.
 */
import { type Clock, performanceClock } from "../clock.js";
import type { CallerScenario } from "./caller.js";
import { CALLER_SCENARIOS } from "./callers/index.js";
import type { DemoRow } from "./row.js";
import { type Measurement, runScenario } from "./run.js";
import { driverScenarios, GRANULES, type Granule, type Scenario, scenariosFor } from "./scenarios.js";
import { ALL_FORMATS, type DemoTarget, demoTargets, type TargetFormat } from "./targets.js";

export interface DemoOptions {
  /** Granules to run (default all three). */
  granules?: readonly Granule[];
  /** Formats (default all: arm-smmu-v3 s1/s2, generic_pt amdv1/x86_64/vtdss/riscv). */
  formats?: readonly TargetFormat[];
  /**
   * Every target (`iommu demo --all`); by default the targets marked `byDefault` run, unless
   * `formats` names others.
   */
  all?: boolean;
  /** Only scenarios whose name or kind is listed. */
  scenarios?: readonly string[];
  /** Runs per mode; the fastest wall time is reported (default 1). */
  repeat?: number;
  /** Wall-time clock (default performance.now()). */
  clock?: Clock;
  /** Caller scenarios to choose from (default: every registered one, callers/index.ts). */
  callers?: readonly CallerScenario[];
}

export interface DemoProgress {
  /** Called before each scenario and once at the end (done === total). */
  progress?(done: number, total: number, label: string): void;
}

/** A VFIO type1 scenario on one driver target. */
export interface DemoJob {
  target: DemoTarget;
  scenario: Scenario;
}

/** The (target, scenario) pairs a run covers, in table order. */
export function demoJobs(options: Omit<DemoOptions, "repeat" | "clock"> = {}): DemoJob[] {
  const wanted = options.scenarios?.length ? new Set(options.scenarios) : undefined;
  const jobs: DemoJob[] = [];
  // Without --all (and without --format naming targets), only the representative rows run.
  const everything = options.all || !!options.formats?.length;
  for (const target of demoTargets(options.granules ?? GRANULES, options.formats ?? ALL_FORMATS))
    for (const scenario of target.layout ? driverScenarios(target.layout) : scenariosFor(target.granule))
      if (!everything && !inDefault(target, scenario)) continue;
      else if (!wanted || wanted.has(scenario.name) || wanted.has(scenario.kind))
        jobs.push({ target, scenario });
  return jobs;
}

/** The `--format` values that select caller rows: every caller and driver name, in table order. */
export function callerFormatNames(callers: readonly CallerScenario[] = CALLER_SCENARIOS): string[] {
  return [...new Set(callers.flatMap((c) => [c.caller, c.driver]))];
}

/**
 * The caller scenarios a run covers (after the VFIO rows): `--format` names a caller or a
 * driver, `--scenarios` an id or a caller; without either (and without `--all`) the default set.
 */
export function callerJobs(options: Omit<DemoOptions, "repeat" | "clock"> = {}): CallerScenario[] {
  const wanted = options.scenarios?.length ? new Set(options.scenarios) : undefined;
  const formats = options.formats?.length ? new Set(options.formats) : undefined;
  return (options.callers ?? CALLER_SCENARIOS).filter(
    (c) =>
      (formats ? formats.has(c.caller) || formats.has(c.driver) : options.all || c.byDefault) &&
      (!wanted || wanted.has(c.id) || wanted.has(c.caller)),
  );
}

/** Whether `scenario` on `target` is one of the default run's representative rows (by kind or by name). */
function inDefault(target: DemoTarget, scenario: Scenario): boolean {
  const d = target.byDefault;
  return d === true || (d !== false && (d.includes(scenario.kind) || d.includes(scenario.name)));
}

/** Run every job of `options`, reporting progress; returns the rows in table order. */
export function runDemoRows(options: DemoOptions = {}, io: DemoProgress = {}): DemoRow[] {
  const jobs = demoJobs(options);
  const callers = callerJobs(options);
  const total = jobs.length + callers.length;
  const clock = options.clock ?? performanceClock;
  const rows: DemoRow[] = [];
  jobs.forEach((job, i) => {
    io.progress?.(i, total, `${job.scenario.name} ${job.target.format} ${job.target.granule / 1024}K`);
    rows.push(runScenario(job.target, job.scenario, options.repeat ?? 1, clock));
  });
  callers.forEach((c, i) => {
    io.progress?.(jobs.length + i, total, `${c.id} ${c.driver}`);
    rows.push(runCallerScenario(c, options.repeat ?? 1, clock));
  });
  io.progress?.(total, total, "done");
  return rows;
}

/** Both modes of a caller scenario as a table row; repeated runs must count the same. */
export function runCallerScenario(c: CallerScenario, repeat = 1, clock: Clock = performanceClock): DemoRow {
  let legacy: Measurement | undefined;
  let length: Measurement | undefined;
  for (let i = 0; i < Math.max(1, repeat); i++) {
    legacy = fastest(legacy, c.measure("legacy", clock), c.id);
    length = fastest(length, c.measure("length", clock), c.id);
  }
  const pair = (k: keyof Measurement) => ({ legacy: legacy![k], length: length![k] });
  const r = c.measureRuns?.(clock);
  return {
    scenario: c.id,
    caller: c.caller,
    driver: c.driver,
    format: c.format,
    granule: c.granule,
    leafSize: c.leafSize,
    regionSize: c.regionSize,
    walks: pair("walks"),
    pteReads: pair("pteReads"),
    unmapCalls: pair("unmapCalls"),
    iotlbSyncs: pair("iotlbSyncs"),
    ns: pair("ns"),
    expected: c.expected,
    ...(r ? { runs: { walks: r.walks, pteReads: r.pteReads } } : {}),
  };
}

function fastest(best: Measurement | undefined, m: Measurement, id: string): Measurement {
  if (!best) return m;
  for (const k of ["walks", "pteReads", "unmapCalls", "iotlbSyncs"] as const)
    if (best[k] !== m[k])
      throw new Error(`demo: ${id}: ${k} differs between repetitions (${best[k]} vs ${m[k]})`);
  return m.ns < best.ns ? m : best;
}
