/**
 * `iommu demo`: every scenario × every driver/format, legacy vs length-aware. This is the
 * run itself (jobs, progress, rows); printing the table or JSON and writing the report file
 * are the CLI's.
 */
import { type Clock, performanceClock } from "../clock.js";
import type { DemoRow } from "./row.js";
import { runScenario } from "./run.js";
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
}

export interface DemoProgress {
  /** Called before each scenario and once at the end (done === total). */
  progress?(done: number, total: number, label: string): void;
}

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

/** Whether `scenario` on `target` is one of the default run's representative rows. */
function inDefault(target: DemoTarget, scenario: Scenario): boolean {
  const d = target.byDefault;
  return d === true || (d !== false && d.includes(scenario.kind));
}

/** Run every job of `options`, reporting progress; returns the rows in table order. */
export function runDemoRows(options: DemoOptions = {}, io: DemoProgress = {}): DemoRow[] {
  const jobs = demoJobs(options);
  const clock = options.clock ?? performanceClock;
  const rows: DemoRow[] = [];
  jobs.forEach((job, i) => {
    io.progress?.(i, jobs.length, `${job.scenario.name} ${job.target.format} ${job.target.granule / 1024}K`);
    rows.push(runScenario(job.target, job.scenario, options.repeat ?? 1, clock));
  });
  io.progress?.(jobs.length, jobs.length, "done");
  return rows;
}
