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

describe("v7s golden vectors (byte for byte)", () => {
  const names = readdirSync(fixtures)
    .filter((f) => f.startsWith("v7s-") || f.startsWith("misc-commands"))
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4));
  it("are all there", () => {
    expect(names).toEqual(["misc-commands", "v7s-default-random", "v7s-edges", "v7s-mtk-i34o35-random"]);
  });
  for (const name of names) {
    it(name, () => {
      const script = readFileSync(join(fixtures, `${name}.txt`), "utf8");
      expect(run(script)).toBe(readFileSync(join(fixtures, `${name}.out`), "utf8"));
    });
  }
});

describe("fmt v7s", () => {
  it("parse errors (bad-args + empty line) and kernel refusals (err alloc)", () => {
    const script = [
      "fmt v7s granule 4k",
      "fmt v7s pgsize 4k",
      "fmt v7s ias",
      "fmt v7s quirks ns,bogus",
      "fmt v7s ptbase 81000000",
      "fmt v7s ias zz",
      "fmt v7s quirks nowarn",
      "fmt v7s ias 33",
      "fmt v7s ias 19",
      "fmt v7s quirks mtk_ext",
      "fmt v7s quirks mtk_ttbr_ext,noperms",
      "fmt v7s ias 34 oas 35 quirks noperms",
      "stats",
    ].join("\n");
    expect(run(script)).toBe(
      lines(
        ...[
          "err bad-args",
          "",
          "err bad-args",
          "",
          "err bad-args",
          "",
          "err bad-args",
          "",
          "err bad-args",
          "",
        ],
        ...[
          "err bad-args",
          "",
          "err alloc",
          "err alloc",
          "err bad-args",
          "",
          "err alloc",
          "err alloc",
          "err alloc",
        ],
        "err no-fmt",
      ),
    );
  });

  it("ns + noncoherent + an oversized bitmap; MediaTek with tables above 4G", () => {
    const script = [
      "fmt v7s ias 30 quirks ns noncoherent pgsizes 0xffffffff",
      "map 0 0 1000 rw",
      "map 100000 100000 100000 rwx",
      "dump",
      "fmt v7s ias 34 oas 35 quirks mtk_ext,noperms quirks mtk_ttbr_ext ptbase 500000000",
      "map 0 700000000 1000 rw",
      "phys 700000123",
      "phys 123",
      "dump",
      "stats",
    ].join("\n");
    expect(run(script)).toBe(
      lines(
        "ok fmt=v7s pgsize_bitmap=0x1111000 ias=30 oas=32 quirks=0x1 levels=2 l1_entries=1024 l2_entries=256 ttbr=0x80000002",
        "ok mapped=0x1000",
        "ok mapped=0x100000",
        "L1 pgd table#0 entries=1024",
        "L1 0 table#1 iova=0x0 attrs=0x9",
        "L2 0/0 leaf iova=0x0 size=0x1000 raw=0x00000c72",
        "L1 1 leaf iova=0x100000 size=0x100000 raw=0x001b1c12",
        "end tables=2 leaves=2",
        "ok fmt=v7s pgsize_bitmap=0x1111000 ias=34 oas=35 quirks=0x1a levels=2 l1_entries=16384 l2_entries=256 ttbr=0x5",
        "ok mapped=0x1000",
        "phys=0x0",
        "phys=0x700000123",
        "L1 pgd table#0 entries=16384",
        "L1 0 table#1 iova=0x0 attrs=0x221",
        "L2 0/0 leaf iova=0x0 size=0x1000 raw=0x00000e72",
        "end tables=2 leaves=1",
        "stats tables_live=2 table_bytes_live=0x10400 tables_allocated_total=4 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=0 warns_total=0",
      ),
    );
  });
});

describe("v7s table commands", () => {
  it("the TLB sanity check WARNs on a granule outside the bitmap; walk is unsupported", () => {
    const script = [
      "fmt v7s pgsizes 1000",
      "map_pages 0 0 100000 1 rw",
      "unmap_pages 0 100000 1",
      "map 0 0 100000 rw",
      "unmap 0 100000",
      "stats",
      "walk 0",
    ].join("\n");
    expect(run(script)).toBe(
      lines(
        "ok fmt=v7s pgsize_bitmap=0x1000 ias=32 oas=32 quirks=0x0 levels=2 l1_entries=4096 l2_entries=256 ttbr=0x8000006a",
        "ok mapped=0x100000",
        "unmapped=0x100000 warn=1",
        "ok mapped=0x100000",
        "unmapped=0x100000",
        "stats tables_live=2 table_bytes_live=0x4400 tables_allocated_total=2 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=257 warns_total=1",
        "err unsupported",
      ),
    );
  });

  it("selftest-v7s passes, destroys the table and counts its tables from program start", () => {
    const script = ["fmt v7s", "map 0 0 1000 rw", "selftest-v7s", "stats", "fmt v7s", "stats"].join("\n");
    expect(run(script)).toBe(
      lines(
        "ok fmt=v7s pgsize_bitmap=0x1111000 ias=32 oas=32 quirks=0x0 levels=2 l1_entries=4096 l2_entries=256 ttbr=0x8000006a",
        "ok mapped=0x1000",
        "selftest-v7s: PASS ret=0 warns=0",
        "err no-fmt",
        "ok fmt=v7s pgsize_bitmap=0x1111000 ias=32 oas=32 quirks=0x0 levels=2 l1_entries=4096 l2_entries=256 ttbr=0x8000006a",
        "stats tables_live=1 table_bytes_live=0x4000 tables_allocated_total=6 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=0 warns_total=0",
      ),
    );
  });
});

describe("iommu dump --image (adopt)", () => {
  it("adopts an exported v7s table: same dump, ranges merged by leaf size and prot", () => {
    const script = [
      "fmt v7s",
      "map_pages 1000 5000 1000 2 rw",
      "map_pages 10000 30000 10000 1 rwc",
      "map_pages 1000000 5000000 1000000 1 rx",
      "dump",
    ];
    const out = run(script.join("\n")).split("\n").slice(0, -1);
    // Rebuild the same table to export its memory: L1 (16K) then one slab block.
    const mem = new PhysMem();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(mem, { counters });
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, {
      quirks: 0,
      pgsizeBitmap: 0x111_1000,
      ias: 32,
      oas: 32,
      coherentWalk: true,
      allocator,
      counters,
    })!;
    const m = new SizeOut();
    ops.mapPages(0x1000, 0x5000, 0x1000, 2, 3, 0, m);
    ops.mapPages(0x1_0000, 0x3_0000, 0x1_0000, 1, 7, 0, m);
    ops.mapPages(0x100_0000, 0x500_0000, 0x100_0000, 1, 9, 0, m);
    const r = dumpImage({
      format: "v7s",
      fmtArgs: [],
      root: 0x8000_0000,
      image: mem.exportRange(0x8000_0000, 0x5000),
      imageBase: 0x8000_0000,
      families: createFamilies(),
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.lines.slice(0, out.length - 3)).toEqual([out[0], ...out.slice(4)]);
    expect(r.lines.slice(out.length - 3)).toEqual([
      "mapped ranges=3",
      "0x1000..0x2fff → 0x5000..0x6fff 8K rw",
      "0x10000..0x1ffff → 0x30000..0x3ffff 64K rwc",
      "0x1000000..0x1ffffff → 0x5000000..0x5ffffff 16M rx",
    ]);
  });
});
