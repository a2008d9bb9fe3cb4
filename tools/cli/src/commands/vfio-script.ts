/**
 * `iommu vfio-script [FILE...|-]`: run VFIO type1 scripts (the language of docs/VFIO-SCRIPT.md).
 * Each file is a fresh simulated process; `-` or no file reads stdin line by line.
 *
 * Every `domain attach` puts the group behind a driver instance from the registry entry named
 * by `--domains` (@iommu/script): by default io-pgtable ARM_64_LPAE_S1 tables as the reference
 * harness builds them; `driver N` picks the driver, so same-driver groups share a domain.
 */
import { readFileSync } from "node:fs";
import {
  createVfioScript,
  LineSplitter,
  runVfioScript,
  UNMAP_MODES,
  type UnmapMode,
  type VfioScriptRunOptions,
  vfioDomainsKinds,
} from "@iommu/script";
import type { Command } from "commander";
import { EXIT_INPUT, EXIT_USAGE } from "../exit.js";

function runStdin(opts: VfioScriptRunOptions): Promise<void> {
  const script = createVfioScript(opts);
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

interface VfioScriptCliOptions {
  unmapMode: string;
  domains: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("vfio-script")
    .description(
      "run VFIO type1 scripts (container/mem/domain/map_dma/unmap_dma/counts...); each FILE is a fresh run",
    )
    .argument("[files...]", "script files ('-' or none: stdin)")
    .option(
      "--unmap-mode <mode>",
      `how unmap and replay read mappings back: ${UNMAP_MODES.join(" | ")} (legacy = today's kernel)`,
      "legacy",
    )
    .option(
      "--domains <kind>",
      vfioDomainsKinds()
        .map((k) => `${k.name}: ${k.description}`)
        .join("; "),
      vfioDomainsKinds()[0]!.name,
    )
    .option("-q, --quiet", "drop the informational stderr text (kernel WARN messages)")
    .addHelpText(
      "after",
      "\nThe language is specified in tools/cli/docs/VFIO-SCRIPT.md.\n" +
        "Output is byte-compatible with the kernel reference harness in legacy mode; the length\n" +
        "modes (iova_to_phys_length, the proposed series) change only the iova_to_phys counts.\n" +
        "Example:\n  printf 'container\\nmem 7f0000000000 200000 hugetlb2m\\ndomain attach\\n" +
        "map_dma 7f0000000000 40000000 200000 rw\\nunmap_dma 40000000 200000\\ncounts\\n' | iommu vfio-script",
    )
    .action(async (files: string[], opts: VfioScriptCliOptions) => {
      const mode = opts.unmapMode as UnmapMode;
      if (!UNMAP_MODES.includes(mode)) {
        process.stderr.write(`iommu vfio-script: unknown --unmap-mode ${opts.unmapMode}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      if (!vfioDomainsKinds().some((k) => k.name === opts.domains)) {
        process.stderr.write(`iommu vfio-script: unknown --domains ${opts.domains}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const stderr = opts.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
      const run: VfioScriptRunOptions = { unmapMode: mode, domains: opts.domains, stderr };
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
          process.stderr.write(`iommu vfio-script: ${file}: ${(e as Error).message}\n`);
          process.exitCode = EXIT_INPUT;
          continue;
        }
        process.stdout.write(runVfioScript(text, run));
      }
    });
}
