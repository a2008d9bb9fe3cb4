/**
 * The cold figure (issue 9 §3): what `iommu script`'s `bench-map` / `bench-walk` /
 * `bench-unmap` report on their first pass in a fresh process — the figure a one-shot CLI run,
 * the demo and every test pay — beside the third pass in the same process (steady), for
 * arm64-s1 4K and generic_pt amdv1, against the kernel C figures.
 *
 * Each sample is a fresh `node` running the built CLI (`tools/cli/dist/main.js`, built by the
 * repository's `prepare`) on a script of three passes of the three commands over 262,144 4K
 * pages from 0x40000000 (the kernel harness's layout); the figure is the median over the
 * processes. Same clock and loops as the script's commands: this section only adds fresh
 * processes and the median. Beside them, the engine's floor (cold-floor.ts): the same passes
 * over a minimal table of arm64-s1's shape: the runtime's own cost, below which no model of
 * the real formats is expected to go.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./measure.js";

/** The built CLI entry. */
export const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), "../../cli/dist/main.js");

/** A format of the cold section: its `fmt` line and the kernel C figures (ns/op) of map, walk, unmap. */
export interface ColdFormat {
  name: string;
  fmt: string;
  kernel: readonly [number, number, number];
}

export const COLD_FORMATS: readonly ColdFormat[] = [
  { name: "arm64-s1 4K", fmt: "fmt arm64-s1 granule 4k", kernel: [14.5, 22.7, 14.7] },
  { name: "amdv1", fmt: "fmt amdv1", kernel: [29.8, 28.5, 33.5] },
];

export const COLD_OPS = ["map", "walk", "unmap"] as const;

/** One row: the first and third pass of one op, medians over the processes. */
export interface ColdRow {
  format: string;
  op: (typeof COLD_OPS)[number];
  cold: number;
  steady: number;
  kernel: number;
  samples: number;
}

/** The script: three passes of map, walk, unmap over `n` 4K pages. */
export function coldScript(fmt: string, n: number): string {
  const pass = `bench-map ${n} 1000\nbench-walk ${n} 1000\nbench-unmap ${n} 1000\n`;
  return `${fmt}\n${pass}${pass}${pass}`;
}

/** The nine ns/op figures of one process, in script order. */
export function parseColdOutput(stdout: string): number[] {
  return [...stdout.matchAll(/ns\/op=([0-9.]+)/g)].map((m) => Number(m[1]));
}

/** The floor program (cold-floor.ts), run through tsx in fresh processes. */
export const FLOOR_MAIN = join(dirname(fileURLToPath(import.meta.url)), "cold-floor.ts");
/** The floor's rows: arm64-s1's shape, so its kernel figures. */
export const FLOOR_NAME = "floor: minimal table";

/**
 * Run `processes` fresh processes per format, then as many of the engine floor
 * (cold-floor.ts: a minimal table of arm64-s1's shape, the same loops); undefined when the CLI
 * is not built. `n` is the page count per pass (262,144 for the kernel layout).
 */
export function runColdBench(processes = 7, n = 262_144, formats = COLD_FORMATS): ColdRow[] | undefined {
  if (!existsSync(CLI_MAIN)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "iommu-cold-"));
  try {
    const rows: ColdRow[] = [];
    const collect = (
      name: string,
      kernel: readonly number[],
      run: () => { status: number | null; out: string },
    ) => {
      const runs: number[][] = [];
      for (let p = 0; p < processes; p++) {
        const r = run();
        const figs = parseColdOutput(r.out);
        if (r.status !== 0 || figs.length !== 9) throw new Error(`cold bench: ${name}: ${r.out}`);
        runs.push(figs);
      }
      COLD_OPS.forEach((op, i) => {
        rows.push({
          format: name,
          op,
          cold: median(runs.map((r) => r[i]!)),
          steady: median(runs.map((r) => r[6 + i]!)),
          kernel: kernel[i]!,
          samples: processes,
        });
      });
    };
    for (const f of formats) {
      const file = join(dir, "cold.txt");
      writeFileSync(file, coldScript(f.fmt, n));
      collect(f.name, f.kernel, () => {
        const r = spawnSync(process.execPath, [CLI_MAIN, "script", file], { encoding: "utf8" });
        return { status: r.status, out: r.status === 0 ? r.stdout : r.stderr || r.stdout };
      });
    }
    collect(FLOOR_NAME, COLD_FORMATS[0]!.kernel, () => {
      const r = spawnSync(process.execPath, ["--import", "tsx", FLOOR_MAIN, String(n)], {
        encoding: "utf8",
        cwd: dirname(FLOOR_MAIN),
      });
      return { status: r.status, out: r.status === 0 ? r.stdout : r.stderr || r.stdout };
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
