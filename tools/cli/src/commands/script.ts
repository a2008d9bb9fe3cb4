/**
 * `iommu script [FILE...|-]`: run kernel reference-harness scripts (SCRIPT-FORMAT.md). Each
 * file is a fresh run, as if it were a fresh harness process; `-` or no file reads stdin,
 * which is processed line by line as it arrives.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createFamilies, encodeTableImage, LineSplitter, ScriptSession } from "@iommu/script";
import type { Command } from "commander";
import { CliError, EXIT_INPUT, EXIT_INTERNAL, EXIT_USAGE } from "../exit.js";

interface ScriptCliOptions {
  quiet?: boolean;
  strict?: boolean;
  saveImage?: string;
}

/**
 * One run over a byte source. Output is written as it is produced, so a model error (an
 * exception: a bug, never a kernel error) still leaves everything before it on stdout.
 */
class Run {
  private readonly session: ScriptSession;
  private readonly splitter: LineSplitter;
  private pending: string[] = [];
  /** `err ...` result lines printed so far (for --strict). */
  errLines = 0;

  constructor(
    private readonly name: string,
    stderr: (s: string) => void,
  ) {
    this.session = new ScriptSession({
      families: createFamilies(),
      stderr,
      clock: () => process.hrtime.bigint(),
    });
    this.splitter = new LineSplitter((line) => {
      for (const l of this.session.line(line)) {
        if (l.startsWith("err")) this.errLines++;
        this.pending.push(`${l}\n`);
      }
    });
  }

  /** Feed bytes; false when the run died. */
  push(bytes: Uint8Array): boolean {
    return this.guard(() => this.splitter.push(bytes));
  }

  /** End of input; `saveImage` receives the table image first (the last `save-image`, else the live table). */
  end(saveImage?: (image: ReturnType<ScriptSession["image"]>) => void): boolean {
    return this.guard(() => {
      this.splitter.end();
      saveImage?.(this.session.image());
      this.session.close();
    });
  }

  private guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      process.stderr.write(`iommu script: ${this.name}: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = EXIT_INTERNAL;
      return false;
    } finally {
      if (this.pending.length > 0) process.stdout.write(this.pending.join(""));
      this.pending = [];
    }
  }
}

function runStdin(
  stderr: (s: string) => void,
  save?: (image: ReturnType<ScriptSession["image"]>) => void,
): Promise<Run> {
  const run = new Run("<stdin>", stderr);
  let alive = true;
  return new Promise((resolve, reject) => {
    process.stdin.on("data", (chunk: Buffer) => {
      if (alive) alive = run.push(chunk);
    });
    process.stdin.on("error", reject);
    process.stdin.on("end", () => {
      if (alive) run.end(save);
      resolve(run);
    });
  });
}

export function register(program: Command): void {
  program
    .command("script")
    .description("run kernel-harness op scripts; each FILE is a fresh run ('-' or none: stdin)")
    .argument("[files...]", "script files (fmt/map/unmap/... one command per line)")
    .option("-q, --quiet", "drop the informational stderr text (kernel WARN messages)")
    .option("--strict", "exit 1 when any `err` result line was printed (scripts as CI checks)")
    .option(
      "--save-image <file>",
      "write the table as a table image (for `iommu dump FILE`): the last `save-image` command's snapshot, else the table live at the end",
    )
    .addHelpText(
      "after",
      "\nThe language is specified in tools/cli/docs/SCRIPT-FORMAT.md (kernel reference harness);\n" +
        "stdout is byte-compatible with the harness. Example:\n" +
        "  printf 'fmt arm64-s1\\nmap 0 0 1000 rw\\ndump\\n' | iommu script",
    )
    .action(async (files: string[], opts: ScriptCliOptions) => {
      const stderr = opts.quiet ? () => {} : (s: string) => process.stderr.write(s);
      if (files.length === 0) files = ["-"];
      if (opts.saveImage && files.length > 1)
        throw new CliError(
          "iommu script: --save-image takes one script (each FILE is a fresh run)",
          EXIT_USAGE,
        );
      let errLines = 0;
      const save = opts.saveImage
        ? (image: ReturnType<ScriptSession["image"]>) => {
            if (!image) {
              process.stderr.write(
                `iommu script: --save-image: no table to save (no live table, or its format has no image)\n`,
              );
              process.exitCode = EXIT_INPUT;
              return;
            }
            try {
              writeFileSync(opts.saveImage!, encodeTableImage(image));
            } catch (e) {
              process.stderr.write(`iommu script: --save-image ${opts.saveImage}: ${(e as Error).message}\n`);
              process.exitCode = EXIT_INPUT;
            }
          }
        : undefined;
      for (const file of files) {
        if (file === "-") {
          errLines += (await runStdin(stderr, save)).errLines;
          continue;
        }
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(file);
        } catch (e) {
          process.stderr.write(`iommu script: ${file}: ${(e as Error).message}\n`);
          process.exitCode = EXIT_INPUT;
          continue;
        }
        const run = new Run(file, stderr);
        if (run.push(bytes)) run.end(save);
        errLines += run.errLines;
      }
      if (opts.strict && errLines > 0) {
        process.stderr.write(`iommu script: --strict: ${errLines} err line${errLines === 1 ? "" : "s"}\n`);
        if (!process.exitCode) process.exitCode = EXIT_INPUT;
      }
    });
}
