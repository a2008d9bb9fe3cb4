/**
 * Model-only inspection (core's PageTableInspector; kernel nearest pt_attr_from_entry() and
 * the harness's walk/dump) of generic_pt tables: per-format fields and prot, walks that
 * end at a leaf, a hole, out of range or at a missing table, visit order and filtering,
 * contiguous items, statistics, and images of random bytes that must never throw.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  iommuDomainInspector,
  iommuIovaToPhys,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain, type PtDomain } from "./domain.js";
import { PT_FORMAT_NAMES, PT_FORMATS, type PtFormatName } from "./formats/index.js";
import { ptIommuInit } from "./init.js";
import { PtInspector, type PtPteInfo } from "./inspector.js";
import type { PtTable } from "./pt-table.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function map(d: PtDomain, iova: number | bigint, pa: number, size: number, prot = RW): void {
  const m = new SizeOut();
  expect(d.ops.mapPages(d, iova, pa, size, 1, prot, 0, m)).toBe(0);
}

/** Prot flags as the script language's letters, `rwcxmp` order. */
function letters(prot: number): string {
  const order: Array<[number, string]> = [
    [IOMMU_READ, "r"],
    [IOMMU_WRITE, "w"],
    [IOMMU_CACHE, "c"],
    [IOMMU_NOEXEC, "x"],
    [IOMMU_MMIO, "m"],
    [IOMMU_PRIV, "p"],
  ];
  return order.map(([b, c]) => (prot & b ? c : "")).join("");
}

/** The letters the script family computed from a leaf's raw bits before the inspector existed. */
function legacyLetters(format: PtFormatName, raw: bigint): string {
  const b = (n: number) => (raw >> BigInt(n)) & 1n;
  switch (format) {
    case "amdv1":
    case "amdv1_mock":
      return `${b(61) ? "r" : ""}${b(62) ? "w" : ""}`;
    case "vtdss":
      return `${b(0) ? "r" : ""}${b(1) ? "w" : ""}`;
    case "x86_64":
      return `r${b(1) ? "w" : ""}`;
    default:
      return `${b(1) ? "r" : ""}${b(2) ? "w" : ""}${b(3) ? "" : "x"}`;
  }
}

function visitAll(pt: PtTable): PtPteInfo[] {
  const out: PtPteInfo[] = [];
  new PtInspector(pt).visit((e) => {
    out.push(e);
  });
  return out;
}

const FIELD_NAMES: Record<PtFormatName, string[]> = {
  amdv1: ["IW", "IR", "FC", "U", "OA", "NextLevel", "D", "A", "PR"],
  amdv1_mock: ["IW", "IR", "FC", "U", "OA", "NextLevel", "D", "A", "PR"],
  vtdss: ["OA", "SNP", "D", "A", "W", "R"],
  x86_64: ["NX", "OA", "G", "PAT", "D", "A", "PCD", "PWT", "US", "RW", "P"],
  riscv: ["N", "PBMT", "OA", "RSW", "D", "A", "G", "U", "X", "W", "R", "V"],
};

describe.each(PT_FORMAT_NAMES)("%s inspector", (format) => {
  it("decodes a 4K leaf: fields in bit order, OA = phys, prot as the script family's letters", () => {
    const d = createPtDomain(format);
    map(d, 0x4000_0000, 0x1234_5000, 0x1000, IOMMU_READ);
    map(d, 0x4000_1000, 0x1234_6000, 0x1000, RW);
    const walkR = new PtInspector(d.pt).walk(0x4000_0abc);
    const leaf = walkR.steps.at(-1)!;
    expect(leaf.kind).toBe("leaf");
    expect(leaf.fields.map((f) => f.name)).toEqual(FIELD_NAMES[format]);
    expect(leaf.fields.find((f) => f.name === "OA")!.value).toBe(0x1234_5000n);
    // The item holding 0x…abc: the 4K leaf itself, or amdv1_mock's second 2K item of it.
    const g = BigInt(d.pt.gSize);
    expect(leaf.phys).toBe(0x1234_5000n + (((0xabcn / g) * g) % 0x1000n));
    expect(letters(leaf.prot!)).toBe(legacyLetters(format, leaf.raw));
    expect(letters(leaf.prot!)).toBe("r");
    const rw = new PtInspector(d.pt).walk(0x4000_1000).steps.at(-1)!;
    expect(letters(rw.prot!)).toBe("rw");
    // Bits are named once, from the top.
    const tops = leaf.fields.map((f) => Number(f.bits.split(":")[0]));
    expect([...tops].sort((a, b) => b - a)).toEqual(tops);
    // Table entries: the address field is the next table, attrBits the entry without it.
    for (const s of walkR.steps.slice(0, -1)) {
      expect(s.kind).toBe("table");
      expect(s.fields.find((f) => f.name === "OA")!.value).toBe(BigInt(s.nextTable!));
      expect(s.tableMissing).toBe(false);
    }
  });

  it("walks: leaf (exact phys, unit length), hole (item size), out of range", () => {
    const d = createPtDomain(format);
    const ins = new PtInspector(d.pt);
    const top = d.pt.topLevel;
    map(d, 0x4000_0000, 0x8000_0000, 0x20_0000);
    const w = ins.walk(0x4001_2345);
    expect(w.end).toBe("leaf");
    expect(w.phys).toBe(0x8001_2345n);
    expect(w.length).toBe(0x20_0000);
    expect(w.steps.map((s) => [s.level, s.depth])).toEqual(
      Array.from({ length: top }, (_, k) => [top - k, k]),
    );
    expect(w.steps.at(-1)!.iova).toBe(0x4000_0000n);
    const hole = ins.walk(0x4020_0000);
    expect(hole.end).toBe("hole");
    expect(hole.length).toBe(2 ** (d.pt.gLg2 + 9)); // a level-1 item: 2M (amdv1_mock 1M)
    expect(hole.steps.at(-1)!.kind).toBe("invalid");
    // Above the current top range (amdv1 would grow its top to map there).
    expect(ins.walk(2n ** 62n).end).toBe("out-of-range");
    expect(ins.walk(2n ** 62n).steps).toEqual([]);
    // The walk counts nothing and leaves the table's own walk untouched.
    const before = d.counters.snapshot();
    ins.walk(0x4001_2345);
    ins.stats();
    expect(d.counters.snapshot()).toEqual(before);
  });

  it("a table missing from memory: walk ends missing-table, visit/stats report it, nothing throws", () => {
    const d = createPtDomain(format);
    map(d, 0x4000_0000, 0x8000_0000, 0x1000);
    const steps = new PtInspector(d.pt).walk(0x4000_0000).steps;
    const last = steps.at(-2)!;
    d.pt.alloc.mem.removeRange(last.nextTable!, 0x1000);
    const w = new PtInspector(d.pt).walk(0x4000_0000);
    expect(w.end).toBe("missing-table");
    expect(w.steps.at(-1)!.tableMissing).toBe(true);
    expect(new PtInspector(d.pt).stats().missingTables).toBe(1);
    const seen: PtPteInfo[] = [];
    expect(() => new PtInspector(d.pt).visit((e) => void seen.push(e))).not.toThrow();
    expect(seen.filter((e) => e.tableMissing).map((e) => e.nextTable)).toEqual([last.nextTable]);
    expect(d.pt.walkSteps(0x4000_0000)!.at(-1)!.kind).toBe("table");
  });

  it("visits in depth-first pre-order, filters by [from, to], skips a subtree on false", () => {
    const d = createPtDomain(format);
    map(d, 0x4000_0000, 0x1000_0000, 0x1000);
    map(d, 0x4000_3000, 0x1000_3000, 0x1000);
    map(d, 0x8000_0000, 0x2000_0000, 0x20_0000);
    map(d, 0x1_0000_0000, 0x3000_0000, 0x1000);
    const all = visitAll(d.pt);
    for (let i = 1; i < all.length; i++) {
      const [p, e] = [all[i - 1]!, all[i]!];
      if (e.depth > p.depth) {
        expect(e.depth).toBe(p.depth + 1);
        expect(p.kind).toBe("table");
        expect(e.tableAddr).toBe(p.nextTable);
      } else expect(e.iova > p.iova).toBe(true);
      expect(e.path.length).toBe(e.depth + 1);
    }
    // One item per leaf, but amdv1_mock's 4K and 2M leaves are two items (2K, 1M) each.
    const g = d.pt.gSize;
    const items = (va: bigint, len: number, isz: number) =>
      Array.from({ length: len / isz }, (_, k) => va + BigInt(k * isz));
    expect(all.filter((e) => e.kind === "leaf").map((e) => e.iova)).toEqual([
      ...items(0x4000_0000n, 0x1000, g),
      ...items(0x4000_3000n, 0x1000, g),
      ...items(0x8000_0000n, 0x20_0000, Math.min(512 * g, 0x20_0000)),
      ...items(0x1_0000_0000n, 0x1000, g),
    ]);
    const some: PtPteInfo[] = [];
    new PtInspector(d.pt).visit((e) => void some.push(e), { from: 0x4000_2000, to: 0x4000_3fff });
    expect(some.filter((e) => e.kind === "leaf").map((e) => e.iova)).toEqual(items(0x4000_3000n, 0x1000, g));
    expect(some.every((e) => e.kind === "leaf" || e.kind === "table")).toBe(true);
    const tops: PtPteInfo[] = [];
    new PtInspector(d.pt).visit((e) => {
      tops.push(e);
      return false;
    });
    expect(tops.every((e) => e.depth === 0)).toBe(true);
    // stats agree with the allocator and the maps.
    const st = new PtInspector(d.pt).stats();
    expect(st.tables).toBe(d.pt.alloc.liveCount);
    expect(st.mappedBytes).toBe(0x20_2000n + 0x1000n);
    expect(st.leavesBySize.get(0x1000)).toBe(3);
    expect(st.leavesBySize.get(0x20_0000)).toBe(1);
  });

  it("is the domain's inspect op; none after free", () => {
    const d = createPtDomain(format);
    const ins = iommuDomainInspector(d)!;
    expect(ins.geometry()).toMatchObject({
      format,
      root: d.pt.topPa,
      topLevel: d.pt.topLevel,
      levels: d.pt.topLevel + 1,
      topEntries: d.pt.topEntries,
      entryBytes: 8,
      signExtended: d.pt.signExtend,
      pgsizeBitmap: BigInt(d.pgsizeBitmap),
    });
    d.ops.free!(d);
    expect(iommuDomainInspector(d)).toBeNull();
  });

  it("random-byte images never throw, and leaf prot always matches the legacy letters", () => {
    const fmt = PT_FORMATS[format];
    let seed = 0x1234 + format.length;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const keepLo = fmt.attrKeepLo >>> 0;
    const keepHi = fmt.attrKeepHi >>> 0;
    let leaves = 0;
    for (let image = 0; image < 4; image++) {
      const pages = 16;
      const bytes = new Uint8Array(pages * 4096);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < bytes.length / 8; i++) {
        const r = rnd() % 100;
        if (r < 80) continue;
        let lo = rnd();
        let hi = rnd();
        if (r < 82) {
          // A pointer back into the image (a table, if the format reads it as one).
          const pfn = rnd() % pages;
          const shift = fmt.layout.oaShift;
          lo = ((lo & keepLo) | fmt.layout.tableLo | (pfn << shift)) >>> 0;
          hi = (hi & keepHi) >>> 0;
        }
        dv.setUint32(8 * i, lo, true);
        dv.setUint32(8 * i + 4, hi, true);
      }
      const mem = new PhysMem();
      mem.importRange(0, bytes);
      const counters = new IommuCounters();
      const d = fmt.defaults;
      const pt = ptIommuInit(
        fmt,
        { features: d.features, vaBits: d.vaBits, oaBits: d.oaBits, level: d.level },
        new TableAllocator(mem, { counters }),
        counters,
        {},
        0,
      );
      if (typeof pt === "number") throw new Error(`adopt failed ${pt}`);
      const ins = new PtInspector(pt);
      const wrong: string[] = [];
      expect(() => {
        ins.geometry();
        ins.visit((e) => {
          if (e.kind !== "leaf") return;
          leaves++;
          const want = legacyLetters(format, e.raw);
          if (letters(e.prot!) !== want) wrong.push(`${e.raw.toString(16)}: ${letters(e.prot!)} != ${want}`);
        });
        ins.stats();
        for (let k = 0; k < 200; k++) {
          const iova = (BigInt(rnd()) << 32n) | BigInt(rnd());
          ins.walk(iova);
          ins.walk(iova & 0xffff_ffffn);
          pt.walkSteps(iova & 0xff_ffff_ffffn);
        }
      }).not.toThrow();
      expect(wrong).toEqual([]);
    }
    expect(leaves).toBeGreaterThan(0);
  });
});

describe("contiguous entries", () => {
  it("amdv1 64K (16 items): leafSize per item, contigIndex, one identical run; iova_to_phys_length agrees", () => {
    const d = createPtDomain("amdv1");
    const m = new SizeOut();
    expect(d.ops.mapPages(d, 0x4000_0000, 0x700_0000, 0x1000, 16, RW, 0, m)).toBe(0);
    const leaves = visitAll(d.pt).filter((e) => e.kind === "leaf");
    expect(leaves.map((e) => e.contigIndex)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(leaves.every((e) => e.leafSize === 0x10000 && e.itemSize === 0x1000)).toBe(true);
    expect(leaves.map((e) => e.phys)).toEqual(leaves.map((_, i) => 0x700_0000n + BigInt(i) * 0x1000n));
    expect(leaves[0]!.contigIdentical).toBe(true);
    expect(leaves[1]!.contigIdentical).toBeUndefined();
    const w = new PtInspector(d.pt).walk(0x4000_5abc);
    expect([w.phys, w.length, w.steps.at(-1)!.contigIndex]).toEqual([0x700_5abcn, 0x10000, 5]);
    const st = new PtInspector(d.pt).stats();
    expect([st.leafItems, st.leavesBySize.get(0x10000)]).toEqual([16, 1]);
    // `dump` prints the run once (its first item alone is contigIdentical), `dump all` every item:
    // the text is tools/script's inspect-text.ts (genericPtDumpLines), tested there.
    expect(leaves.filter((e) => e.contigIdentical).length).toBe(1);
  });

  it("riscv Svnapot 64K: N set, 16 items of one 64K unit; a changed copy is no longer identical", () => {
    const d = createPtDomain("riscv");
    map(d, 0x4000_0000, 0x8000_0000, 0x10000, IOMMU_READ | IOMMU_NOEXEC);
    const leaves = visitAll(d.pt).filter((e) => e.kind === "leaf");
    expect(leaves.length).toBe(16);
    expect(leaves[3]!.fields.find((f) => f.name === "N")!.value).toBe(1);
    expect(leaves[3]!.fields.find((f) => f.name === "OA")!.value).toBe(0x8000_0000n);
    expect(letters(leaves[3]!.prot!)).toBe("rx");
    expect([leaves[3]!.leafSize, leaves[3]!.contigIndex, leaves[3]!.phys]).toEqual([
      0x10000,
      3,
      0x8000_3000n,
    ]);
    expect(leaves[0]!.contigIdentical).toBe(true);
    // Damage one copy (its D bit): still a 16-item entry, but dump now prints every item.
    const leaf = leaves[7]!;
    const w = (leaf.tableAddr + 8 * leaf.index) / 4;
    const c = d.pt.alloc.mem.chunk(leaf.tableAddr)!;
    c.words[w - c.pa / 4] = (c.words[w - c.pa / 4]! | 0x80) >>> 0;
    expect(visitAll(d.pt).find((e) => e.kind === "leaf")!.contigIdentical).toBe(false);
    // Every item is still one of 16 (contig=16), and none stands for the run any more.
    const after = visitAll(d.pt).filter((e) => e.kind === "leaf");
    expect(after.map((e) => e.leafSize! / e.itemSize)).toEqual(Array(16).fill(16));
    expect(after.some((e) => e.contigIdentical)).toBe(false);
  });
});

describe("x86_64 sign extension", () => {
  it("upper-half items are canonical; the aliasing non-canonical iova walks index 255 like the lookup", () => {
    const d = createPtDomain("x86_64");
    map(d, 0xffff_ffff_ffe0_0000n, 0x4000_0000, 0x20_0000);
    const leaf = visitAll(d.pt).find((e) => e.kind === "leaf")!;
    expect(leaf.iova).toBe(0xffff_ffff_ffe0_0000n);
    expect(leaf.path).toEqual([511, 511, 511]);
    const ins = new PtInspector(d.pt);
    expect(ins.walk(0xffff_ffff_ffe1_2345n).phys).toBe(0x4001_2345n);
    expect(ins.walk(0x0000_8000_0000_0000n).end).toBe("out-of-range");
    expect(iommuIovaToPhys(d, 0x0000_8000_0000_0000)).toBe(0); // non-canonical: unmapped
    const alias = ins.walk(0xffff_7fff_ffff_f000n);
    expect(alias.end).toBe("hole");
    expect(alias.steps[0]!.index).toBe(255);
  });
});
