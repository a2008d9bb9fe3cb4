/**
 * `iommu script [FILE...|-]`: run kernel reference-harness scripts (SCRIPT-FORMAT.md). Each
 * file is a fresh run, as if it were a fresh harness process; `-` or no file reads stdin,
 * which is processed line by line as it arrives.
 */
import { readFileSync } from "node:fs";
import { createFamilies, LineSplitter, ScriptSession } from "@iommu/script";
import type { Command } from "commander";

interface ScriptCliOptions {
  quiet?: boolean;
}

/**
 * One run over a byte source. Output is written as it is produced, so a model error (an
 * exception: a bug, never a kernel error) still leaves everything before it on stdout.
 */
class Run {
  private readonly session: ScriptSession;
  private readonly splitter: LineSplitter;
  private pending: string[] = [];

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
      for (const l of this.session.line(line)) this.pending.push(`${l}\n`);
    });
  }

  /** Feed bytes; false when the run died. */
  push(bytes: Uint8Array): boolean {
    return this.guard(() => this.splitter.push(bytes));
  }

  end(): boolean {
    return this.guard(() => {
      this.splitter.end();
      this.session.close();
    });
  }

  private guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      process.stderr.write(`iommu script: ${this.name}: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 2;
      return false;
    } finally {
      if (this.pending.length > 0) process.stdout.write(this.pending.join(""));
      this.pending = [];
    }
  }
}

function runStdin(stderr: (s: string) => void): Promise<void> {
  const run = new Run("<stdin>", stderr);
  let alive = true;
  return new Promise((resolve, reject) => {
    process.stdin.on("data", (chunk: Buffer) => {
      if (alive) alive = run.push(chunk);
    });
    process.stdin.on("error", reject);
    process.stdin.on("end", () => {
      if (alive) run.end();
      resolve();
    });
  });
}

export function register(program: Command): void {
  program
    .command("script")
    .description("run kernel-harness op scripts; each FILE is a fresh run ('-' or none: stdin)")
    .argument("[files...]", "script files (fmt/map/unmap/... one command per line)")
    .option("-q, --quiet", "drop the informational stderr text (kernel WARN messages)")
    .addHelpText(
      "after",
      "\nThe language is specified in tools/cli/docs/SCRIPT-FORMAT.md (kernel reference harness);\n" +
        "stdout is byte-compatible with the harness. Example:\n" +
        "  printf 'fmt arm64-s1\\nmap 0 0 1000 rw\\ndump\\n' | iommu script",
    )
    .action(async (files: string[], opts: ScriptCliOptions) => {
      const stderr = opts.quiet ? () => {} : (s: string) => process.stderr.write(s);
      if (files.length === 0) files = ["-"];
      for (const file of files) {
        if (file === "-") {
          await runStdin(stderr);
          continue;
        }
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(file);
        } catch (e) {
          process.stderr.write(`iommu script: ${file}: ${(e as Error).message}\n`);
          process.exitCode = 1;
          continue;
        }
        const run = new Run(file, stderr);
        if (run.push(bytes)) run.end();
      }
    });
}
