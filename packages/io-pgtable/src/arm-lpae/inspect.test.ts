import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  iommuDomainInspector,
  PhysLength,
  PhysMem,
  type PteInfo,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import {
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import {
  fieldsMatchRaw,
  legacyLpaeDumpEntries,
  legacyLpaeLeafProt,
  legacyLpaeWalk,
  lettersOf,
  lpaeVisitEntries,
  lpaeWalkOf,
  protLetters,
  walkLeafProt,
} from "../testing/inspect-format.js";
import { alloc, type CfgInput, type Harness } from "../testing/lpae-harness.js";
import type { ArmLpaeIoPgtable } from "./pgtable.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const C = IOMMU_CACHE;
const X = IOMMU_NOEXEC;
const M = IOMMU_MMIO;
const P = IOMMU_PRIV;
const K4 = 0x1000;
const M2 = 0x20_0000;
const G1 = 0x4000_0000;
const S1 = IoPgtableFmt.ARM_64_LPAE_S1;

function map(h: Harness, iova: number | bigint, pa: number | bigint, size: number, prot = R | W, count = 1) {
  const ret = h.ops.mapPages(iova, pa, size, count, prot, 0, new SizeOut());
  expect(ret).toBe(0);
}

const insp = (h: Harness) => h.ops.inspect!();

function fieldsByName(e: PteInfo): Record<string, number | bigint> {
  return Object.fromEntries(e.fields.map((f) => [f.name, f.value]));
}

/** Every format the prot tests cover, with the cfg they use. */
const FORMATS: ReadonlyArray<readonly [IoPgtableFmt, CfgInput]> = [
  [IoPgtableFmt.ARM_64_LPAE_S1, {}],
  [IoPgtableFmt.ARM_32_LPAE_S1, { ias: 32, oas: 40 }],
  [IoPgtableFmt.ARM_64_LPAE_S2, {}],
  [IoPgtableFmt.ARM_32_LPAE_S2, { ias: 40, oas: 40 }],
  [IoPgtableFmt.ARM_MALI_LPAE, { oas: 40 }],
  [IoPgtableFmt.ARM_64_LPAE_S1, { quirks: IO_PGTABLE_QUIRK_ARM_HD }],
  [IoPgtableFmt.ARM_64_LPAE_S1, { quirks: IO_PGTABLE_QUIRK_ARM_NS }],
  [IoPgtableFmt.ARM_64_LPAE_S2, { quirks: IO_PGTABLE_QUIRK_ARM_S2FWB }],
];

describe("prot and fields: every prot combination, every format, page and block", () => {
  for (const [fmt, input] of FORMATS) {
    it(`fmt ${fmt} quirks 0x${(input.quirks ?? 0).toString(16)}: prot = the engine's leafProt, fields = raw bits`, () => {
      const h = alloc(fmt, input);
      let iova = 0;
      for (let prot = 0; prot < 64; prot++) {
        if (!(prot & (R | W))) continue;
        for (const size of [K4, M2]) {
          iova += 4 * M2; // below 2^32 for the 32-bit formats
          map(h, iova, 0x1234_5000 & ~(size - 1), size, prot);
          const w = insp(h).walk(iova + 0x123);
          expect(w.end).toBe("leaf");
          const leaf = w.steps.at(-1)!;
          expect(protLetters(leaf.prot!), `prot 0x${prot.toString(16)}`).toBe(
            legacyLpaeLeafProt(h.ops, h.iop, iova),
          );
          for (const s of w.steps) expect(fieldsMatchRaw(s)).toBe(true);
          expect(fieldsByName(leaf).OA).toBe(BigInt(0x1234_5000 & ~(size - 1)));
        }
      }
    });
  }

  it("stage 1: AP, SH, AttrIndx, nG, AF and the prot they give", () => {
    const h = alloc(S1);
    const leafOf = (prot: number, iova: number) => {
      map(h, iova, 0x1234_5000, K4, prot);
      return insp(h).walk(iova).steps.at(-1)!;
    };
    const rw = leafOf(R | W, 0x1000);
    expect(fieldsByName(rw)).toMatchObject({
      AP: 1,
      SH: 2,
      AttrIndx: 0,
      nG: 1,
      AF: 1,
      type: 1,
      valid: 1,
      XN: 0,
    });
    expect(protLetters(rw.prot!)).toBe("rw");
    expect(protLetters(leafOf(R, 0x2000).prot!)).toBe("r");
    expect(fieldsByName(leafOf(R, 0x3000)).AP).toBe(3);
    // A write-only mapping is readable at stage 1 (no AP value says "write only").
    expect(protLetters(leafOf(W, 0x4000).prot!)).toBe("rw");
    const c = leafOf(R | W | C, 0x5000);
    expect(fieldsByName(c)).toMatchObject({ SH: 3, AttrIndx: 1 });
    expect(protLetters(c.prot!)).toBe("rwc");
    expect(protLetters(leafOf(R | W | M | C, 0x6000).prot!)).toBe("rwm");
    const x = leafOf(R | W | X | P, 0x7000);
    expect(fieldsByName(x)).toMatchObject({ XN: 1, PXN: 1, AP: 0 });
    expect(protLetters(x.prot!)).toBe("rwxp");
  });

  it("stage 1 with ARM_HD: DBM on writable leaves; a write-clean leaf (AP_RDONLY + DBM) stays writable", () => {
    const h = alloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_HD });
    map(h, 0, 0x5000, K4, R | W);
    map(h, K4, 0x6000, K4, R);
    const [rw, ro] = [insp(h).walk(0).steps.at(-1)!, insp(h).walk(K4).steps.at(-1)!];
    expect([fieldsByName(rw).DBM, fieldsByName(ro).DBM]).toEqual([1, 0]);
    // read_and_clear_dirty cleans the leaf: AP_RDONLY set again, DBM kept.
    h.ops.readAndClearDirty!(0, K4, 0, { record: () => {} });
    const clean = insp(h).walk(0).steps.at(-1)!;
    expect(fieldsByName(clean)).toMatchObject({ DBM: 1, AP: 3 });
    expect(protLetters(clean.prot!)).toBe("rw");
    expect(protLetters(ro.prot!)).toBe("r");
  });

  it("stage 2: S2AP, MemAttr (S2FWB cacheable is 0b0110), XN over both bits, no nG", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S2);
    map(h, 0, 0x5000, K4, R | C);
    const e = insp(h).walk(0).steps.at(-1)!;
    expect(fieldsByName(e)).toMatchObject({ S2AP: 1, MemAttr: 0xf, SH: 3, AF: 1 });
    expect(fieldsByName(e).nG).toBeUndefined();
    expect(protLetters(e.prot!)).toBe("rc");
    map(h, K4, 0x5000, K4, W | X | M);
    const m = insp(h).walk(K4).steps.at(-1)!;
    expect(fieldsByName(m)).toMatchObject({ S2AP: 2, MemAttr: 1, XN: 3 });
    expect(protLetters(m.prot!)).toBe("wxm");
    const f = alloc(IoPgtableFmt.ARM_64_LPAE_S2, { quirks: IO_PGTABLE_QUIRK_ARM_S2FWB });
    map(f, 0, 0x5000, K4, R | W | C);
    expect(fieldsByName(insp(f).walk(0).steps.at(-1)!).MemAttr).toBe(6);
    expect(protLetters(insp(f).walk(0).steps.at(-1)!.prot!)).toBe("rwc");
  });

  it("Mali: type 1 at level 3, S2-style permissions, no AF, no PRIV", () => {
    const h = alloc(IoPgtableFmt.ARM_MALI_LPAE, { oas: 40 });
    map(h, 0, 0x5000, K4, R | W | C | P);
    const e = insp(h).walk(0).steps.at(-1)!;
    expect([e.level, e.kind, fieldsByName(e).type, fieldsByName(e).S2AP]).toEqual([3, "leaf", 0, 3]);
    expect(protLetters(e.prot!)).toBe("rwc");
  });

  it("table descriptors: NSTable under ARM_NS, SW_SYNC on a non-coherent walker", () => {
    const ns = alloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_NS });
    map(ns, 0, 0x5000, K4);
    const steps = insp(ns).walk(0).steps;
    for (const t of steps.slice(0, 3))
      expect(fieldsByName(t)).toMatchObject({ NSTable: 1, type: 1, valid: 1 });
    expect(fieldsByName(steps[3]!).NS).toBe(1);
    const nc = alloc(S1, { coherentWalk: false });
    map(nc, 0, 0x5000, K4);
    expect(fieldsByName(insp(nc).walk(0).steps[0]!).SW_SYNC).toBe(1);
  });
});

describe("walk", () => {
  it("mapped: every level from the start level, the leaf's phys (ORed offset) and size", () => {
    const h = alloc(S1);
    map(h, 0x4020_0000, 0x1_0000_0000, M2);
    const w = insp(h).walk(0x4020_1234);
    expect(w.end).toBe("leaf");
    expect(w.steps.map((s) => [s.level, s.depth, s.kind])).toEqual([
      [0, 0, "table"],
      [1, 1, "table"],
      [2, 2, "leaf"],
    ]);
    expect([w.phys, w.length]).toEqual([0x1_0000_1234n, M2]);
    expect(w.steps[0]!.tableAddr).toBe(h.iop.pgdPa);
    expect(w.steps[1]!.tableAddr).toBe(w.steps[0]!.nextTable);
    expect(w.steps.map((s) => s.iova)).toEqual([0n, 0x4000_0000n, 0x4020_0000n]);
    expect(w.steps[2]).toMatchObject({
      index: 1,
      itemSize: M2,
      leafSize: M2,
      phys: 0x1_0000_0000n,
      entryBytes: 8,
    });
  });

  it("hole: stops at the empty entry with its span as the length; out of range: no steps", () => {
    const h = alloc(S1);
    expect(insp(h).walk(0)).toMatchObject({ end: "hole", length: 2 ** 39 });
    map(h, 0, 0x5000, K4);
    expect(insp(h).walk(K4)).toMatchObject({ end: "hole", length: K4 });
    expect(insp(h).walk(K4).steps.length).toBe(4);
    expect(insp(h).walk(M2)).toMatchObject({ end: "hole", length: M2 });
    expect(insp(h).walk(2 ** 48)).toEqual({ iova: 2n ** 48n, steps: [], end: "out-of-range" });
    expect(insp(h).walk((1n << 64n) - 1n).end).toBe("out-of-range");
  });

  it("missing table: a table descriptor pointing at absent memory ends the walk, with tableMissing", () => {
    const h = alloc(S1);
    map(h, 0, 0x5000, K4);
    // Point the level-0 entry at memory that does not exist.
    h.iop.mem.write64(h.iop.pgdPa, 0x7_0000_0000n | 3n);
    h.iop.invalidateCache();
    const w = insp(h).walk(0);
    expect(w.end).toBe("missing-table");
    expect(w.steps).toHaveLength(1);
    expect(w.steps[0]).toMatchObject({ kind: "table", nextTable: 0x7_0000_0000, tableMissing: true });
    const seen: PteInfo[] = [];
    insp(h).visit((e) => seen.push(e));
    expect(seen).toHaveLength(1);
    expect(insp(h).stats().missingTables).toBe(1);
  });

  it("TTBR1: upper-half IOVAs, sign-extended item IOVAs; the lower half is out of range", () => {
    const h = alloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_TTBR1 });
    const top = (1n << 64n) - (1n << 48n);
    map(h, top + 0x20_0000n, 0x8000_0000, M2);
    const g = insp(h).geometry();
    expect([g.signExtended, g.iasBits]).toEqual([true, 48]);
    const w = insp(h).walk(top + 0x20_1234n);
    expect([w.end, w.phys, w.length]).toEqual(["leaf", 0x8000_1234n, M2]);
    expect(w.steps.map((s) => s.iova)).toEqual([top, top, top + 0x20_0000n]);
    expect(insp(h).walk(0x20_1234).end).toBe("out-of-range");
    const seen: bigint[] = [];
    insp(h).visit((e) => {
      seen.push(e.iova);
    });
    expect(seen).toEqual([top, top, top + 0x20_0000n]);
  });

  it("concatenated stage-2 pgd: 1024 entries at level 1, the upper half's index ≥ 512", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S2, { ias: 40, oas: 40 });
    expect(insp(h).geometry()).toMatchObject({ topLevel: 1, levels: 3, topEntries: 1024 });
    map(h, 2 ** 39 + G1, 0x4000_0000, G1);
    const w = insp(h).walk(2 ** 39 + G1 + 5);
    expect(w.steps).toHaveLength(1);
    expect(w.steps[0]).toMatchObject({ level: 1, index: 513, kind: "leaf", itemSize: G1 });
    expect(w.phys).toBe(0x4000_0005n);
  });

  it("52-bit output addresses: 64K granule, PA bits 51:48 decoded into OA and phys", () => {
    const h = alloc(S1, { pgsizeBitmap: 0x2001_0000 + 2 ** 42, ias: 52, oas: 52 });
    const pa = 0xa_bcde_f012_0000;
    map(h, 0x10000, pa, 0x10000);
    const w = insp(h).walk(0x1abcd);
    expect([w.end, w.phys, w.length]).toEqual(["leaf", BigInt(pa + 0xabcd), 0x10000]);
    expect(fieldsByName(w.steps.at(-1)!).OA).toBe(BigInt(pa));
    map(h, 2 ** 46, 2 ** 51, 2 ** 42, R);
    const big = insp(h).walk(2 ** 46 + 0x123_4567_8000);
    expect([big.steps.at(-1)!.level, big.length, big.phys]).toEqual([
      1,
      2 ** 42,
      2n ** 51n + 0x123_4567_8000n,
    ]);
    expect(insp(h).geometry()).toMatchObject({ topLevel: 1, topEntries: 1024, iasBits: 52 });
  });

  it("pgtable_walk's data (the engine's walk line), including its aliasing of out-of-range IOVAs and 2^64 − 1", () => {
    for (const [fmt, input] of [...FORMATS, [S1, { quirks: IO_PGTABLE_QUIRK_ARM_TTBR1 }] as const]) {
      const h = alloc(fmt, input);
      const ttbr1 = (input.quirks ?? 0) === IO_PGTABLE_QUIRK_ARM_TTBR1;
      const top = ttbr1 ? (1n << 64n) - (1n << BigInt(h.iop.ias)) : 0n;
      map(h, top + 0x20_0000n, 0x5000, K4);
      map(h, top + BigInt(G1), 0x4000_0000, M2);
      const probes = [0n, 0x20_0000n, 0x20_0123n, BigInt(G1) + 5n, BigInt(G1) + BigInt(M2)].flatMap((o) => [
        top + o,
        (top + o + (1n << BigInt(h.iop.ias))) & ((1n << 64n) - 1n), // out of range: aliases
        o,
      ]);
      for (const iova of [...probes, (1n << 64n) - 1n, (1n << 63n) + 0x20_0000n])
        expect(lpaeWalkOf(insp(h), iova), `fmt ${fmt} iova 0x${iova.toString(16)}`).toEqual(
          legacyLpaeWalk(h.ops, iova),
        );
    }
  });

  it("geometry of every format (Mali: always 4 levels from a one-entry pgd at ias ≤ 39)", () => {
    expect(insp(alloc(IoPgtableFmt.ARM_32_LPAE_S1, { ias: 32, oas: 40 })).geometry()).toMatchObject({
      format: "ARM_32_LPAE_S1",
      topLevel: 1,
      levels: 3,
      topEntries: 4,
      pgsizeBitmap: 0x40201000n,
    });
    const mali = alloc(IoPgtableFmt.ARM_MALI_LPAE, { ias: 32, oas: 40 });
    expect(insp(mali).geometry()).toMatchObject({
      format: "ARM_MALI_LPAE",
      topLevel: 0,
      levels: 4,
      topEntries: 1,
    });
    map(mali, 0xffff_f000, 0x5000, K4);
    expect(
      insp(mali)
        .walk(0xffff_f000)
        .steps.map((s) => s.index),
    ).toEqual([0, 3, 511, 511]);
  });

  it("agrees with iova_to_phys_length and pgtable_walk on random tables", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(511), fc.constantFrom(K4, M2, G1), fc.nat(3)), { maxLength: 24 }),
        fc.array(fc.nat(2 ** 36 - 1), { minLength: 16, maxLength: 16 }),
        (maps, probes) => {
          const h = alloc(S1, { quirks: 1 << 9 });
          for (const [slot, size, n] of maps)
            h.ops.mapPages(slot * size, slot * K4 * 16, size, n + 1, R | W, 0, new SizeOut());
          const out = new PhysLength();
          const inspector = insp(h);
          for (const p of probes) {
            const iova = p * K4 + (p % K4);
            h.ops.iovaToPhysLength(iova, out);
            const w = inspector.walk(iova);
            expect(w.end === "leaf").toBe(out.mapped);
            expect(w.length).toBe(out.length);
            if (out.mapped) expect(w.phys).toBe(BigInt(out.physNumber));
            expect(lpaeWalkOf(inspector, iova)).toEqual(legacyLpaeWalk(h.ops, iova));
            expect(lettersOf(walkLeafProt(inspector, iova))).toBe(legacyLpaeLeafProt(h.ops, h.iop, iova));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("visit and stats", () => {
  /** Three pages, a 2M and a 1G block, and one page at the top of the input range. */
  function sample(fmt: IoPgtableFmt = S1, input: CfgInput = {}): Harness {
    const h = alloc(fmt, input);
    map(h, 0, 0x10_0000, K4, R | W, 3);
    map(h, M2, 0x20_0000, M2);
    map(h, 2 * G1, 0x4000_0000, G1);
    map(h, 2 ** h.iop.ias - K4, 0x5000, K4);
    return h;
  }

  it("pre-order, ascending index, each table entry followed by its table", () => {
    const seen: string[] = [];
    insp(sample()).visit((e) => {
      seen.push(`${e.depth}:${e.index}:${e.kind}`);
    });
    expect(seen).toEqual([
      "0:0:table",
      "1:0:table",
      "2:0:table",
      "3:0:leaf",
      "3:1:leaf",
      "3:2:leaf",
      "2:1:leaf",
      "1:2:leaf",
      "0:511:table",
      "1:511:table",
      "2:511:table",
      "3:511:leaf",
    ]);
  });

  it("a visitor returning false skips the subtree; from/to clip to overlapping items", () => {
    const h = sample();
    const top: number[] = [];
    insp(h).visit((e) => {
      top.push(e.depth);
      return false;
    });
    expect(top).toEqual([0, 0]);
    const window: bigint[] = [];
    insp(h).visit((e) => void window.push(e.iova), { from: 0x1fff, to: M2 });
    expect(window).toEqual([0n, 0n, 0n, 0x1000n, 0x2000n, BigInt(M2)]);
    const high: bigint[] = [];
    insp(h).visit((e) => void high.push(e.iova), { from: 2n ** 39n });
    expect(high).toEqual([
      511n << 39n,
      (511n << 39n) | (511n << 30n),
      2n ** 48n - BigInt(M2),
      2n ** 48n - 4096n,
    ]);
  });

  it("stats: tables reachable, leaves by size, mapped bytes — and nothing counted", () => {
    const h = sample();
    const reads = h.counters.pteReads;
    const s = insp(h).stats();
    expect(s.tables).toBe(h.allocator.liveCount);
    expect(s.tablesByDepth).toEqual([1, 2, 2, 2]);
    expect(s.leavesBySize).toEqual(
      new Map([
        [K4, 4],
        [M2, 1],
        [G1, 1],
      ]),
    );
    expect(s.mappedBytes).toBe(BigInt(4 * K4 + M2 + G1));
    expect([s.leafItems, s.invalidNonZero, s.missingTables]).toEqual([6, 0, 0]);
    insp(h).walk(0);
    expect(h.counters.pteReads).toBe(reads);
  });

  it("the engine's dump data (every entry's level, path, kind, iova, raw, size) comes out of visit() alone, for every format", () => {
    /** The header line's data too: `L<start> pgd table#0 entries=<pgd entries>`. */
    const check = (h: Harness) => {
      expect(insp(h).geometry()).toMatchObject({
        topLevel: h.iop.startLevel,
        topEntries: 2 ** h.iop.pgdBits,
      });
      const entries = lpaeVisitEntries(insp(h));
      expect(entries).toEqual(legacyLpaeDumpEntries(h.iop));
      return entries;
    };
    for (const [fmt, input] of FORMATS) {
      const h = sample(fmt, { ...input, ias: input.ias ?? 48, oas: input.oas ?? 48 });
      // An invalid non-zero entry is listed too.
      h.iop.mem.write64(h.iop.pgdPa + 8 * (h.iop.entriesAt(h.iop.startLevel) - 1), 0x8000_0000_0000_0002n);
      const kinds = new Set(check(h).map((e) => e.kind));
      expect(kinds).toEqual(new Set(["table", "leaf", "invalid"]));
    } // TTBR1: the dump prints IOVAs within ias (as the harness indexes them), unsigned.
    const t = alloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_TTBR1 });
    map(t, (1n << 64n) - 0x1000n, 0x5000, K4);
    map(t, (1n << 64n) - (1n << 48n) + BigInt(G1), 0x4000_0000, M2);
    expect(check(t).at(-1)).toMatchObject({ kind: "leaf", iova: (1n << 48n) - 0x1000n });
  });

  it("the engine's dump data on random tables, every format", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: FORMATS.length - 1 }),
        fc.array(fc.tuple(fc.nat(511), fc.constantFrom(K4, M2, G1), fc.nat(3)), { maxLength: 16 }),
        fc.array(fc.tuple(fc.nat(511), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })), { maxLength: 3 }),
        (f, maps, junk) => {
          const [fmt, input] = FORMATS[f]!;
          const h = alloc(fmt, { ...input, ias: input.ias ?? 48, oas: input.oas ?? 48 });
          const span = 2 ** h.iop.ias;
          for (const [slot, size, n] of maps)
            h.ops.mapPages((slot * size) % span, slot * K4 * 16, size, n + 1, R | W, 0, new SizeOut());
          // Arbitrary words in the top table's free slots: tables to nowhere, invalid entries.
          const top = h.iop.entriesAt(h.iop.startLevel);
          for (const [slot, raw] of junk) {
            const pa = h.iop.pgdPa + 8 * (slot % top);
            if (h.iop.mem.read64(pa) === 0n) h.iop.mem.write64(pa, raw);
          }
          h.iop.invalidateCache();
          expect(lpaeVisitEntries(insp(h))).toEqual(legacyLpaeDumpEntries(h.iop));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the domain built over the table inspects it (iommuDomainInspector)", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const ops = allocIoPgtableOps(S1, {
      quirks: 0,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator,
      counters,
    })!;
    const d = createIoPgtableDomain(ops);
    expect(iommuDomainInspector(d)).toBe(ops.inspect!());
    d.ops!.free!(d);
    expect(iommuDomainInspector(d)).toBeNull();
  });
});

describe("partial and damaged images", () => {
  /** Adopt `bytes` (as a pgd, at 0x1000_0000) as an LPAE table; extra pages make some pointers land. */
  function adopt(fmt: IoPgtableFmt, bytes: Uint8Array, input: CfgInput = {}): ArmLpaeIoPgtable | null {
    const counters = new IommuCounters();
    const mem = new PhysMem();
    mem.importRange(0x1000_0000, bytes);
    const allocator = new TableAllocator(mem, { base: 0x2000_0000, counters });
    const ops = allocIoPgtableOps(fmt, {
      quirks: 0,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator,
      counters,
      existingRoot: 0x1000_0000,
      ...input,
    });
    return ops ? (ioPgtableOpsToPgtable(ops) as ArmLpaeIoPgtable) : null;
  }

  /** Random words, some of them table descriptors pointing back into the image. */
  const image = fc
    .tuple(
      fc.uint8Array({ minLength: 4096, maxLength: 4096 * 3 }),
      fc.array(fc.tuple(fc.nat(511), fc.nat(2)), { maxLength: 5 }),
    )
    .map(([bytes, links]) => {
      const b = bytes.slice(0, bytes.length - (bytes.length % 4096));
      const view = new DataView(b.buffer);
      for (const [slot, page] of links) {
        const target = 0x1000_0000 + (page % (b.length / 4096)) * 4096;
        view.setUint32(slot * 8, target | 3, true);
        view.setUint32(slot * 8 + 4, 0, true);
      }
      return b;
    });

  for (const [fmt, input] of FORMATS.slice(0, 5)) {
    it(`fmt ${fmt}: geometry, walk, visit and stats never throw on random bytes`, () => {
      fc.assert(
        fc.property(
          image,
          fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 8 }),
          (bytes, probes) => {
            const d = adopt(fmt, bytes, input);
            if (!d) return;
            const i = d.ops.inspect!();
            i.geometry();
            for (const p of probes) {
              const w = i.walk(p);
              expect(["leaf", "hole", "out-of-range", "missing-table"]).toContain(w.end);
            }
            let n = 0;
            i.visit(() => {
              n++;
            });
            const s = i.stats();
            expect(s.leafItems + s.invalidNonZero + s.missingTables + s.tables - 1).toBe(n);
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});
