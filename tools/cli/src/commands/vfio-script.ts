/**
 * `iommu vfio-script [FILE...|-]`: run VFIO type1 scripts (the language of the VFIO vectors'
 * README). Each file is a fresh simulated process; `-` or no file reads stdin line by line.
 *
 * Every `domain attach` gets an io-pgtable ARM_64_LPAE_S1 table (4K granule, pgsize_bitmap
 * 0x40201000 unless restricted, oas 48, aperture [0, 2^ias − 1]) as the reference harness
 * builds it; `driver N` picks the ops table, so same-driver groups share a domain.
 */
import { readFileSync } from "node:fs";
import { and64, IommuCounters, type IommuDomainOps, IommuError, PhysMem, TableAllocator } from "@iommu/core";
import { ArmSmmuV3 } from "@iommu/drivers-arm-smmu-v3";
import {
  allocIoPgtableOps,
  createIoPgtableDomain,
  IO_PGTABLE_DOMAIN_OPS,
  type IommuFlushOps,
  type IoPgtableDomain,
  IoPgtableFmt,
} from "@iommu/io-pgtable";
import { type ScriptDomainFactory, UNMAP_MODES, type UnmapMode, VfioScript } from "@iommu/vfio";
import type { Command } from "commander";
import { LineSplitter, splitLines } from "../script/lines.js";

/** The harness's default page sizes: 4K | 2M | 1G. */
export const VFIO_SCRIPT_PGSIZES = 0x40201000;

/** The format's TLB callbacks: the model's domains have no IOTLB of their own. */
const NO_TLB: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
};

/**
 * Domains for one script run. Each driver id gets its own copy of the io-pgtable domain
 * ops, because the ops table's identity is what type1 compares to share a domain.
 */
export function createLpaeDomainFactory(): ScriptDomainFactory {
  const opsByDriver = new Map<number, IommuDomainOps<IoPgtableDomain>>();
  return (spec) => {
    const counters = new IommuCounters();
    // io-pgtable WARNs count towards the command's ` warn=N`.
    counters.onWarn = (message) => spec.counters.warn(message);
    const cfg = {
      quirks: 0,
      pgsizeBitmap: spec.pgsizes ?? VFIO_SCRIPT_PGSIZES,
      ias: spec.ias,
      oas: 48,
      coherentWalk: true,
      tlb: NO_TLB,
      allocator: new TableAllocator(new PhysMem(), { counters }),
      counters,
    };
    const pgtbl = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, cfg);
    if (!pgtbl) return -12; // the driver's domain_finalise fails with -ENOMEM
    const domain = createIoPgtableDomain(pgtbl, counters);
    let ops = opsByDriver.get(spec.driver);
    if (!ops) {
      ops = { ...IO_PGTABLE_DOMAIN_OPS, name: `lpae-s1-driver${spec.driver}` };
      opsByDriver.set(spec.driver, ops);
    }
    domain.ops = ops;
    return domain;
  };
}

/**
 * Domains from the arm-smmu-v3 driver model instead: one SMMU instance (so one ops table) per
 * driver id, stage-1 4K-granule tables, invalidations through its command queue. The SMMU
 * builds its own io_pgtable_cfg, so `ias`/`pgsizes` are applied to the finished domain (the
 * aperture and the page sizes the core may use); outputs match the lpae domains whenever
 * `pgsizes` stays within 4K|2M|1G.
 */
export function createSmmuDomainFactory(): ScriptDomainFactory {
  const smmus = new Map<number, ArmSmmuV3>();
  return (spec) => {
    let smmu = smmus.get(spec.driver);
    if (!smmu) {
      smmu = new ArmSmmuV3({ name: `arm-smmu-v3.driver${spec.driver}`, oas: 48 });
      smmus.set(spec.driver, smmu);
    }
    let domain: ReturnType<ArmSmmuV3["domainAllocPaging"]>;
    try {
      domain = smmu.domainAllocPaging();
    } catch (e) {
      if (e instanceof IommuError) return -e.errno;
      throw e;
    }
    domain.counters.onWarn = (message) => spec.counters.warn(message);
    if (spec.pgsizes !== undefined) {
      const bitmap = and64(domain.pgsizeBitmap, spec.pgsizes);
      if (bitmap % 0x2000 !== 0x1000) {
        domain.ops?.free?.(domain);
        return -12;
      }
      domain.pgsizeBitmap = bitmap;
    }
    domain.geometry.apertureEnd = 2 ** Math.min(spec.ias, 48) - 1;
    return domain;
  };
}

/** Which domain factory `iommu vfio-script` uses. */
export type VfioScriptDomains = "lpae" | "smmu";

export interface VfioScriptRunOptions {
  unmapMode?: UnmapMode;
  /** Kernel WARN text (default: dropped). */
  stderr?: (line: string) => void;
  /** Default "lpae" (what the reference harness builds). */
  domains?: VfioScriptDomains;
}

function factoryFor(opts: VfioScriptRunOptions): ScriptDomainFactory {
  return opts.domains === "smmu" ? createSmmuDomainFactory() : createLpaeDomainFactory();
}

/** Run one whole script text as a fresh process; returns stdout. */
export function runVfioScript(text: string, opts: VfioScriptRunOptions = {}): string {
  const script = new VfioScript(factoryFor(opts), { unmapMode: opts.unmapMode, stderr: opts.stderr });
  const out: string[] = [];
  for (const line of splitLines(text)) for (const l of script.line(line)) out.push(`${l}\n`);
  return out.join("");
}

function runStdin(opts: VfioScriptRunOptions): Promise<void> {
  const script = new VfioScript(factoryFor(opts), { unmapMode: opts.unmapMode, stderr: opts.stderr });
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
      "lpae: io-pgtable ARM_64_LPAE_S1 tables as the reference harness builds them; smmu: arm-smmu-v3 driver domains",
      "lpae",
    )
    .option("-q, --quiet", "drop the informational stderr text (kernel WARN messages)")
    .addHelpText(
      "after",
      "\nOutput is byte-compatible with the kernel reference harness in legacy mode; the length\n" +
        "modes (iova_to_phys_length, the proposed series) change only the iova_to_phys counts.\n" +
        "Example:\n  printf 'container\\nmem 7f0000000000 200000 hugetlb2m\\ndomain attach\\n" +
        "map_dma 7f0000000000 40000000 200000 rw\\nunmap_dma 40000000 200000\\ncounts\\n' | iommu vfio-script",
    )
    .action(async (files: string[], opts: VfioScriptCliOptions) => {
      const mode = opts.unmapMode as UnmapMode;
      if (!UNMAP_MODES.includes(mode)) {
        process.stderr.write(`iommu vfio-script: unknown --unmap-mode ${opts.unmapMode}\n`);
        process.exitCode = 2;
        return;
      }
      if (opts.domains !== "lpae" && opts.domains !== "smmu") {
        process.stderr.write(`iommu vfio-script: unknown --domains ${opts.domains}\n`);
        process.exitCode = 2;
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
          process.exitCode = 1;
          continue;
        }
        process.stdout.write(runVfioScript(text, run));
      }
    });
}
