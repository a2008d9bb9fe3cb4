/**
 * VT-d debugfs dumps in: tables built by the model are printed the way the kernel's
 * debugfs.c prints them (both row layouts), parsed back into memory, and dumped; the listing
 * must equal the live table's own dump. Then what a damaged or foreign text gets.
 */
import { iommuDomainInspector } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { ScriptSession } from "../script/engine.js";
import { vtdDebugfsText } from "../testing/vtd-debugfs-writer.js";
import { dumpImage } from "./image-dump.js";
import { parseVtdDebugfs } from "./vtd-debugfs.js";

function live(script: string[]) {
  const s = new ScriptSession({ families: createFamilies() });
  for (const l of script) s.line(l);
  const dump = s.line("dump");
  const t = s.current!;
  return { dump, insp: t.inspector?.() ?? iommuDomainInspector(t.domain)! };
}

describe("iommu dump --from-debugfs: VT-d domain_translation_struct", () => {
  const tables: Array<[string, number]> = [
    ["3-level", 39],
    ["4-level", 48],
    ["5-level", 57],
  ];
  for (const [name, vaBits] of tables)
    for (const layout of ["current", "old"] as const)
      it(`${name} vtdss, ${layout} row layout: the rebuilt table dumps like the live one`, () => {
        const { dump, insp } = live([
          `fmt vtdss va_bits ${vaBits}`,
          "map 0 100000000 1000 rw", // a 4 KiB page
          "map 200000 400000 200000 r", // a 2 MiB leaf
          "map 40000000 80000000 40000000 rw", // a 1 GiB leaf
          "map c0000000 13000 3000 w", // three 4 KiB pages in another table
        ]);
        const text = vtdDebugfsText(insp, { device: "0000:00:02.0", layout });
        const r = parseVtdDebugfs(text);
        if (!r.ok) throw new Error(r.error);
        expect(r.domains).toHaveLength(1);
        const d = r.domains[0]!;
        expect([d.device, d.root, d.levels, d.leaves]).toEqual([
          "0000:00:02.0",
          insp.geometry().root,
          vaBits === 39 ? 3 : vaBits === 48 ? 4 : 5,
          6,
        ]);
        const out = dumpImage({
          format: "vtdss",
          fmtArgs: ["va_bits", String(vaBits)],
          root: d.root,
          mem: d.mem,
          families: createFamilies(),
        });
        if (!out.ok) throw new Error(out.error);
        expect(out.missing).toBe(0);
        expect(out.lines.slice(1, 1 + dump.length)).toEqual(dump);
        expect(out.lines).toContain("mapped ranges=4");
      });

  it("several device blocks (and PASIDs) in one file, the unit-disabled line skipped", () => {
    const a = live(["fmt vtdss", "map 0 100000000 2000 rw"]).insp;
    const b = live(["fmt vtdss", "map 200000 400000 200000 rw"]).insp;
    const text =
      "DMA Remapping is not enabled on dmar1\n" +
      vtdDebugfsText(a, { device: "0000:00:02.0", layout: "current" }) +
      vtdDebugfsText(b, { device: "0000:03:00.1", pasid: 0x1f, layout: "current" });
    const r = parseVtdDebugfs(text);
    if (!r.ok) throw new Error(r.error);
    expect(r.domains.map((d) => [d.device, d.pasid, d.leaves])).toEqual([
      ["0000:00:02.0", undefined, 2],
      ["0000:03:00.1", 0x1f, 1],
    ]);
  });

  it("says what is wrong with a text it cannot rebuild a table from", () => {
    const header = "Device 0000:00:02.0 @0x80000000\n";
    const row = (cols: string[]) => `0x0000000000000 |${cols.map((c) => `\t${c}`).join("")}\n`;
    const z = "0x0000000000000000";
    expect(parseVtdDebugfs("hello\n")).toEqual({
      ok: false,
      error: "line 1: not a domain_translation_struct line: hello",
    });
    expect(parseVtdDebugfs("")).toEqual({
      ok: false,
      error: 'no "Device … @0x…" header: not a VT-d domain_translation_struct dump',
    });
    expect(parseVtdDebugfs(row([z, "0x0000000080001003", z]))).toEqual({
      ok: false,
      error: 'line 1: a row before any "Device …" header',
    });
    // A table entry with neither R nor W is not something the walker prints.
    expect(
      parseVtdDebugfs(
        header +
          row([z, "0x0000000080001000", "0x0000000080002003", "0x0000000080003003", "0x0000000000001003"]),
      ),
    ).toEqual({
      ok: false,
      error: "line 2: the level-4 entry 0x80001000 is not present (R|W clear)",
    });
    // Two rows that disagree about the same entry.
    const r1 = row([
      z,
      "0x0000000080001003",
      "0x0000000080002003",
      "0x0000000080003003",
      "0x0000000000001003",
    ]);
    const r2 = row([
      z,
      "0x0000000080005003",
      "0x0000000080002003",
      "0x0000000080003003",
      "0x0000000000002003",
    ]);
    expect(parseVtdDebugfs(header + r1 + r2)).toEqual({
      ok: false,
      error: "line 3: the entry at 0x80000000 is 0x80001003 on an earlier row, 0x80005003 here",
    });
    expect(parseVtdDebugfs("Device 0000:00:02.0 @0x80000800\n")).toEqual({
      ok: false,
      error: "line 1: root 0x80000800 is not 4 KiB aligned",
    });
  });
});
