/**
 * Round trip: build an arm64-s1 table with @iommu/io-pgtable, export its memory as a raw
 * image, and let `iommu dump` adopt it again. The dump lines must equal what the script
 * `dump` prints for the same mappings, and the range listing must merge contiguous leaves.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IommuCounters, PhysMem, SizeOut, TableAllocator } from "@iommu/core";
import { allocIoPgtableOps, IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { fmtArgsOf } from "../commands/dump.js";
import { runScript } from "../script/engine.js";
import { createFamilies } from "../script/families/index.js";
import { dumpImage } from "./image-dump.js";

const MAPS: Array<[iova: number, pa: number, pgsize: number, count: number, prot: number]> = [
  [0x1000, 0x5000, 0x1000, 2, 3],
  [0x3000, 0x9000, 0x1000, 1, 1],
  [0x40000000, 0x80000000, 0x200000, 2, 3],
  [0x40400000, 0x80400000, 0x1000, 1, 3],
  [0x7f8000000000, 0x123400000, 0x40000000, 1, 3],
];
const PROT_LETTERS = ["", "r", "w", "rw"];

describe("iommu dump --image", () => {
  it("adopts an exported arm64-s1 table and prints the script dump and merged ranges", () => {
    const families = createFamilies();
    const family = families.find((f) => f.formats.includes("arm64-s1"));
    expect(family?.adopt, "the arm64-s1 family (with adopt) must be registered").toBeDefined();

    const mem = new PhysMem();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(mem, { counters });
    const cfg = {
      quirks: 0,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator,
      counters,
    };
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, cfg);
    expect(ops).not.toBeNull();
    const mapped = new SizeOut();
    for (const [iova, pa, pgsize, count, prot] of MAPS)
      expect(ops!.mapPages(iova, pa, pgsize, count, prot, 0, mapped)).toBe(0);
    const image = mem.exportRange(allocator.base, allocator.allocatedTotal * 0x1000);

    const r = dumpImage({
      format: "arm64-s1",
      fmtArgs: fmtArgsOf({ granule: "4k", ias: "48", oas: "48", set: [] }),
      root: allocator.base,
      image,
      imageBase: allocator.base,
      families,
    });
    if (!r.ok) throw new Error(r.error);

    const script = [
      "fmt arm64-s1 granule 4k ias 48 oas 48",
      ...MAPS.map(
        ([iova, pa, pgsize, count, prot]) =>
          `map_pages ${iova.toString(16)} ${pa.toString(16)} ${pgsize.toString(16)} ${count} ${PROT_LETTERS[prot]}`,
      ),
      "dump",
    ].join("\n");
    const scriptOut = runScript(script, { families: createFamilies() }).split("\n").slice(0, -1);
    const dumpLines = scriptOut.slice(1 + MAPS.length);
    expect(r.lines[0]).toBe(scriptOut[0]);
    expect(r.lines.slice(1, 1 + dumpLines.length)).toEqual(dumpLines);
    expect(r.lines.slice(1 + dumpLines.length)).toEqual([
      "mapped ranges=4",
      "0x1000..0x2fff → 0x5000..0x6fff 8K rw",
      "0x3000..0x3fff → 0x9000..0x9fff 4K r",
      "0x40000000..0x40400fff → 0x80000000..0x80400fff 4100K rw",
      "0x7f8000000000..0x7f803fffffff → 0x123400000..0x1633fffff 1G rw",
    ]);

    // The same through the binary, from a file.
    const dir = mkdtempSync(join(tmpdir(), "iommu-dump-"));
    try {
      const file = join(dir, "tables.bin");
      writeFileSync(file, image);
      const bin = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iommu.mjs");
      const args = ["dump", "--format", "arm64-s1", "--granule", "4k", "--ias", "48", "--oas", "48"];
      const run = spawnSync(process.execPath, [bin, ...args, "--root", "0x80000000", "--image", file], {
        encoding: "utf8",
      });
      expect(run.stderr).toBe("");
      expect(run.stdout).toBe(r.lines.map((l) => `${l}\n`).join(""));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
