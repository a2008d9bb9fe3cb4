import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type PageTableInspector,
  PhysMem,
  type PteInfo,
} from "@iommu/core";
import type { PtPteInfo } from "@iommu/generic-pt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { ScriptSession } from "./engine.js";
import {
  dartDumpLines,
  formatRange,
  formatSize,
  genericPtDumpLines,
  leafProtOf,
  lpaeDumpLines,
  mappedRanges,
  protLetters,
  v7sDumpLines,
} from "./inspect-text.js";
import { createFakeFamily } from "./testing/fake-family.js";

/** A session on the registry's families, fed `lines`; returns its live table's inspector. */
function inspectorAfter(lines: readonly string[]): PageTableInspector {
  const s = new ScriptSession({ families: createFamilies() });
  for (const l of lines) s.line(l);
  return s.current!.inspector!()!;
}

/** An inspector over fixed entries (visit order as given); walk/stats are not used here. */
function fixedInspector(entries: PteInfo[], topLevel = 2, topEntries = 512): PageTableInspector {
  return {
    geometry: () => ({
      format: "fixed",
      root: 0x1000,
      topLevel,
      levels: topLevel + 1,
      topEntries,
      entryBytes: 8,
      iasBits: 39,
      signExtended: false,
      pgsizeBitmap: 0x1000n,
    }),
    walk: (iova) => ({ iova: BigInt(iova), steps: [], end: "hole", length: 0x1000 }),
    visit: (v) => {
      for (const e of entries) v(e);
    },
    stats: () => {
      throw new Error("unused");
    },
  };
}

const entry = (over: Partial<PteInfo> & Pick<PteInfo, "kind" | "index" | "raw">): PteInfo => ({
  level: 0,
  depth: 1,
  tableAddr: 0x2000,
  entryBytes: 8,
  iova: BigInt(over.index) << 12n,
  itemSize: 0x1000,
  fields: [{ name: "OA", bits: "51:12", value: over.raw & 0x000f_ffff_ffff_f000n }],
  ...over,
});

describe("prot letters", () => {
  it("rwcxmp order, each letter for its flag", () => {
    expect(protLetters(IOMMU_PRIV | IOMMU_MMIO | IOMMU_NOEXEC | IOMMU_CACHE | IOMMU_WRITE | IOMMU_READ)).toBe(
      "rwcxmp",
    );
    expect(protLetters(IOMMU_WRITE | IOMMU_NOEXEC)).toBe("wx");
    expect(protLetters(0)).toBe("");
  });

  it("leafProtOf: the leaf's prot from the inspector's walk; undefined when unmapped", () => {
    const i = inspectorAfter(["fmt arm64-s1", "map 1000 5000 1000 rwx", "map 200000 400000 200000 rc"]);
    expect([leafProtOf(i, 0x1234), leafProtOf(i, 0x2000), leafProtOf(i, 0x3f_ffff)]).toEqual([
      "rwx",
      undefined,
      "rc",
    ]);
  });
});

describe("dump lines", () => {
  it("LPAE: SCRIPT-FORMAT.md §5's lines (table attrs without 47:12, 16-digit raw, IOVAs within ias)", () => {
    const i = inspectorAfter(["fmt arm64-s1", "map 40200000 1200000 200000 rw"]);
    expect(lpaeDumpLines(i)).toEqual([
      "L0 pgd table#0 entries=512",
      "L0 0 table#1 iova=0x0 attrs=0x3",
      "L1 0/1 table#2 iova=0x40000000 attrs=0x3",
      "L2 0/1/1 leaf iova=0x40200000 size=0x200000 raw=0x0000000001200e41",
      "end tables=3 leaves=1",
    ]);
  });

  it("v7s: each copy of a 64K large page marked ` cont`, 8-digit raw", () => {
    const i = inspectorAfter(["fmt v7s", "map 110000 40010000 10000 rw"]);
    const lines = v7sDumpLines(i);
    expect(lines.slice(0, 2)).toEqual([
      "L1 pgd table#0 entries=4096",
      expect.stringMatching(/^L1 1 table#1 iova=0x100000 attrs=0x[0-9a-f]+$/),
    ]);
    expect(lines.filter((l) => l.endsWith(" cont"))).toHaveLength(16);
    expect(lines[2]).toMatch(/^L2 1\/16 leaf iova=0x110000 size=0x1000 raw=0x[0-9a-f]{8} cont$/);
    expect(lines.at(-1)).toBe("end tables=2 leaves=16");
  });

  it("DART: a ttbr line per TTBR, then its tree", () => {
    const i = inspectorAfter(["fmt dart1 pgsize 4k", "map c0001000 2000 1000 r"]);
    expect(dartDumpLines(i)).toEqual([
      "L2 ttbr0 table#0 iova=0x0 entries=512",
      "L2 ttbr1 table#1 iova=0x40000000 entries=512",
      "L2 ttbr2 table#2 iova=0x80000000 entries=512",
      "L2 ttbr3 table#3 iova=0xc0000000 entries=512",
      "L2 3/0 table#4 iova=0xc0000000 attrs=0x1",
      "L1 3/0/1 leaf iova=0xc0001000 size=0x1000 raw=0x000fff0000002083",
      "end tables=5 leaves=1",
    ]);
  });

  it("a table whose memory is absent is listed with ` missing` and not entered", () => {
    const table = entry({ kind: "table", index: 3, raw: 0x7_0000_0003n, depth: 0, level: 1 });
    const i = fixedInspector([{ ...table, nextTable: 0x7_0000_0000, tableMissing: true }], 1);
    expect(genericPtDumpLines(i, false)).toEqual([
      "L1 pgd table#0 entries=512",
      "L1 3 table#1 iova=0x3000 attrs=0x3 missing",
      "end tables=2 leaves=0",
    ]);
    expect(lpaeDumpLines(i)[1]).toBe("L1 3 table#1 iova=0x3000 attrs=0x3 missing");
  });

  it("generic_pt: a contiguous entry of identical copies prints once (`dump all`: every item); otherwise every item", () => {
    const top = entry({ kind: "table", index: 0, raw: 0x5003n, depth: 0, level: 1, iova: 0n });
    const copy = (index: number, raw: bigint): PteInfo =>
      entry({ kind: "leaf", index, raw, leafSize: 0x4000, contigIndex: index % 4, phys: 0x9000n, prot: 3 });
    const same = [0, 1, 2, 3].map((k) => copy(4 + k, 0x9e07n));
    const odd = [0, 1, 2, 3].map((k) => copy(8 + k, k === 2 ? 0x9e47n : 0x9e07n));
    const i = fixedInspector([top, ...same, ...odd], 1);
    const once = genericPtDumpLines(i, false);
    expect(once.filter((l) => l.includes(" leaf "))).toEqual([
      "L0 0/4 leaf iova=0x4000 size=0x1000 raw=0x0000000000009e07 contig=4",
      "L0 0/8 leaf iova=0x8000 size=0x1000 raw=0x0000000000009e07 contig=4",
      "L0 0/9 leaf iova=0x9000 size=0x1000 raw=0x0000000000009e07 contig=4",
      "L0 0/10 leaf iova=0xa000 size=0x1000 raw=0x0000000000009e47 contig=4",
      "L0 0/11 leaf iova=0xb000 size=0x1000 raw=0x0000000000009e07 contig=4",
    ]);
    expect(once[1]).toBe("L1 0 table#1 iova=0x0 attrs=0x3");
    expect(once.at(-1)).toBe("end tables=2 leaves=5");
    expect(genericPtDumpLines(i, true).at(-1)).toBe("end tables=2 leaves=8");
    // A run cut short (its last copy absent) prints every item present.
    const cut = fixedInspector([top, ...same.slice(0, 3)], 1);
    expect(genericPtDumpLines(cut, false).at(-1)).toBe("end tables=2 leaves=3");
  });
});

describe("generic_pt dump from the core contract alone = generic_pt's own dump data", () => {
  it("attrs = PtPteInfo.attrBits, one line per entry (contigIdentical) or per item (`dump all`), on random tables", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("amdv1", "vtdss", "x86_64", "riscv"),
        fc.array(
          fc.tuple(fc.nat(63), fc.constantFrom(12, 13, 14, 16, 21, 30), fc.integer({ min: 1, max: 4 })),
          {
            maxLength: 20,
          },
        ),
        (format, maps) => {
          const lines = [`fmt ${format}`];
          for (const [slot, lg2, n] of maps) {
            const iova = BigInt(slot) << BigInt(lg2);
            lines.push(
              `map_pages ${iova.toString(16)} ${(iova + (1n << 32n)).toString(16)} ${(1n << BigInt(lg2)).toString(16)} ${n} rw`,
            );
          }
          const insp = inspectorAfter(lines);
          const entries: PtPteInfo[] = [];
          insp.visit((e) => void entries.push(e as PtPteInfo));
          const dump = genericPtDumpLines(insp, false);
          const all = genericPtDumpLines(insp, true);
          // Tables: one line each, attrs = the entry without its address field.
          const tables = entries.filter((e) => e.kind === "table");
          expect(dump.filter((l) => / table#\d+ iova=/.test(l)).map((l) => l.split(" attrs=")[1])).toEqual(
            tables.map((e) => `0x${e.attrBits.toString(16)}`),
          );
          // Leaves: dump all = every item; dump = an identical contiguous run once.
          const items = entries.filter((e) => e.kind === "leaf");
          let once = 0;
          for (let k = 0; k < items.length; k++) {
            once++;
            if (items[k]!.contigIdentical) k += items[k]!.leafSize! / items[k]!.itemSize - 1;
          }
          expect(all.at(-1)).toBe(`end tables=${tables.length + 1} leaves=${items.length}`);
          expect(dump.at(-1)).toBe(`end tables=${tables.length + 1} leaves=${once}`);
          expect(dump.filter((l) => l.includes(" contig=")).length).toBeLessThanOrEqual(
            all.filter((l) => l.includes(" contig=")).length,
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("generic_pt contiguous entries in `dump` / `dump all`", () => {
  it("amdv1 64K: one line with contig=16; `dump all`: every item", () => {
    const i = inspectorAfter(["fmt amdv1", "map_pages 40000000 7000000 1000 16 rw"]);
    const once = genericPtDumpLines(i, false).filter((l) => l.includes(" leaf "));
    expect(once).toEqual(["L0 1/0/0 leaf iova=0x40000000 size=0x1000 raw=0x7000000007007e01 contig=16"]);
    const all = genericPtDumpLines(i, true).filter((l) => l.includes(" leaf "));
    expect(all).toHaveLength(16);
    expect(all.every((l) => l.endsWith(" contig=16"))).toBe(true);
  });

  it("riscv Svnapot 64K with one copy changed: every item printed, each contig=16", () => {
    const s = new ScriptSession({ families: createFamilies() });
    for (const l of ["fmt riscv", "map 40000000 80000000 10000 rx"]) s.line(l);
    const t = s.current!;
    const insp = t.inspector!()!;
    expect(genericPtDumpLines(insp, false).filter((l) => l.includes(" leaf "))).toHaveLength(1);
    // Set the D bit of the 8th copy, in the table's memory.
    const leaves: PteInfo[] = [];
    insp.visit((e) => void (e.kind === "leaf" && leaves.push(e)));
    const mem = (t as unknown as { pt: { alloc: { mem: PhysMem } } }).pt.alloc.mem;
    const at = leaves[7]!.tableAddr + 8 * leaves[7]!.index;
    mem.write32(at, mem.read32(at) | 0x80);
    const lines = genericPtDumpLines(insp, false).filter((l) => l.includes(" leaf "));
    expect(lines).toHaveLength(16);
    expect(lines.every((l) => l.endsWith(" contig=16"))).toBe(true);
    expect(genericPtDumpLines(insp, false).at(-1)).toBe("end tables=4 leaves=16");
  });

  it("random bytes as a generic_pt image: `dump` and `dump all` never throw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("amdv1", "vtdss", "x86_64", "riscv"),
        fc.uint8Array({ minLength: 0x2000, maxLength: 0x2000 }),
        (format, bytes) => {
          const family = createFamilies().find((f) => f.formats.includes(format))!;
          const mem = new PhysMem();
          mem.importRange(0x7fff_e000, bytes);
          const r = family.adopt!(
            family.parseFmt(format, [])!,
            { counters: new IommuCounters(), stderr: () => {}, session: new Map() },
            { mem, root: 0x7fff_e000 },
          );
          if (r.kind !== "ok") throw new Error(format);
          const lines = r.table.dump(true);
          expect(lines.at(-1)).toMatch(/^end tables=\d+ leaves=\d+$/);
          expect(r.table.dump(false).length).toBeLessThanOrEqual(lines.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("mappedRanges (iommu dump's range listing)", () => {
  it("merges IOVA- and PA-contiguous leaves with the same prot, from visit() alone", () => {
    const s = new ScriptSession({ families: [createFakeFamily()] });
    for (const l of [
      "fmt fake",
      "map 1000 5000 2000 rw", // two 4K leaves, contiguous → one range
      "map 3000 9000 1000 rw", // IOVA-contiguous, PA not → new range
      "map 200000 400000 400000 rw", // two 2M leaves
      "map 600000 800000 1000 rw", // 4K after the 2M run, PA-contiguous → merged
      "map ffff00000000 0 1000 rw",
    ])
      s.line(l);
    const t = s.current!;
    const before = t.domain.counters.walks;
    const ranges = mappedRanges(t.inspector!()!);
    expect(ranges.map(formatRange)).toEqual([
      "0x1000..0x2fff → 0x5000..0x6fff 8K rw",
      "0x3000..0x3fff → 0x9000..0x9fff 4K rw",
      "0x200000..0x600fff → 0x400000..0x800fff 4100K rw",
      "0xffff00000000..0xffff00000fff → 0x0..0xfff 4K rw",
    ]);
    // Inspection, not lookups: no kernel walk at all.
    expect(t.domain.counters.walks).toBe(before);
  });

  it("clips a range to the window", () => {
    const s = new ScriptSession({ families: [createFakeFamily()] });
    s.line("fmt fake");
    s.line("map 200000 400000 200000 rw");
    expect(mappedRanges(s.current!.inspector!()!, 0x300000, 0x37ffff).map(formatRange)).toEqual([
      "0x300000..0x37ffff → 0x500000..0x57ffff 512K rw",
    ]);
  });

  it("splits runs where the prot changes; upper-half IOVAs of sign-extended tables stay exact", () => {
    const i = inspectorAfter([
      "fmt x86_64",
      "map 1000 5000 1000 rw",
      "map 2000 6000 1000 r",
      "map_pages ffff800000000000 200000 200000 1 rw",
    ]);
    expect(mappedRanges(i).map(formatRange)).toEqual([
      "0x1000..0x1fff → 0x5000..0x5fff 4K rw",
      "0x2000..0x2fff → 0x6000..0x6fff 4K r",
      "0xffff800000000000..0xffff8000001fffff → 0x200000..0x3fffff 2M rw",
    ]);
  });
});

describe("formatSize", () => {
  it("uses the largest exact binary unit", () => {
    expect(formatSize(0x1000)).toBe("4K");
    expect(formatSize(0x3000)).toBe("12K");
    expect(formatSize(0x200000)).toBe("2M");
    expect(formatSize(2 ** 30)).toBe("1G");
    expect(formatSize(2 ** 42)).toBe("4T");
    expect(formatSize(1n << 52n)).toBe("4P");
    expect(formatSize(0x123)).toBe("0x123");
  });
});

it("prot letters for every flag combination (IOMMU_READ…IOMMU_PRIV) keep their order", () => {
  const flags = [IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_MMIO, IOMMU_PRIV];
  for (let m = 0; m < 64; m++) {
    const prot = flags.reduce((p, f, k) => (m & (1 << k) ? p | f : p), 0);
    expect(protLetters(prot)).toBe(
      "rwcxmp"
        .split("")
        .filter((_, k) => m & (1 << k))
        .join(""),
    );
  }
});
