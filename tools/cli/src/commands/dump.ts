/**
 * `iommu dump`: print a page table held in a table image (`iommu script --save-image`) or a
 * raw memory image (captured from a device, exported with PhysMem.exportRange: then
 * `--format` and `--root` say how to read it), as the script `dump` command prints a live
 * one, followed by the mapped ranges with physically contiguous leaves merged. The listing is
 * @iommu/script's dumpImage (the table's inspector through inspect-text.ts). An empty image, a
 * root outside the image, misaligned or whose table runs past its end is an error (exit 1); a
 * table entry pointing outside the image is listed as ` missing` and reported on stderr (exit 1).
 */
import { readFileSync } from "node:fs";
import {
  createFamilies,
  decodeTableImage,
  dumpImage,
  isTableImage,
  parseHex,
  parseVtdDebugfs,
} from "@iommu/script";
import { type Command, InvalidArgumentError } from "commander";
import { CliError, EXIT_INPUT, EXIT_USAGE } from "../exit.js";

interface DumpCliOptions {
  fromDebugfs?: string;
  device?: string;
  format?: string;
  root?: number;
  image?: string;
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
export function fmtArgsOf(
  o: Omit<DumpCliOptions, "format" | "root" | "image" | "imageBase" | "fromDebugfs" | "device">,
): string[] {
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
    .description("dump a page table held in a table image (or a raw memory image), then its mapped ranges")
    .argument("[file]", "table image from `iommu script --save-image` (format, root and base are in it)")
    .option("--image <file>", "a raw memory image (needs --format and --root)")
    .option(
      "--from-debugfs <file>",
      "an Intel VT-d debugfs domain_translation_struct dump (docs/real-machines.md): tables rebuilt and walked",
    )
    .option("--device <bdf>", "with --from-debugfs: only this device's block (e.g. 0000:00:02.0)")
    .option(
      "-f, --format <fmt>",
      "table format, as after `fmt` in scripts (arm64-s1, v7s, dart2, amdv1, ...)",
    )
    .option("--root <addr>", "physical address of the top-level table (hex)", hexArg)
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
      "\nExamples:\n  iommu script --save-image tables.img examples/two-blocks.txt && iommu dump tables.img\n" +
        "  iommu dump --format arm64-s1 --granule 4k --ias 48 --oas 48 \\\n" +
        "    --root 0x80000000 --image tables.bin --image-base 0x80000000",
    )
    .action((file: string | undefined, opts: DumpCliOptions) => {
      if (opts.fromDebugfs) return dumpDebugfs(opts.fromDebugfs, opts);
      const path = file ?? opts.image;
      if (!path)
        throw new CliError(
          "iommu dump: give a table image FILE, or --image with --format and --root",
          EXIT_USAGE,
        );
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new CliError(`iommu dump: ${path}: ${(e as Error).message}`);
      }
      let source: {
        format: string;
        fmtArgs: readonly string[];
        root: number;
        base: number;
        image: Uint8Array;
      };
      if (isTableImage(bytes)) {
        const d = decodeTableImage(bytes);
        if (!d.ok) throw new CliError(`iommu dump: ${path}: ${d.error}`);
        const img = d.image;
        source = {
          format: img.format,
          fmtArgs: img.fmtArgs,
          root: img.root,
          base: img.base,
          image: img.bytes,
        };
      } else {
        if (opts.format === undefined || opts.root === undefined)
          throw new CliError(
            `iommu dump: ${path} is a raw memory image (no IOMMUIMG header): give --format and --root`,
            EXIT_USAGE,
          );
        source = {
          format: opts.format,
          fmtArgs: fmtArgsOf(opts),
          root: opts.root,
          base: opts.imageBase ?? opts.root,
          image: bytes,
        };
      }
      const r = dumpImage({
        format: source.format,
        fmtArgs: source.fmtArgs,
        root: source.root,
        image: source.image,
        imageBase: source.base,
        families: createFamilies(),
        stderr: (s) => process.stderr.write(s),
      });
      if (!r.ok) throw new CliError(`iommu dump: ${path}: ${r.error}`);
      process.stdout.write(r.lines.map((l) => `${l}\n`).join(""));
      if (r.missing > 0) {
        process.stderr.write(
          `iommu dump: ${path}: ${r.missing} table entr${r.missing === 1 ? "y points" : "ies point"} outside the image (listed as missing)\n`,
        );
        process.exitCode = EXIT_INPUT;
      }
    });
}

/** VT-d first stage tables are x86_64, second stage vtdss: the walker prints both alike. */
const DEBUGFS_FORMATS = ["vtdss", "x86_64"];

/** `--from-debugfs`: every device block of the file (or `--device`'s), rebuilt and dumped. */
function dumpDebugfs(path: string, opts: DumpCliOptions): void {
  const format = opts.format ?? "vtdss";
  if (!DEBUGFS_FORMATS.includes(format))
    throw new CliError(
      `iommu dump: --from-debugfs reads VT-d tables: --format ${DEBUGFS_FORMATS.join(" or ")} (second or first stage)`,
      EXIT_USAGE,
    );
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`iommu dump: ${path}: ${(e as Error).message}`);
  }
  const parsed = parseVtdDebugfs(text);
  if (!parsed.ok) throw new CliError(`iommu dump: ${path}: ${parsed.error}`);
  const domains = parsed.domains.filter((d) => !opts.device || d.device === opts.device);
  if (domains.length === 0)
    throw new CliError(
      `iommu dump: ${path}: no block for device ${opts.device}; the file has ${parsed.domains.map((d) => d.device).join(", ")}`,
    );
  const out: string[] = [];
  for (const d of domains) {
    const vaBits = format === "vtdss" ? 12 + 9 * d.levels : d.levels === 5 ? 57 : 48;
    const r = dumpImage({
      format,
      fmtArgs: ["va_bits", String(vaBits)],
      root: d.root,
      mem: d.mem,
      families: createFamilies(),
      stderr: (s) => process.stderr.write(s),
    });
    if (!r.ok) throw new CliError(`iommu dump: ${path}: device ${d.device}: ${r.error}`);
    const pasid = d.pasid === undefined ? "" : ` pasid=0x${d.pasid.toString(16)}`;
    out.push(
      `# device ${d.device}${pasid} root=0x${d.root.toString(16)} levels=${d.levels} leaves=${d.leaves}`,
      ...r.lines,
    );
  }
  process.stdout.write(out.map((l) => `${l}\n`).join(""));
}
