/**
 * The `mtk-iommu` family (mtk-iommu.ts): the kernel's MediaTek v7s vector replayed through
 * mtk_iommu's cfg path (`fmt driver=mtk-iommu soc=mt8192`: ias 34, oas 35, quirks
 * NS | NO_PERMS | MTK_EXT). The vector's cfg has no ARM_NS, which no mtk_iommu SoC
 * produces, so the output is byte-identical except where ARM_NS shows: NS_TABLE (bit 3) in
 * every table descriptor's attrs, NS_SECTION (bit 19) in every L1 leaf, quirks 0xb, and the
 * stats' tlb_* callback counts (mtk_iommu gives io-pgtable no flush ops: it syncs ranges).
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

/** What ARM_NS changes in a kernel output line (computed from the line, not by the model). */
function withNs(line: string): { line: string; kind: string } {
  let m = /^(L1 \d+ table#\d+ iova=0x[0-9a-f]+ attrs=)0x([0-9a-f]+)$/.exec(line);
  if (m)
    return {
      line: `${m[1]}0x${(Number.parseInt(m[2]!, 16) | 0x8).toString(16).padStart(m[2]!.length, "0")}`,
      kind: "table",
    };
  m = /^(L1 \d+ leaf iova=0x[0-9a-f]+ size=0x[0-9a-f]+ raw=)0x([0-9a-f]+)(.*)$/.exec(line);
  if (m)
    return {
      line: `${m[1]}0x${((Number.parseInt(m[2]!, 16) | 0x8_0000) >>> 0).toString(16).padStart(m[2]!.length, "0")}${m[3]}`,
      kind: "l1-leaf",
    };
  if (line.startsWith("stats "))
    return {
      line: line.replace(/tlb_flush_walk=\d+ tlb_add_page=\d+/, "tlb_flush_walk=0 tlb_add_page=0"),
      kind: "stats",
    };
  return { line, kind: "same" };
}

describe("io-pgtable v7s-mtk-i34o35-random through fmt driver=mtk-iommu soc=mt8192", () => {
  it("identical but for ARM_NS and the flush callbacks", () => {
    const script = readFileSync(join(vectors, "v7s-mtk-i34o35-random.txt"), "utf8");
    const expected = readFileSync(join(vectors, "v7s-mtk-i34o35-random.out"), "utf8").split("\n");
    expect(script.match(/^fmt .*$/gm)).toEqual(["fmt v7s ias 34 oas 35 quirks mtk_ext,noperms"]);
    const out = run(script.replace(/^fmt v7s .*$/m, "fmt driver=mtk-iommu soc=mt8192")).split("\n");
    expect(out.length).toBe(expected.length);
    expect(expected[0]).toBe(
      "ok fmt=v7s pgsize_bitmap=0x1111000 ias=34 oas=35 quirks=0xa levels=2 l1_entries=16384 l2_entries=256 ttbr=0x80000000",
    );
    expect(out[0]).toBe(
      "ok fmt=v7s pgsize_bitmap=0x1111000 ias=34 oas=35 quirks=0xb levels=2 l1_entries=16384 l2_entries=256 ttbr=0x80000000 driver=mtk-iommu soc=mt8192",
    );
    const kinds = new Map<string, number>();
    for (let i = 1; i < expected.length; i++) {
      const { line, kind } = withNs(expected[i]!);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      expect(out[i], `line ${i + 1}`).toBe(line);
    }
    // The comparison exercised every class of line.
    for (const k of ["table", "l1-leaf", "stats", "same"]) expect(kinds.get(k)).toBeGreaterThan(0);
  });
});

describe("fmt mtk-iommu options", () => {
  it("soc, 4gb (bit 32 added, then stripped by phys), larb/port → region", () => {
    const out = run(
      [
        "fmt mtk-iommu soc mt8173 4gb on",
        "map 100000 80000000 1000 rw",
        "phys 100123",
        "dump",
        "fmt driver=mtk-iommu soc=mt8192 larb=4 port=0",
        "map 100000000 40000000 1000 rw",
        "phys 100000010",
        "",
      ].join("\n"),
    ).split("\n");
    expect(out[0]).toBe(
      "ok fmt=v7s pgsize_bitmap=0x1111000 ias=32 oas=33 quirks=0xb levels=2 l1_entries=4096 l2_entries=256 ttbr=0x80000000 driver=mtk-iommu soc=mt8173 4gb=on",
    );
    expect(out[2]).toBe("phys=0x80000123");
    // The L2 entry holds the M4U's output address: PA bit 32 in PTE bit 9 (MTK_EXT).
    expect(out.find((l) => l.startsWith("L2 "))).toMatch(/raw=0x80000[0-9a-f]{3}$/);
    expect(out.find((l) => l.startsWith("L2 "))).toMatch(/raw=0x80000(2|3|6|7|a|b|e|f)[0-9a-f]{2}$/);
    expect(out).toContain("phys=0x40000010");
  });

  it("refusals: unknown region (-EINVAL), mt6893's probe", () => {
    expect(run("fmt mtk-iommu soc mt8192 larb 3\n").split("\n")[0]).toBe("err attach -22");
    expect(run("fmt mtk-iommu soc mt6893\n").split("\n")[0]).toBe("err probe");
  });

  it("bad options are bad-args", () => {
    for (const bad of [
      "fmt mtk-iommu soc mt9999",
      "fmt mtk-iommu 4gb yes",
      "fmt mtk-iommu larb 32",
      "fmt mtk-iommu ptbase 1234",
    ])
      expect(run(`${bad}\n`).split("\n")[0]).toBe("err bad-args");
  });
});
