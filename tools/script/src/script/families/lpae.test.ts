import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { armLpaeDoSelftests } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../registry.js";
import { runScript, ScriptSession } from "../engine.js";
import type { ScriptEnv } from "../target.js";
import { createLpaeFamily, parseLpaeFmt } from "./lpae.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The golden vectors (one copy for the whole CLI: src/fixtures/vectors/). */
const fixtures = join(here, "../../fixtures/vectors/io-pgtable");

const run = (script: string): string => runScript(script, { families: createFamilies() });
const lines = (...l: string[]): string => l.map((x) => `${x}\n`).join("");
const FMT_4K =
  "ok fmt=arm64-s1 pgsize_bitmap=0x40201000 ias=48 oas=48 start_level=0 levels=4 bits_per_level=9 pgd_bits=9 pgd_entries=512 granule=0x1000 ttbr=0x80000000";

describe("LPAE golden vectors (byte for byte)", () => {
  const names = readdirSync(fixtures)
    .filter((f) => f.startsWith("lpae-") || f.startsWith("misc-commands"))
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4));
  it("are all there", () => {
    expect(names).toEqual([
      "lpae-a32s1-4k-i32o40-random",
      "lpae-a64s1-16k-i48o48-random",
      "lpae-a64s1-4k-edges",
      "lpae-a64s1-4k-i48o48-random",
      "lpae-a64s1-64k-i52o52-random",
      "lpae-a64s2-4k-i40o40-concat-random",
      "lpae-mali-4k-i48o40-random",
      "lpae-selftest",
      "misc-commands",
    ]);
  });
  for (const name of names) {
    it(name, () => {
      const script = readFileSync(join(fixtures, `${name}.txt`), "utf8");
      expect(run(script)).toBe(readFileSync(join(fixtures, `${name}.out`), "utf8"));
    });
  }
});

describe("fmt <lpae>: arguments (SCRIPT-FORMAT.md §3)", () => {
  it("defaults, granule bitmaps, last key wins, quirks accumulate, num syntax", () => {
    expect(parseLpaeFmt("arm64-s1", [])).toEqual({
      name: "arm64-s1",
      fmt: 2,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      quirks: 0,
      ptbase: 0x80000000,
      coherent: true,
    });
    expect(parseLpaeFmt("mali", ["granule", "16K", "granule", "64k"])!.pgsizeBitmap).toBe(0x20010000);
    expect(parseLpaeFmt("arm64-s1", ["granule", "16k", "pgsizes", "1000"])!.pgsizeBitmap).toBe(0x1000);
    expect(parseLpaeFmt("arm64-s1", ["pgsizes", "0", "granule", "16k"])!.pgsizeBitmap).toBe(0x2004000);
    const p = parseLpaeFmt("arm64-s1", [
      "quirks",
      "ns",
      "ias",
      "060",
      "quirks",
      "ttbr1,none",
      "oas",
      "0x28",
      "noncoherent",
    ])!;
    expect([p.quirks, p.ias, p.oas, p.coherent]).toEqual([0x21, 48, 40, false]);
    expect(parseLpaeFmt("arm64-s1", ["ptbase", "100000000"])!.ptbase).toBe(0x100000000);
  });
  it("page-size bitmaps with bits above 52 (the kernel keeps only the granule's sizes)", () => {
    expect(run("fmt arm64-s1 pgsizes ffffffffffffffff\nfmt arm64-s1 pgsizes 8000000000000000")).toBe(
      lines(FMT_4K, "err alloc"),
    );
  });
  it("parse errors: bad-args and an empty line, the old table stays", () => {
    const bad = [
      "granule 8k",
      "pgsize 4k",
      "ias",
      "ias zz",
      "frob 1",
      "quirks ns,bogus",
      "ptbase 1000",
      "ptbase 10000000000000",
      "pgsizes 1g",
    ];
    const script = [
      "fmt arm64-s1",
      "map 1000 2000 1000 rw",
      ...bad.map((a) => `fmt arm64-s1 ${a}`),
      "phys 1234",
    ];
    expect(run(script.join("\n"))).toBe(
      lines(FMT_4K, "ok mapped=0x1000", ...bad.flatMap(() => ["err bad-args", ""]), "phys=0x2234"),
    );
  });
  it("kernel refusals: err alloc (with the concatenation WARN), and no table afterwards", () => {
    const script = [
      "fmt arm64-s2 granule 4k ias 48 oas 40",
      "phys 0",
      "fmt mali quirks nowarn",
      "fmt arm64-s1 quirks outer_wbwa",
      "fmt arm64-s2 quirks ttbr1",
      "fmt arm32-s1 ias 33 oas 40",
      "fmt arm64-s1 oas 39",
      "fmt arm64-s1 pgsizes 800",
      "fmt arm64-s1 quirks outer_wbwa noncoherent",
    ];
    expect(run(script.join("\n"))).toBe(
      lines(
        "err alloc warn=1",
        "err no-fmt",
        "err alloc",
        "err alloc",
        "err alloc",
        "err alloc",
        "err alloc",
        "err alloc",
        FMT_4K,
      ),
    );
  });
  it("ptbase moves the tables (and ttbr); the 32-bit and mali lines", () => {
    expect(
      run(
        "fmt arm64-s1 ptbase 500000000 granule 64k ias 36\nfmt arm32-s2 ias 40 oas 40\nfmt mali ias 39 oas 40 noncoherent",
      ),
    ).toBe(
      lines(
        "ok fmt=arm64-s1 pgsize_bitmap=0x20010000 ias=36 oas=48 start_level=2 levels=2 bits_per_level=13 pgd_bits=7 pgd_entries=128 granule=0x10000 ttbr=0x500000000",
        "ok fmt=arm32-s2 pgsize_bitmap=0x40201000 ias=40 oas=40 start_level=1 levels=3 bits_per_level=9 pgd_bits=10 pgd_entries=1024 granule=0x1000 ttbr=0x80000000",
        "ok fmt=mali pgsize_bitmap=0x40201000 ias=39 oas=40 start_level=0 levels=4 bits_per_level=9 pgd_bits=0 pgd_entries=1 granule=0x1000 ttbr=0x80000007",
      ),
    );
  });
});

describe("walk, dump, stats", () => {
  it("a walk into a hole, a 2M leaf, an invalid entry and the table counters", () => {
    const script = [
      "fmt arm64-s1 quirks ns",
      "walk 1000",
      "map 200000 40000000 200000 rwx",
      "walk 234567",
      "dump",
      "unmap 200000 200000",
      "stats",
    ];
    expect(run(script.join("\n"))).toBe(
      lines(
        FMT_4K,
        "walk ret=-22 L0=0x0 L1=0x0 L2=0x0 L3=0x0",
        "ok mapped=0x200000",
        "walk ret=0 L0=table(attrs=0x8000000000000003) L1=table(attrs=0x8000000000000003) L2=0x60000040000e61 L3=0x0",
        "L0 pgd table#0 entries=512",
        "L0 0 table#1 iova=0x0 attrs=0x8000000000000003",
        "L1 0/0 table#2 iova=0x0 attrs=0x8000000000000003",
        "L2 0/0/1 leaf iova=0x200000 size=0x200000 raw=0x0060000040000e61",
        "end tables=3 leaves=1",
        "unmapped=0x200000",
        "stats tables_live=3 table_bytes_live=0x3000 tables_allocated_total=3 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=1 warns_total=0",
      ),
    );
  });
  it("TLB counters reset on fmt; tables_allocated_total and warns_total never do", () => {
    const script = [
      "fmt arm64-s1",
      "map 0 0 1000 rw",
      "unmap 0 1000",
      "unmap 0 1000",
      "fmt arm64-s1",
      "stats",
    ];
    expect(run(script.join("\n")).split("\n").at(-2)).toBe(
      "stats tables_live=1 table_bytes_live=0x1000 tables_allocated_total=5 tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=0 warns_total=1",
    );
  });
  it("leafProt reads the permissions back out of the leaf", () => {
    const session = new ScriptSession({ families: createFamilies() });
    session.line("fmt arm64-s1 quirks hd");
    session.line("map 0 0 1000 rwcx");
    session.line("map 1000 0 1000 rp");
    session.line("map 2000 0 1000 wm");
    const t = session.current!;
    expect([t.leafProt!(0), t.leafProt!(0x1000), t.leafProt!(0x2000), t.leafProt!(0x3000)]).toEqual([
      "rwcx",
      "rp",
      "rwm",
      undefined,
    ]);
    session.line("fmt arm64-s2");
    session.line("map 0 0 1000 rc");
    session.line("map 1000 0 1000 w");
    expect([session.current!.leafProt!(0), session.current!.leafProt!(0x1000)]).toEqual(["rc", "w"]);
  });
});

describe("selftest", () => {
  it("runs the kernel's LPAE selftest, destroys the live table, counts its allocations", () => {
    const counters = new IommuCounters();
    armLpaeDoSelftests({ allocator: new TableAllocator(new PhysMem(), { counters }), counters });
    const n = counters.tablesAllocated;
    expect(run("fmt arm64-s1\nselftest\nstats\nfmt arm64-s1\nstats")).toBe(
      lines(
        FMT_4K,
        "selftest: completed with 63 PASS 0 FAIL warns=0",
        "err no-fmt",
        FMT_4K,
        `stats tables_live=1 table_bytes_live=0x1000 tables_allocated_total=${n + 2} tlb_flush_all=0 tlb_flush_walk=0 tlb_add_page=0 warns_total=0`,
      ),
    );
  });
});

describe("adopt (iommu dump --image)", () => {
  it("walks a table image in place", () => {
    const session = new ScriptSession({ families: createFamilies() });
    session.line("fmt arm64-s2 ias 40 oas 40");
    session.line("map 40000000 80000000 200000 rw");
    const image = new PhysMem();
    // The script's tables sit at ptbase 0x80000000; copy them into a stand-alone image.
    const t = session.current!;
    const table = t as unknown as { d: { mem: PhysMem } };
    for (const r of table.d.mem.ranges()) image.importRange(r.pa, table.d.mem.exportRange(r.pa, r.bytes));
    const family = createLpaeFamily();
    const env: ScriptEnv = { counters: new IommuCounters(), stderr: () => {}, session: new Map() };
    const r = family.adopt!(parseLpaeFmt("arm64-s2", ["ias", "40", "oas", "40"]), env, {
      mem: image,
      root: 0x80000000,
    });
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.table.phys(0x40012345)).toBe(0x80012345);
    expect(r.table.dump(false).at(-1)).toBe("end tables=2 leaves=1");
    r.table.destroy();
    expect(image.read64(0x80000000 + 8 * 1)).not.toBe(0n);
  });
});
