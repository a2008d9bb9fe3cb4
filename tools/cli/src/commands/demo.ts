/**
 * `iommu demo`: the series' scenarios on every driver/format, legacy vs length-aware VFIO
 * unmap/replay, as one table (or `--json` rows, or a `--report` HTML page). A progress bar
 * goes to stderr when it is a terminal; stdout only ever carries the result.
 */

import { ALL_FORMATS, demoJobs, demoTargetKinds, type Granule, type TargetFormat } from "@iommu/script";
import { SingleBar } from "cli-progress";
import { type Command, InvalidArgumentError } from "commander";
import { runDemo } from "../demo/demo.js";

const GRANULE_NAMES: Record<string, Granule> = { "4k": 0x1000, "16k": 0x4000, "64k": 0x10000 };

function granules(v: string): Granule[] {
  return v.split(",").map((s) => {
    const g = GRANULE_NAMES[s.trim().toLowerCase()];
    if (!g) throw new InvalidArgumentError("expected 4K, 16K and/or 64K, comma separated");
    return g;
  });
}

function formats(v: string): TargetFormat[] {
  return v.split(",").map((s) => {
    const f = s.trim().toLowerCase() as TargetFormat;
    if (!ALL_FORMATS.includes(f))
      throw new InvalidArgumentError(`expected a list of ${ALL_FORMATS.join(", ")}`);
    return f;
  });
}

/** `s1,s2 (arm-smmu-v3), amdv1,... (generic_pt)`: the registry's demo targets by driver. */
function formatsHelp(): string {
  const byDriver = new Map<string, string[]>();
  for (const k of demoTargetKinds()) byDriver.set(k.driver, [...(byDriver.get(k.driver) ?? []), k.key]);
  const list = [...byDriver].map(([driver, keys]) => `${keys.join(",")} (${driver})`).join(", ");
  return `formats: ${list}; default all`;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

interface DemoCliOptions {
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
    .option("--json", "print the rows as JSON instead of the table")
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
        report: o.report,
        granules: o.granule,
        formats: o.format,
        scenarios: o.scenario,
        all: o.all,
        repeat: o.repeat,
        color: false,
      };
      if (demoJobs(opts).length === 0) {
        const names = [
          ...new Set(
            demoJobs({ granules: o.granule, formats: o.format, all: true }).map((j) => j.scenario.name),
          ),
        ];
        cmd.error(`error: no scenario matches ${o.scenario?.join(", ")}; known: ${names.join(", ")}`);
      }
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
    });
}
