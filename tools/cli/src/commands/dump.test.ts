/**
 * `iommu dump` through the binary: an arm64-s1 table exported as a raw image file prints what
 * @iommu/script's dumpImage prints for the same image (the dump itself is tested there), and a
 * damaged image lists its missing table instead of failing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IommuCounters, PhysMem, SizeOut, TableAllocator } from "@iommu/core";
import { allocIoPgtableOps, IoPgtableFmt } from "@iommu/io-pgtable";
import { createFamilies, dumpImage } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { fmtArgsOf } from "./dump.js";

describe("iommu dump --image", () => {
  it("prints what dumpImage prints for the image file, with --image-base defaulting to --root", () => {
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
    expect(ops!.mapPages(0x40000000, 0x80000000, 0x200000, 2, 3, 0, mapped)).toBe(0);
    expect(ops!.mapPages(0x1000, 0x5000, 0x1000, 2, 1, 0, mapped)).toBe(0);
    const image = mem.exportRange(allocator.base, allocator.allocatedTotal * 0x1000);
    const r = dumpImage({
      format: "arm64-s1",
      fmtArgs: fmtArgsOf({ granule: "4k", ias: "48", oas: "48", set: [] }),
      root: allocator.base,
      image,
      imageBase: allocator.base,
      families: createFamilies(),
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.lines).toContain("mapped ranges=2");

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
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(r.lines.map((l) => `${l}\n`).join(""));
      const missing = spawnSync(
        process.execPath,
        [bin, ...args, "--root", "0x80000000", "--image", `${file}.no`],
        {
          encoding: "utf8",
        },
      );
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/^iommu dump: .*tables\.bin\.no: /);
      // A damaged image (the pgd's first entry points at a table outside it): listed, exit 0.
      const damaged = image.slice(0, 0x1000);
      new DataView(damaged.buffer).setBigUint64(0, 0x7_0000_0003n, true);
      writeFileSync(file, damaged);
      const partial = spawnSync(process.execPath, [bin, ...args, "--root", "0x80000000", "--image", file], {
        encoding: "utf8",
      });
      expect(partial.stderr).toBe("");
      expect(partial.status).toBe(0);
      expect(partial.stdout).toContain("\nL0 0 table#1 iova=0x0 attrs=0x3 missing\n");
      expect(partial.stdout.endsWith("\nmapped ranges=0\n")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
