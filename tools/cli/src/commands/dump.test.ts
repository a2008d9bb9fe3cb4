/**
 * `iommu dump` through the binary: an arm64-s1 table exported as a raw image file prints what
 * @iommu/script's dumpImage prints for the same image (the dump itself is tested there), and a
 * damaged image lists its missing table instead of failing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
      // A damaged image (the pgd's first entry points at a table outside it): listed, and
      // reported on stderr with exit 1 (a script must not take it for a whole table).
      const damaged = image.slice(0, 0x1000);
      new DataView(damaged.buffer).setBigUint64(0, 0x7_0000_0003n, true);
      writeFileSync(file, damaged);
      const partial = spawnSync(process.execPath, [bin, ...args, "--root", "0x80000000", "--image", file], {
        encoding: "utf8",
      });
      expect(partial.stderr).toBe(
        `iommu dump: ${file}: 1 table entry points outside the image (listed as missing)\n`,
      );
      expect(partial.status).toBe(1);
      expect(partial.stdout).toContain("\nL0 0 table#1 iova=0x0 attrs=0x3 missing\n");
      expect(partial.stdout.endsWith("\nmapped ranges=0\n")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("table images: iommu script --save-image → iommu dump FILE", () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iommu.mjs");
  const examples = join(dirname(fileURLToPath(import.meta.url)), "../../examples");
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

  it("round-trips: the dump of the saved image lists what the script's own dump lists", () => {
    const dir = mkdtempSync(join(tmpdir(), "iommu-img-"));
    try {
      const img = join(dir, "t.img");
      const script = join(examples, "two-blocks.txt");
      const saved = run(["script", "--save-image", img, script]);
      expect(saved.status, saved.stderr).toBe(0);
      const withDump = spawnSync(process.execPath, [bin, "script", "-"], {
        encoding: "utf8",
        input: `${readFileSync(script, "utf8")}dump\n`,
      });
      const liveDump = withDump.stdout.split("\n").slice(4).join("\n");
      const dumped = run(["dump", img]);
      expect(dumped.status, dumped.stderr).toBe(0);
      expect(dumped.stdout.startsWith(withDump.stdout.split("\n")[0]!)).toBe(true);
      expect(dumped.stdout).toContain(liveDump.trimEnd());
      expect(dumped.stdout).toContain("mapped ranges=2\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("the shipped example image is the example script's output (README's dump example)", () => {
    const dir = mkdtempSync(join(tmpdir(), "iommu-img-"));
    try {
      const img = join(dir, "t.img");
      expect(run(["script", "-q", "--save-image", img, join(examples, "two-blocks.txt")]).status).toBe(0);
      expect(readFileSync(img)).toEqual(readFileSync(join(examples, "two-blocks.img")));
      const r = run(["dump", join(examples, "two-blocks.img")]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("0x40000000..0x401fffff → 0x80000000..0x801fffff 2M rw\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("a raw image without --format/--root, a missing file: one line, exit 2 / 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "iommu-img-"));
    try {
      const raw = join(dir, "raw.bin");
      writeFileSync(raw, new Uint8Array(0x1000));
      const r = run(["dump", raw]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `iommu dump: ${raw} is a raw memory image (no IOMMUIMG header): give --format and --root\n`,
      );
      const empty = join(dir, "empty.bin");
      writeFileSync(empty, new Uint8Array(0));
      const e = run(["dump", "--format", "arm64-s1", "--root", "0x80000000", "--image", empty]);
      expect(e.status).toBe(1);
      expect(e.stderr).toBe(`iommu dump: ${empty}: the image is empty\n`);
      const m = run(["dump", join(dir, "nope.img")]);
      expect(m.status).toBe(1);
      expect(m.stderr).toMatch(/^iommu dump: .*nope\.img: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("iommu dump --from-debugfs (Intel VT-d domain_translation_struct)", () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iommu.mjs");
  const example = join(
    dirname(fileURLToPath(import.meta.url)),
    "../../examples/vtd-domain_translation_struct.txt",
  );
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

  it("rebuilds the example's table and lists its leaves and ranges", () => {
    const r = run(["dump", "--from-debugfs", example]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("# device 0000:00:02.0 root=0x80000000 levels=4 leaves=5");
    expect(lines).toContain("L1 0/0/1 leaf iova=0x200000 size=0x200000 raw=0x0000000000400081");
    expect(lines).toContain("0x40000000..0x7fffffff → 0x80000000..0xbfffffff 1G rw");
  });

  it("a device the file does not have, a wrong format, a foreign file: one line each", () => {
    const d = run(["dump", "--from-debugfs", example, "--device", "0000:01:00.0"]);
    expect(d.status).toBe(1);
    expect(d.stderr).toBe(
      `iommu dump: ${example}: no block for device 0000:01:00.0; the file has 0000:00:02.0\n`,
    );
    const f = run(["dump", "--from-debugfs", example, "--format", "amdv1"]);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/^iommu dump: --from-debugfs reads VT-d tables/);
    const x = run(["dump", "--from-debugfs", bin]);
    expect(x.status).toBe(1);
    expect(x.stderr).toMatch(/: line 1: not a domain_translation_struct line: /);
  });
});
