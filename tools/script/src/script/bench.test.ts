import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { runScript } from "./engine.js";

describe("bench commands on a real arm64-s1 table", () => {
  it("bench-map / bench-walk / bench-unmap: identity, no failures", () => {
    const out = runScript("fmt arm64-s1\nbench-map 4096\nbench-walk 4096\nbench-unmap 4096\nstats\n", {
      families: createFamilies(),
    }).split("\n");
    expect(out[1]).toMatch(/^bench-map n=4096 pgsize=0x1000 total_ms=\d+\.\d{3} ns\/op=\d+\.\d$/);
    expect(out[2]).toMatch(
      /^bench-walk n=4096 stride=0x1000 span=0x1000000 total_ms=\S+ ns\/op=\S+ not_identity=0$/,
    );
    expect(out[3]).toMatch(/^bench-unmap n=4096 pgsize=0x1000 total_ms=\S+ ns\/op=\S+ failed=0$/);
    expect(out[4]).toContain("tlb_add_page=4096");
  });

  it("bench-1g prints a Markdown table with every phase clean, and leaves no table", () => {
    const out = runScript("fmt arm64-s1\nbench-1g 1\nphys 0\n", { families: createFamilies() }).split("\n");
    expect(out[1]).toMatch(/^bench-1g: arm64-s1 4K ias=48 oas=48, 1 GiB identity at 0x40000000, median of 1/);
    expect(out[3]).toBe("| operation | ops | total ms | ns/op | failed |");
    const rows = out.slice(5, 13);
    expect(rows).toHaveLength(8);
    for (const r of rows) expect(r).toMatch(/^\| [^|]+ \| (262144|512) \| \d+\.\d{3} \| \d+\.\d \| 0 \|$/);
    expect(out[13]).toBe("err no-fmt");
  }, 60_000);
});
