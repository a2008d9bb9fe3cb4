/**
 * `pnpm bench`: model timings beside the kernel C figures, printed as tables.
 * Sections: io-pgtable (arm64-s1 bench-1g loops, v7s/DART when available, PTE reads per
 * lookup), generic_pt (./generic-pt.ts when present), direct drivers (the registry's drivers
 * that own their table format, beside arm64-s1), address representation.
 */
import { existsSync } from "node:fs";
import Table from "cli-table3";
import { runAddrBench } from "./addr.js";
import { CLI_MAIN, FLOOR_NAME, runColdBench } from "./cold.js";
import { runDriversBench } from "./drivers.js";
import { runLpaeBench, runLpaePteReads, runLpaeScanBench, runOtherFormatsBench } from "./io-pgtable.js";
import type { BenchRow } from "./measure.js";

const fmtNs = (ns: number) => (Number.isNaN(ns) ? "" : ns.toFixed(1));

function printRows(title: string, rows: readonly BenchRow[], withKernel: boolean): void {
  const withNote = rows.some((r) => r.note);
  const head = withKernel
    ? ["operation", "model ns/op", "kernel C ns/op", "model / C"]
    : ["operation", "ns/op"];
  const t = new Table({ head: withNote ? [...head, "note"] : head, style: { head: [], border: [] } });
  for (const r of rows) {
    const cells = [r.name, fmtNs(r.ns)];
    if (withKernel) {
      const ratio = r.kernelNs && !Number.isNaN(r.ns) ? `${(r.ns / r.kernelNs).toFixed(1)}x` : "";
      cells.push(r.kernelNs?.toString() ?? "", ratio);
    }
    if (withNote) cells.push(r.note ?? "");
    t.push(cells);
  }
  console.log(`\n${title}`);
  console.log(t.toString());
}

/** Render whatever the generic_pt section returns: rows, lines, or a ready string. */
function printGeneric(result: unknown): void {
  if (typeof result === "string") console.log(result);
  else if (Array.isArray(result) && result.every((r) => typeof r === "string"))
    console.log(result.join("\n"));
  else if (Array.isArray(result)) {
    const rows = result as BenchRow[];
    printRows(
      "generic_pt",
      rows,
      rows.some((r) => r.kernelNs !== undefined),
    );
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (s: string) => only.length === 0 || only.includes(s);
  console.log(
    `@iommu bench: node ${process.version}, ${process.platform}/${process.arch}; median of 7 runs after warm-up (≥ 50,000 ops or 2 runs)`,
  );

  if (want("io-pgtable")) {
    const lpae = runLpaeBench();
    if (lpae) printRows("io-pgtable arm64-s1 4K 48-bit, 1 GiB identity at 0x40000000", lpae, true);
    else console.log("\nio-pgtable: arm64-s1 not available yet");
    const reads = runLpaePteReads();
    if (reads) {
      const t = new Table({
        head: ["arm64-s1 leaves", "PTE reads / iovaToPhysLength", "walks to scan 1 GiB by length"],
        style: { head: [], border: [] },
      });
      for (const r of reads) t.push([r.leaf, r.length.toFixed(2), `${r.scanWalks} (4K steps: 262144)`]);
      console.log(`\nPTE reads per lookup (counters)\n${t.toString()}`);
    }
    const scan = runLpaeScanBench();
    if (scan) {
      const t = new Table({
        head: ["1 GiB of leaves", "iova_to_phys, 4K steps", "iovaToPhysLength, length steps", "speed-up"],
        style: { head: [], border: [] },
      });
      for (const r of scan)
        t.push([
          r.leaf,
          `${r.perPage4kUs.toFixed(0)} µs (262144 walks)`,
          `${r.lengthUs.toFixed(1)} µs (${r.lengthWalks} walks)`,
          `${(r.perPage4kUs / r.lengthUs).toFixed(1)}x`,
        ]);
      console.log(`\nTranslating a whole 1 GiB region (VFIO unmap's loop)\n${t.toString()}`);
    }
    const other = runOtherFormatsBench();
    if (other.length > 0) printRows("io-pgtable v7s / DART, 1 GiB identity at 0x40000000", other, false);
  }

  if (want("generic-pt")) {
    const here = new URL(".", import.meta.url);
    const src = ["generic-pt.ts", "generic-pt.js"].find((f) => existsSync(new URL(f, here)));
    if (src) {
      const mod = (await import(new URL(src, here).href)) as { runGenericPtBench?: () => unknown };
      if (mod.runGenericPtBench) printGeneric(await mod.runGenericPtBench());
    } else console.log("\ngeneric_pt: bench not available yet");
  }

  if (want("drivers")) {
    const rows = runDriversBench();
    const ref = rows[0]?.driver.startsWith("arm64-s1") ? rows[0] : undefined;
    const cell = (ns: number, refNs: number | undefined, isRef: boolean) =>
      isRef || refNs === undefined || Number.isNaN(refNs)
        ? fmtNs(ns)
        : `${fmtNs(ns)} (${(ns / refNs).toFixed(1)}x)`;
    const t = new Table({
      head: ["driver", "4K pages (N)", "map 4K ns/op", "unmap 4K ns/op", "iovaToPhysLength 4K ns/op"],
      style: { head: [], border: [] },
    });
    for (const r of rows) {
      const isRef = r === ref;
      t.push([
        r.driver,
        r.pages.toString(),
        cell(r.map4k, ref?.map4k, isRef),
        cell(r.unmap4k, ref?.unmap4k, isRef),
        cell(r.lookup4k, ref?.lookup4k, isRef),
      ]);
    }
    console.log(
      "\ndirect drivers: their own tables through their domain ops, 1 page per call, N = min(256 MiB, IOVA window) / 4K; (×) = vs arm64-s1",
    );
    console.log(t.toString());
  }

  if (want("addr")) printRows("address representation (@iommu/core)", runAddrBench(), false);
  // Fresh processes: only when asked for (`pnpm bench cold`), it takes a while.
  if (only.includes("cold")) printCold();
}

function printCold(): void {
  const rows = runColdBench();
  if (!rows) {
    console.log(`\ncold: the CLI is not built (${CLI_MAIN}); run \`pnpm --filter @iommu/cli build\``);
    return;
  }
  const t = new Table({
    head: ["format", "op", "first pass ns/op", "× kernel", "third pass ns/op", "× kernel", "kernel C"],
    style: { head: [], border: [] },
  });
  for (const r of rows)
    t.push([
      r.format,
      r.op,
      r.cold.toFixed(1),
      `${(r.cold / r.kernel).toFixed(1)}x`,
      r.steady.toFixed(1),
      `${(r.steady / r.kernel).toFixed(1)}x`,
      r.kernel.toString(),
    ]);
  console.log(
    `\ncold vs steady: \`iommu script\` bench-map/-walk/-unmap, 262,144 × 4K, first and third pass, median of ${rows[0]?.samples ?? 0} fresh processes; "${FLOOR_NAME}" = the same passes over cold-floor.ts's minimal table (the runtime's floor)`,
  );
  console.log(t.toString());
}

await main();
