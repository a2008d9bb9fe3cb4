/**
 * The `msm` family (msm.ts): the kernel io-pgtable v7s vectors replayed through msm_iommu's
 * cfg path (`fmt driver=msm`). msm builds exactly the cfg of `fmt v7s` (ARM_V7S 32/32, no
 * quirks, the default pgsizes) except that it leaves `coherent_walk` false, so every line
 * of the kernel's output must come back byte for byte — `phys` through the driver's
 * hardware V2P path — except the `ok fmt=` line, whose TTBR has the non-coherent
 * attributes (S only: 0x80000002 for the table at 0x80000000, not 0x8000006a).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, "../../../fixtures/vectors/io-pgtable");
const run = (text: string) => runScript(text, { families: createFamilies() });

describe("io-pgtable v7s vectors through fmt driver=msm", () => {
  for (const name of ["v7s-default-random", "v7s-edges"])
    for (const length of ["software", "checked"])
      it(`${name} (length=${length}): byte-identical but the fmt line's TTBR`, () => {
        const script = readFileSync(join(vectors, `${name}.txt`), "utf8");
        const expected = readFileSync(join(vectors, `${name}.out`), "utf8").split("\n");
        expect(script.match(/^fmt .*$/gm)).toEqual(["fmt v7s"]);
        const out = run(script.replace(/^fmt v7s$/m, `fmt driver=msm length=${length}`)).split("\n");
        expect(out.length).toBe(expected.length);
        const fmtAt = expected.findIndex((l) => l.startsWith("ok fmt=v7s"));
        expect(expected[fmtAt]).toMatch(/ ttbr=0x8000006a$/);
        expect(out[fmtAt]).toBe(
          `${expected[fmtAt]!.replace(/ttbr=0x8000006a$/, "ttbr=0x80000002")} driver=msm`,
        );
        const others = (lines: string[]) => lines.filter((_, i) => i !== fmtAt);
        expect(others(out)).toEqual(others(expected));
        expect(expected.filter((l) => l.startsWith("phys=")).length).toBeGreaterThan(0);
      });
});

describe("fmt msm options", () => {
  it("ptbase, ncb, length; the fmt line names the driver", () => {
    const out = run(
      ["fmt msm ptbase 10000000 ncb 2", "map 100000 40000000 1000 rw", "phys 100123", ""].join("\n"),
    );
    expect(out.split("\n")).toEqual([
      "ok fmt=v7s pgsize_bitmap=0x1111000 ias=32 oas=32 quirks=0x0 levels=2 l1_entries=4096 l2_entries=256 ttbr=0x10000002 driver=msm",
      "ok mapped=0x1000",
      "phys=0x40000123",
      "",
    ]);
  });

  it("bad options are bad-args (ptbase above 4 GiB: TTBR0 is 32 bits)", () => {
    for (const bad of [
      "fmt msm ptbase 100000000",
      "fmt msm length fast",
      "fmt msm ncb 0",
      "fmt msm bogus 1",
      "fmt msm ncb",
    ])
      expect(run(`${bad}\n`).split("\n")[0]).toBe("err bad-args");
  });
});
