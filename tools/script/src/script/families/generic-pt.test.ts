/**
 * generic_pt through the script engine: every public vector byte for byte (the CLI's copy in
 * src/fixtures/vectors/generic-pt), plus the dialect's commands the vectors do not cover.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IOMMU_READ, IOMMU_WRITE, IommuCounters, iommuMap, PhysMem } from "@iommu/core";
import type { PtTable } from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../registry.js";
import { runScript } from "../engine.js";
import { createGenericPtFamily } from "./generic-pt.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "../../fixtures/vectors/generic-pt");

function run(script: string): string {
  return runScript(script, { families: createFamilies() });
}

describe("generic_pt vectors", () => {
  const names = readdirSync(fixtures)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4))
    .sort();
  it("has the six public vectors", () => {
    expect(names.length).toBe(6);
  });
  for (const name of names) {
    it(name, () => {
      const script = readFileSync(join(fixtures, `${name}.txt`), "utf8");
      const expected = readFileSync(join(fixtures, `${name}.out`), "utf8");
      expect(run(script)).toBe(expected);
    });
  }
});

describe("generic_pt dialect", () => {
  it("trace on prints the unmap gather, empty gathers as ULONG_MAX-0", () => {
    const out = run(
      [
        "fmt amdv1",
        "trace on",
        "map 40000000 40000000 3000 rw",
        "unmap 40000000 2000",
        "unmap_pages 50000000 1000 1",
        "trace off",
        "unmap 40002000 1000",
      ].join("\n"),
    );
    expect(out.split("\n").slice(1, 7)).toEqual([
      "ok trace=on",
      "ok mapped=0x3000",
      "unmapped=0x2000 gather=0x40000000-0x40001fff",
      "unmapped=0x0 gather=0x50000000-0x50000fff",
      "ok trace=off",
      "unmapped=0x1000",
    ]);
  });

  it("trace is a setting of the harness process: before any fmt, and kept across tables", () => {
    const out = run(
      [
        "trace on",
        "fmt amdv1",
        "map 40000000 40000000 1000 rw",
        "unmap 40000000 1000",
        "fmt vtdss",
        "map 1000 1000 1000 rw",
        "unmap 1000 1000",
        "trace off",
        "trace sideways",
      ].join("\n"),
    );
    const lines = out.split("\n");
    expect(lines[0]).toBe("ok trace=on");
    expect(lines[3]).toBe("unmapped=0x1000 gather=0x40000000-0x40000fff");
    expect(lines[6]).toBe("unmapped=0x1000 gather=0x1000-0x1fff");
    expect(lines.slice(7, 9)).toEqual(["ok trace=off", "err bad-args"]);
  });

  it("no flush_range: the gather stays empty and iotlb_sync still counts", () => {
    const out = run(
      [
        "fmt vtdss features none",
        "trace on",
        "map 1000 1000 1000 rw",
        "unmap_pages 1000 1000 1",
        "stats",
      ].join("\n"),
    );
    const lines = out.split("\n");
    expect(lines[3]).toBe("unmapped=0x1000 gather=0xffffffffffffffff-0x0");
    expect(lines[4]).toContain("iotlb_sync=1 ");
  });

  it("failalloc makes a map fail with -ENOMEM and the core unrolls it", () => {
    const out = run(
      ["fmt x86_64", "failalloc 2", "map 40000000 40000000 1000 rw", "stats", "phys 40000000"].join("\n"),
    );
    const lines = out.split("\n");
    expect(lines[1]).toBe("ok failalloc=2");
    expect(lines[2]).toBe("err -12 (ENOMEM) mapped=0x0 unrolled=0x0");
    // top + the one table allocated before the failure stay allocated (empty), like the kernel.
    expect(lines[3]).toMatch(/^stats tables_live=2 /);
    expect(lines[4]).toBe("phys=0x0");
  });

  it("info reports the live geometry", () => {
    const out = run(["fmt vtdss va_bits 39", "info"].join("\n"));
    expect(out.split("\n")[1]).toBe(
      "info top_level=2 levels=3 va_bits=39 oa_bits=52 pgsize_bitmap=0x40201000 va_start=0x0 va_end=0x7fffffffff aw=1 ssptptr=0x80000000",
    );
  });

  it("dump all prints every item of a contiguous entry", () => {
    const out = run(["fmt riscv", "map 40000000 80000000 10000 rw", "dump all"].join("\n"));
    const leaves = out.split("\n").filter((l) => l.includes(" leaf "));
    expect(leaves.length).toBe(16);
    expect(leaves.every((l) => l.endsWith(" contig=16"))).toBe(true);
    expect(out).toContain("end tables=4 leaves=16");
  });

  it("bad fmt arguments", () => {
    expect(run("fmt amdv1 +bogus")).toBe("err bad-args\n\n");
    expect(run("fmt amdv1 va_bits")).toBe("err bad-args\n\n");
    expect(run("fmt x86_64 features svnapot_64k")).toBe("err bad-args\n\n");
  });

  it("adopts a table image (iommu dump): same walk, dump and phys", () => {
    const fam = createGenericPtFamily();
    const env = { counters: new IommuCounters(), stderr() {}, session: new Map<string, string>() };
    const r1 = fam.create(fam.parseFmt("riscv", []), env);
    if (r1.kind !== "ok") throw new Error(r1.kind);
    iommuMap(r1.table.domain, 0x40000000, 0x80000000, 0x10000, IOMMU_READ | IOMMU_WRITE);
    iommuMap(r1.table.domain, 0x40200000, 0x90200000, 0x200000, IOMMU_READ);
    const pt = (r1.table as unknown as { pt: PtTable }).pt;
    const mem = new PhysMem();
    for (const { pa, bytes } of pt.alloc.mem.ranges())
      mem.importRange(pa, pt.alloc.mem.exportRange(pa, bytes));
    const r2 = fam.adopt!(fam.parseFmt("riscv", []), env, { mem, root: pt.topPa });
    if (r2.kind !== "ok") throw new Error(r2.kind);
    expect(r2.table.dump(false)).toEqual(r1.table.dump(false));
    expect(r2.table.walk(0x40005000)).toBe(r1.table.walk(0x40005000));
    expect(r2.table.phys(0x40212345)).toBe(0x90212345);
    expect(r2.table.leafProt?.(0x40212345)).toBe("r");
    r2.table.destroy();
    r1.table.destroy();
  });
});
