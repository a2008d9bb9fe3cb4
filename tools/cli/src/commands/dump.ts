/**
 * `iommu dump`: print a page table found in a raw memory image (e.g. captured from a device
 * or exported with PhysMem.exportRange), as the script `dump` command prints a live one,
 * followed by the mapped ranges with physically contiguous leaves merged. The listing is
 * @iommu/script's dumpImage (the table's inspector through inspect-text.ts): a table entry
 * pointing outside the image is listed as ` missing`, never an error.
 */
import { readFileSync } from "node:fs";
import { createFamilies, dumpImage, parseHex } from "@iommu/script";
import { type Command, InvalidArgumentError } from "commander";

interface DumpCliOptions {
  format: string;
  root: number;
  image: string;
  imageBase?: number;
  granule?: string;
  pgsize?: string;
  ias?: string;
  oas?: string;
  pgsizes?: string;
  quirks?: string;
  noncoherent?: boolean;
  set: string[];
}

function hexArg(v: string): number {
  const n = parseHex(v);
  if (n === undefined || typeof n === "bigint")
    throw new InvalidArgumentError("expected a hex address below 2^53");
  return n;
}

function collect(v: string, prev: string[]): string[] {
  if (!/^[^=\s]+=\S+$/.test(v)) throw new InvalidArgumentError("expected KEY=VALUE");
  return [...prev, v];
}

/** The script `fmt` arguments equivalent to the command-line options. */
export function fmtArgsOf(o: Omit<DumpCliOptions, "format" | "root" | "image">): string[] {
  const args: string[] = [];
  for (const key of ["granule", "pgsize", "ias", "oas", "pgsizes", "quirks"] as const) {
    const v = o[key];
    if (v !== undefined) args.push(key, v);
  }
  for (const kv of o.set) {
    const i = kv.indexOf("=");
    args.push(kv.slice(0, i), kv.slice(i + 1));
  }
  if (o.noncoherent) args.push("noncoherent");
  return args;
}

export function register(program: Command): void {
  program
    .command("dump")
    .description("dump a page table held in a raw memory image, then its mapped ranges")
    .requiredOption(
      "-f, --format <fmt>",
      "table format, as after `fmt` in scripts (arm64-s1, v7s, dart2, amdv1, ...)",
    )
    .requiredOption("--root <addr>", "physical address of the top-level table (hex)", hexArg)
    .requiredOption("--image <file>", "raw memory image file")
    .option("--image-base <pa>", "physical address of the image's first byte (hex; default: --root)", hexArg)
    .option("--granule <g>", "LPAE granule / DART page size: 4k, 16k, 64k")
    .option("--pgsize <p>", "DART page size: 4k, 16k")
    .option("--ias <bits>", "input address bits")
    .option("--oas <bits>", "output address bits")
    .option("--pgsizes <bitmap>", "page-size bitmap (hex)")
    .option("--quirks <list>", "comma-separated quirks (ns, noperms, mtk_ext, ttbr1, ...)")
    .option("--noncoherent", "coherent_walk = false")
    .option("--set <key=value>", "any other fmt key (repeatable), e.g. --set va_bits=39", collect, [])
    .addHelpText(
      "after",
      "\nExample:\n  iommu dump --format arm64-s1 --granule 4k --ias 48 --oas 48 \\\n" +
        "    --root 0x80000000 --image tables.bin --image-base 0x80000000",
    )
    .action((opts: DumpCliOptions) => {
      let image: Uint8Array;
      try {
        image = readFileSync(opts.image);
      } catch (e) {
        process.stderr.write(`iommu dump: ${opts.image}: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const r = dumpImage({
        format: opts.format,
        fmtArgs: fmtArgsOf(opts),
        root: opts.root,
        image,
        imageBase: opts.imageBase ?? opts.root,
        families: createFamilies(),
        stderr: (s) => process.stderr.write(s),
      });
      if (!r.ok) {
        process.stderr.write(`iommu dump: ${r.error}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(r.lines.map((l) => `${l}\n`).join(""));
    });
}
