/**
 * `iommu script [FILE...|-]`: run kernel reference-harness scripts (SCRIPT-FORMAT.md). Each
 * file is a fresh run, as if it were a fresh harness process; `-` or no file reads stdin,
 * which is processed line by line as it arrives.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { runScript, ScriptSession } from "../script/engine.js";
import { createFamilies } from "../script/families/index.js";
import { LineSplitter } from "../script/lines.js";

interface ScriptCliOptions {
  quiet?: boolean;
}

function runStdin(stderr: (s: string) => void): Promise<void> {
  const session = new ScriptSession({ families: createFamilies(), stderr });
  const splitter = new LineSplitter((line) => {
    const out = session.line(line);
    if (out.length > 0) process.stdout.write(out.map((l) => `${l}\n`).join(""));
  });
  return new Promise((resolve, reject) => {
    process.stdin.on("data", (chunk: Buffer) => splitter.push(chunk));
    process.stdin.on("error", reject);
    process.stdin.on("end", () => {
      splitter.end();
      session.close();
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
      "\nThe language is specified in SCRIPT-FORMAT.md (kernel reference harness); stdout is\n" +
        "byte-compatible with the harness. Example:\n  printf 'fmt arm64-s1\\nmap 0 0 1000 rw\\ndump\\n' | iommu script",
    )
    .action(async (files: string[], opts: ScriptCliOptions) => {
      const stderr = opts.quiet ? () => {} : (s: string) => process.stderr.write(s);
      if (files.length === 0) files = ["-"];
      for (const file of files) {
        if (file === "-") {
          await runStdin(stderr);
          continue;
        }
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          process.stderr.write(`iommu script: ${file}: ${(e as Error).message}\n`);
          process.exitCode = 1;
          continue;
        }
        process.stdout.write(runScript(text, { families: createFamilies(), stderr }));
      }
    });
}
