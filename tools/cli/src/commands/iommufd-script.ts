/**
 * `iommu iommufd-script [FILE...|-]`: run iommufd scripts (the language in @iommu/iommufd's
 * README: mem / ioas / domain / map / unmap / copy / access / pin / check / counts). Each file
 * is a fresh simulated process; `-` or no file reads stdin line by line.
 */
import { readFileSync } from "node:fs";
import {
  IommufdScript,
  type IommufdScriptOptions,
  LineSplitter,
  READ_BACK_MODES,
  type ReadBackMode,
  runIommufdScript,
} from "@iommu/script";
import type { Command } from "commander";
import { EXIT_INPUT, EXIT_USAGE } from "../exit.js";

function runStdin(opts: IommufdScriptOptions): Promise<void> {
  const script = new IommufdScript(opts);
  const splitter = new LineSplitter((line) => {
    const out = script.line(line);
    if (out.length > 0) process.stdout.write(out.map((l) => `${l}\n`).join(""));
  });
  return new Promise((resolve, reject) => {
    process.stdin.on("data", (chunk: Buffer) => splitter.push(chunk));
    process.stdin.on("error", reject);
    process.stdin.on("end", () => {
      splitter.end();
      resolve();
    });
  });
}

interface IommufdScriptCliOptions {
  readBack: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("iommufd-script")
    .description(
      "run iommufd scripts (mem/ioas/domain/map/unmap/copy/access/pin/check/counts...); each FILE is a fresh run",
    )
    .argument("[files...]", "script files ('-' or none: stdin)")
    .option(
      "--read-back <mode>",
      `how pages.c reads PFNs back from a domain: ${READ_BACK_MODES.join(" | ")} (legacy = today's kernel)`,
      "legacy",
    )
    .option("-q, --quiet", "drop the informational stderr text (kernel WARN messages)")
    .addHelpText(
      "after",
      "\nExample:\n  printf 'mem 0x7f0000000000 2M hugetlb2m\\nioas\\ndomain 1 amdv1 pgsizes 2M\\n" +
        "map 1 0x7f0000000000 2M 0x40000000\\nreset\\nunmap 1 0x40000000 2M\\ncounts\\n' | iommu iommufd-script --read-back length",
    )
    .action(async (files: string[], opts: IommufdScriptCliOptions) => {
      const mode = opts.readBack as ReadBackMode;
      if (!READ_BACK_MODES.includes(mode)) {
        process.stderr.write(`iommu iommufd-script: unknown --read-back ${opts.readBack}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const stderr = opts.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
      const run: IommufdScriptOptions = { readBack: mode, stderr };
      if (files.length === 0) files = ["-"];
      for (const file of files) {
        if (file === "-") {
          await runStdin(run);
          continue;
        }
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          process.stderr.write(`iommu iommufd-script: ${file}: ${(e as Error).message}\n`);
          process.exitCode = EXIT_INPUT;
          continue;
        }
        process.stdout.write(runIommufdScript(text, run));
      }
    });
}
