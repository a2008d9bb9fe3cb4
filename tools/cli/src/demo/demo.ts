/**
 * `iommu demo`: every scenario × every driver/format, legacy vs length-aware, one table.
 * Split from the commander wiring so tests drive it with plain options and captured output.
 */
import { writeFileSync } from "node:fs";
import { renderReport } from "./report.js";
import { type DemoRow, toJson } from "./row.js";
import { runScenario } from "./run.js";
import { GRANULES, type Granule, type Scenario, scenariosFor } from "./scenarios.js";
import { renderTable } from "./table.js";
import { ALL_FORMATS, type DemoTarget, demoTargets, type TargetFormat } from "./targets.js";

export interface DemoOptions {
  /** Granules to run (default all three). */
  granules?: readonly Granule[];
  /** Formats (default all: arm-smmu-v3 s1/s2, generic_pt amdv1/x86_64/vtdss/riscv). */
  formats?: readonly TargetFormat[];
  /** Only scenarios whose name or kind is listed. */
  scenarios?: readonly string[];
  json?: boolean;
  /** Write the HTML report here. */
  report?: string;
  color?: boolean;
  /** Runs per mode; the fastest wall time is reported (default 1). */
  repeat?: number;
}

export interface DemoIo {
  stdout(text: string): void;
  /** Called before each scenario and once at the end (done === total). */
  progress?(done: number, total: number, label: string): void;
}

export interface DemoJob {
  target: DemoTarget;
  scenario: Scenario;
}

/** The (target, scenario) pairs a run covers, in table order. */
export function demoJobs(options: DemoOptions = {}): DemoJob[] {
  const wanted = options.scenarios?.length ? new Set(options.scenarios) : undefined;
  const jobs: DemoJob[] = [];
  for (const target of demoTargets(options.granules ?? GRANULES, options.formats ?? ALL_FORMATS))
    for (const scenario of scenariosFor(target.granule))
      if (!wanted || wanted.has(scenario.name) || wanted.has(scenario.kind)) jobs.push({ target, scenario });
  return jobs;
}

/** Run the demo; prints the table (or JSON) through `io`, writes the report, returns the rows. */
export function runDemo(options: DemoOptions, io: DemoIo): DemoRow[] {
  const jobs = demoJobs(options);
  const rows: DemoRow[] = [];
  jobs.forEach((job, i) => {
    io.progress?.(i, jobs.length, `${job.scenario.name} ${job.target.format} ${job.target.granule / 1024}K`);
    rows.push(runScenario(job.target, job.scenario, options.repeat ?? 1));
  });
  io.progress?.(jobs.length, jobs.length, "done");
  if (options.report)
    writeFileSync(options.report, renderReport(rows, { generated: new Date().toISOString() }));
  io.stdout(options.json ? `${toJson(rows)}\n` : `${renderTable(rows, { color: options.color })}\n`);
  return rows;
}
