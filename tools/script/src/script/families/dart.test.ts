import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IommuCounters, PhysMem, SizeOut, TableAllocator } from "@iommu/core";
import { allocIoPgtableOps, IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { dumpImage } from "../../dump/image-dump.js";
import { createFamilies } from "../../registry.js";
import { runScript } from "../engine.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The golden vectors (one copy for the whole CLI: src/fixtures/vectors/). */
const fixtures = join(here, "../../fixtures/vectors/io-pgtable");

const run = (script: string): string => runScript(script, { families: createFamilies() });
const lines = (...l: string[]): string => l.map((x) => `${x}\n`).join("");

describe("DART golden vectors (byte for byte)", () => {
  const names = readdirSync(fixtures)
    .filter((f) => f.startsWith("dart"))
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4));
  it("are all there", () => {
    expect(names).toEqual(["dart1-16k-i32o36-random", "dart2-16k-i32o42-random"]);
  });
  for (const name of names) {
    it(name, () => {
      const script = readFileSync(join(fixtures, `${name}.txt`), "utf8");
      expect(run(script)).toBe(readFileSync(join(fixtures, `${name}.out`), "utf8"));
    });
  }
});

describe("fmt dart1 / dart2", () => {
  it("refusals and parse errors", () => {
    const script = [
      "fmt dart1 granule 64k",
      "fmt dart1 pgsize 64k",
      "fmt dart1 noncoherent",
      "fmt dart2 oas 40",
      "fmt dart1 ias 37",
      "fmt dart1 pgsize 4k ias 42 oas 42",
      "fmt dart1 pgsizes 5000",
    ].join("\n");
    expect(run(script)).toBe(
      lines("err alloc", "err bad-args", "", "err alloc", "err alloc", "err alloc", "err alloc", "err alloc"),
    );
  });

  it("4K pages: four TTBRs; beyond them -ENOMEM without a WARN; unmap stops at a hole", () => {
    const script = [
      "fmt dart1 pgsize 4k quirks nowarn,ns",
      "map c0000000 100000000 2000 rw",
      "map 100000000 0 1000 rw",
      "dump",
      "stats",
      "unmap c0000000 3000",
      "phys c0000000",
    ].join("\n");
    expect(run(script)).toBe(
      lines(
        "ok fmt=dart1 pgsize_bitmap=0x1000 ias=32 oas=36 n_levels=3 n_ttbrs=4 bits_per_level=9 ptes_per_table=512 ttbr=0x80000000,0x80001000,0x80002000,0x80003000",
        "ok mapped=0x2000",
        "err -12 (ENOMEM) mapped=0x0 unrolled=0x0",
        "L2 ttbr0 table#0 iova=0x0 entries=512",
        "L2 ttbr1 table#1 iova=0x40000000 entries=512",
        "L2 ttbr2 table#2 iova=0x80000000 entries=512",
        "L2 ttbr3 table#3 iova=0xc0000000 entries=512",
        "L2 3/0 table#4 iova=0xc0000000 attrs=0x1",
        "L1 3/0/0 leaf iova=0xc0000000 size=0x1000 raw=0x000fff0100000003",
        "L1 3/0/1 leaf iova=0xc0001000 size=0x1000 raw=0x000fff0100001003",
        "end tables=5 leaves=2",
        "stats tables_live=5 table_bytes_live=0x5000 tables_allocated_total=5 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=0 warns_total=0",
        "unmapped=0x2000 warn=2",
        "phys=0x0",
      ),
    );
  });

  it("DART2 16K ias 42: three table levels; map_pages stops at the leaf table end", () => {
    const script = [
      "fmt dart2 ias 42",
      "map_pages 3ffffffc000 3ffffffc000 4000 2 rc",
      "phys 3ffffffd234",
      "dump",
      "walk 0",
    ].join("\n");
    expect(run(script)).toBe(
      lines(
        "ok fmt=dart2 pgsize_bitmap=0x4000 ias=42 oas=42 n_levels=4 n_ttbrs=1 bits_per_level=11 ptes_per_table=2048 ttbr=0x80000000",
        "ok mapped=0x4000",
        "phys=0x3ffffffd234",
        "L3 ttbr0 table#0 iova=0x0 entries=2048",
        "L3 0/63 table#1 iova=0x3f000000000 attrs=0x1",
        "L2 0/63/2047 table#2 iova=0x3fffe000000 attrs=0x1",
        "L1 0/63/2047/2047 leaf iova=0x3ffffffc000 size=0x4000 raw=0x000fff3ffffffc05",
        "end tables=3 leaves=1",
        "err unsupported",
      ),
    );
  });
});

describe("iommu dump --image (adopt)", () => {
  it("adopts an exported 4-TTBR dart1 table", () => {
    const mem = new PhysMem();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(mem, { counters });
    const ops = allocIoPgtableOps(IoPgtableFmt.APPLE_DART, {
      quirks: 0,
      pgsizeBitmap: 0x1000,
      ias: 32,
      oas: 36,
      coherentWalk: true,
      allocator,
      counters,
    })!;
    const m = new SizeOut();
    ops.mapPages(0xc000_0000, 0x1_0000_0000, 0x1000, 2, 3, 0, m);
    ops.mapPages(0x1000, 0x2000, 0x1000, 1, 1, 0, m);
    const r = dumpImage({
      format: "dart1",
      fmtArgs: ["pgsize", "4k"],
      root: 0x8000_0000,
      image: mem.exportRange(0x8000_0000, 0x6000),
      imageBase: 0x8000_0000,
      families: createFamilies(),
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.lines[0]).toBe(
      "ok fmt=dart1 pgsize_bitmap=0x1000 ias=32 oas=36 n_levels=3 n_ttbrs=4 bits_per_level=9 ptes_per_table=512 ttbr=0x80000000,0x80001000,0x80002000,0x80003000",
    );
    expect(r.lines.slice(-3)).toEqual([
      "mapped ranges=2",
      "0x1000..0x1fff → 0x2000..0x2fff 4K r",
      "0xc0000000..0xc0001fff → 0x100000000..0x100001fff 8K rw",
    ]);
    expect(r.lines).toContain("L1 3/0/1 leaf iova=0xc0001000 size=0x1000 raw=0x000fff0100001003");
  });
});
