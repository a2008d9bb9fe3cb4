/**
 * `iommu demo`: the series' scenarios on every driver/format, legacy vs length-aware VFIO
 * unmap/replay, as one table (or `--json` rows, or a `--report` HTML page). A progress bar
 * goes to stderr when it is a terminal; stdout only ever carries the result.
 */

import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  ALL_FORMATS,
  callerFormatNames,
  callerJobs,
  demoJobs,
  demoTargetKinds,
  type Granule,
  type TargetFormat,
} from "@iommu/script";
import { SingleBar } from "cli-progress";
import { type Command, InvalidArgumentError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { runDemo } from "../demo/demo.js";
import { CliError, EXIT_USAGE } from "../exit.js";

const GRANULE_NAMES: Record<string, Granule> = { "4k": 0x1000, "16k": 0x4000, "64k": 0x10000 };

function granules(v: string): Granule[] {
  return v.split(",").map((s) => {
    const g = GRANULE_NAMES[s.trim().toLowerCase()];
    if (!g) throw new InvalidArgumentError("expected 4K, 16K and/or 64K, comma separated");
    return g;
  });
}

function formats(v: string): TargetFormat[] {
  const known = [...ALL_FORMATS, ...callerFormatNames()];
  return v.split(",").map((s) => {
    const f = s.trim().toLowerCase() as TargetFormat;
    if (!known.includes(f)) throw new InvalidArgumentError(`expected a list of ${known.join(", ")}`);
    return f;
  });
}

/** `s1,s2 (arm-smmu-v3), amdv1,... (generic_pt)`: the registry's demo targets by driver. */
function formatsHelp(): string {
  const byDriver = new Map<string, string[]>();
  for (const k of demoTargetKinds()) byDriver.set(k.driver, [...(byDriver.get(k.driver) ?? []), k.key]);
  const list = [...byDriver].map(([driver, keys]) => `${keys.join(",")} (${driver})`).join(", ");
  const callers = callerFormatNames();
  return `formats: ${list}${callers.length ? `; callers: ${callers.join(",")}` : ""}; default all`;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** Fail before the run (not after it) when the report cannot be written where asked. */
function checkReportPath(file: string): void {
  const dir = dirname(resolve(file));
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new CliError(
      `iommu demo: --report ${file}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    if (statSync(file).isDirectory()) throw new CliError(`iommu demo: --report ${file}: is a directory`);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
}

interface DemoCliOptions {
  wide?: boolean;
  json?: boolean;
  report?: string;
  granule?: Granule[];
  format?: TargetFormat[];
  scenario?: string[];
  all?: boolean;
  repeat: number;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "VFIO unmap/replay walk counts, legacy iova_to_phys vs iova_to_phys_length, on every driver/format",
    )
    .option(
      "--json",
      "print the rows as JSON instead of the table (schema: tools/script/src/demo/demo-output.schema.json)",
    )
    .option("--wide", "every counter column in the table (PTE reads, unmap calls, IOTLB syncs)")
    .option("--report <file.html>", "also write a self-contained HTML report with a chart")
    .option("--granule <list>", "granules to run: 4K,16K,64K (default all)", granules)
    .option("--format <list>", formatsHelp(), formats)
    .option(
      "--all",
      "every driver × granule × scenario (default: representative rows, under 30 s; --format also selects all of the named targets' rows)",
    )
    .option(
      "--scenario <name...>",
      "only these scenarios (table name such as 1G-on-2M, or kind: block block-on-granule huge 1g-blocks 1g-thp scattered sparse-holes replay)",
    )
    .option(
      "--repeat <n>",
      "runs per mode (4× under 64 MiB, 1 above 64 Ki leaves), fastest wall time kept; counts must agree",
      positiveInt,
      2,
    )
    .option("--no-progress", "no progress bar on stderr")
    .action((o: DemoCliOptions, cmd: Command) => {
      const opts = {
        json: o.json,
        wide: o.wide,
        version: pkg.version,
        report: o.report,
        granules: o.granule,
        formats: o.format,
        scenarios: o.scenario,
        all: o.all,
        repeat: o.repeat,
        color: false,
      };
      if (demoJobs(opts).length + callerJobs(opts).length === 0) {
        const every = { granules: o.granule, formats: o.format, all: true };
        const names = [
          ...new Set([...demoJobs(every).map((j) => j.scenario.name), ...callerJobs(every).map((c) => c.id)]),
        ];
        const asked = [
          o.format && `--format ${o.format.join(",")}`,
          o.granule && `--granule ${o.granule.map((g) => `${g / 1024}K`).join(",")}`,
          o.scenario && `--scenario ${o.scenario.join(" ")}`,
        ].filter(Boolean);
        const granulesOf = demoTargetKinds()
          .filter((k) => !o.format || o.format.includes(k.key))
          .map((k) => `${k.key}: ${k.granules.map((g) => `${g / 1024}K`).join(",")}`);
        const hint = names.length
          ? `scenarios there: ${names.join(", ")}`
          : `granules per format: ${granulesOf.join("; ")}`;
        cmd.error(`error: nothing to run for ${asked.join(" ")}; ${hint}`, { exitCode: EXIT_USAGE });
      }
      if (o.report) checkReportPath(o.report);
      const bar =
        o.progress && process.stderr.isTTY
          ? new SingleBar({
              stream: process.stderr,
              format: "demo [{bar}] {value}/{total} {label}",
              hideCursor: true,
              clearOnComplete: true,
            })
          : undefined;
      let started = false;
      runDemo(opts, {
        stdout: (text) => process.stdout.write(text),
        progress: bar
          ? (done, total, label) => {
              if (!started) {
                bar.start(total, done, { label });
                started = true;
              } else bar.update(done, { label });
              if (done === total) bar.stop();
            }
          : undefined,
      });
      if (o.report) process.stderr.write(`iommu demo: report written to ${resolve(o.report)}\n`);
    });
}
