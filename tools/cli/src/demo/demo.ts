/**
 * `iommu demo`'s output side: run the demo (@iommu/script), then print the table (cli-table3)
 * or the JSON rows, and write the HTML report file. Split from the commander wiring so tests
 * drive it with plain options and captured output.
 */
import { writeFileSync } from "node:fs";
import {
  type DemoOptions,
  type DemoProgress,
  type DemoRow,
  renderReport,
  runDemoRows,
  toJson,
} from "@iommu/script";
import { renderTable } from "./table.js";

export interface DemoCliRun extends DemoOptions {
  json?: boolean;
  /** Write the HTML report here. */
  report?: string;
  color?: boolean;
  /** Every counter column in the table. */
  wide?: boolean;
  /** The tool version recorded in `--json` output. */
  version: string;
}

export interface DemoIo extends DemoProgress {
  stdout(text: string): void;
}

/** Node's nanosecond clock for the wall-time column. */
export const hrtimeClock = (): bigint => process.hrtime.bigint();

/** Run the demo; prints the table (or JSON) through `io`, writes the report, returns the rows. */
export function runDemo(options: DemoCliRun, io: DemoIo): DemoRow[] {
  const rows = runDemoRows({ clock: hrtimeClock, ...options }, io);
  if (options.report)
    writeFileSync(
      options.report,
      renderReport(rows, { generated: new Date().toISOString(), version: options.version }),
    );
  io.stdout(
    options.json
      ? `${toJson(rows, { version: options.version })}\n`
      : `${renderTable(rows, { color: options.color, wide: options.wide })}\n`,
  );
  return rows;
}
