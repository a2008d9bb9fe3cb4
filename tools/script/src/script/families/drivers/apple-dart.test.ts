/**
 * `fmt driver=apple-dart`: the io-pgtable DART vectors replayed through the driver's cfg path
 * (apple_dart_probe → apple_dart_finalize_domain → alloc_io_pgtable_ops → attach), and the
 * options. The driver produces exactly the vectors' cfg for t8103 (DART1, 16K, 32/36) and
 * t6000 (DART2, 16K, 32/42) except `cfg->tlb`: the kernel's DART driver gives io-pgtable no
 * iommu_flush_ops (it invalidates whole streams on iotlb_sync instead), so the `stats` lines
 * report no flush callbacks where the harness counted its own `tlb_add_page` ones. Every
 * other byte is the kernel's.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";
import { createAppleDartFamily } from "./apple-dart.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, "../../../fixtures/vectors/io-pgtable");

function run(text: string): string {
  const families = createFamilies();
  if (!families.some((f) => f.formats.includes("driver=apple-dart"))) families.push(createAppleDartFamily());
  return runScript(text, { families });
}

/** The vector with its `fmt` line replaced by the driver's. */
function replay(name: string, fmt: string): { got: string; expected: string } {
  const script = readFileSync(join(vectors, `${name}.txt`), "utf8");
  const expected = readFileSync(join(vectors, `${name}.out`), "utf8");
  const lines = script.split("\n");
  const i = lines.findIndex((l) => l.startsWith("fmt "));
  lines[i] = fmt;
  return { got: run(lines.join("\n")), expected };
}

describe("io-pgtable DART vectors through apple-dart", () => {
  for (const [name, fmt] of [
    ["dart1-16k-i32o36-random", "fmt driver=apple-dart hw=t8103 pgsize=16k"],
    ["dart2-16k-i32o42-random", "fmt driver=apple-dart hw=t6000"],
  ] as const)
    it(`${name} ← ${fmt}`, () => {
      const { got, expected } = replay(name, fmt);
      const stats = expected.split("\n").filter((l) => l.startsWith("stats ")).length;
      expect(stats).toBeGreaterThan(0);
      // The one difference: no flush callbacks from io-pgtable (the DART driver has no flush ops).
      let replaced = 0;
      const want = expected.replace(/ tlb_add_page=\d+ /g, () => {
        replaced++;
        return " tlb_add_page=0 ";
      });
      expect(replaced).toBe(stats);
      expect(got).toBe(want);
    });
});

describe("fmt driver=apple-dart options", () => {
  it("variants, page sizes and the ok line of the table they build", () => {
    expect(
      run(
        [
          "fmt driver=apple-dart",
          "fmt driver=apple-dart hw=t8103 pgsize=4k",
          "fmt driver=apple-dart hw=t6000 ptbase=100000000",
          "fmt driver=apple-dart hw=t8110 va=42",
          "",
        ].join("\n"),
      ),
    ).toBe(
      [
        "ok fmt=dart1 pgsize_bitmap=0x4000 ias=32 oas=36 n_levels=3 n_ttbrs=1 bits_per_level=11 ptes_per_table=2048 ttbr=0x80000000",
        "ok fmt=dart1 pgsize_bitmap=0x1000 ias=32 oas=36 n_levels=3 n_ttbrs=4 bits_per_level=9 ptes_per_table=512 ttbr=0x80000000,0x80001000,0x80002000,0x80003000",
        "ok fmt=dart2 pgsize_bitmap=0x4000 ias=32 oas=42 n_levels=3 n_ttbrs=1 bits_per_level=11 ptes_per_table=2048 ttbr=0x100000000",
        "ok fmt=dart2 pgsize_bitmap=0x4000 ias=42 oas=42 n_levels=4 n_ttbrs=1 bits_per_level=11 ptes_per_table=2048 ttbr=0x80000000",
        "",
      ].join("\n"),
    );
  });

  // TTBR of a table at 0x80000000 on T8110: VALID | (0x80000000 >> 14) << 2 = 0x80001.
  it("info: the driver's registers and TLB work (attach invalidates once, map once more)", () => {
    const out = run(
      ["fmt driver=apple-dart hw=t8110 sid=3,4", "info", "map 0 40000000 4000 rw", "info", ""].join("\n"),
    );
    const lines = out.split("\n");
    expect(lines[1]).toBe(
      "info driver=apple-dart hw=t8110 type=T8110 fmt=APPLE_DART2 pgsize=0x4000 page_size=0x4000 ias=32 oas=42" +
        " streams=256 bypass=1 four_level=0 aperture=0x0-0xffffffff sid3_tcr=0x1 sid3_ttbr=0x80001 sid4_tcr=0x1" +
        " sid4_ttbr=0x80001 tlb_flushes=2 tlb_commands=258",
    );
    expect(lines[3]).toMatch(/ tlb_flushes=3 tlb_commands=260$/);
  });

  it("refusals: a 16K DART under 4K pages, a locked DART, a foreign PA width; bad options", () => {
    expect(run("fmt driver=apple-dart hw=t6000 pagesize=4k\nmap 0 0 4000 rw\n")).toBe(
      "err -22 (EINVAL)\nerr no-fmt\n",
    );
    expect(run("fmt driver=apple-dart locked=1\n")).toBe("err -22 (EINVAL)\n");
    expect(run("fmt driver=apple-dart hw=t8110 pa=40\n")).toBe("err -12 (ENOMEM)\n");
    expect(run("fmt driver=apple-dart sid=16\n")).toBe("err -22 (EINVAL)\n");
    for (const bad of ["hw=t9999", "pgsize=64k", "frob=1", "sid=x", "ptbase=1000", "bypass=2", "hw"])
      expect(run(`fmt driver=apple-dart ${bad}\n`), bad).toBe("err bad-args\n\n");
  });
});

describe("registry: the apple-dart and ipmmu-vmsa demo targets", () => {
  it("hand out attached domains per driver instance, each instance its own ops table", async () => {
    const { demoTargetKinds } = await import("../../../registry.js");
    const { iommuPagingDomainAllocFlags } = await import("@iommu/core");
    const kinds = demoTargetKinds().filter((k) => k.driver === "apple-dart" || k.driver === "ipmmu-vmsa");
    expect(kinds.map((k) => `${k.driver}/${k.key}/${k.format}/${k.granules.join(",")}`)).toEqual([
      "apple-dart/apple-dart/APPLE_DART2/16384",
      "apple-dart/apple-dart-4k/APPLE_DART/4096",
      "ipmmu-vmsa/ipmmu/ARM_32_LPAE_S1/4096",
    ]);
    for (const k of kinds)
      for (const g of k.granules) {
        const [a, b] = [k.createDriver(g), k.createDriver(g)];
        const d1 = iommuPagingDomainAllocFlags(a, 0);
        const d2 = iommuPagingDomainAllocFlags(a, 0);
        const d3 = iommuPagingDomainAllocFlags(b, 0);
        expect(d1.ops, k.key).toBe(d2.ops);
        expect(d1.ops, k.key).not.toBe(d3.ops);
        expect(d1.pgsizeBitmap % (2 * g), k.key).toBe(g);
        expect(a.pgsizeBitmap % (2 * g), k.key).toBe(g);
        // Attached: the table exists and the 32-bit aperture holds the demo's window.
        expect(d1.geometry.apertureEnd, k.key).toBe(2 ** 32 - 1);
        for (const d of [d1, d2, d3]) d.ops?.free?.(d);
      }
  });
});
