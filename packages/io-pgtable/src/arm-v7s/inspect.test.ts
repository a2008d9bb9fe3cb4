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
import { allocIoPgtableOps } from "../alloc.js";
import {
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import {
  fieldsMatchRaw,
  legacyV7sDumpEntries,
  legacyV7sLeafProt,
  lettersOf,
  protLetters,
  v7sVisitEntries,
  walkLeafProt,
} from "../testing/inspect-format.js";
import { testCfg } from "../testing/table-harness.js";
import { type ArmV7sIoPgtable, armV7sAllocPgtable } from "./arm-v7s.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const RW = R | W;
const K4 = 0x1000;
const K64 = 0x1_0000;
const M1 = 0x10_0000;
const M16 = 0x100_0000;
const MTK = IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS;

function make(over: Partial<IoPgtableCfg> = {}, base?: number): ArmV7sIoPgtable {
  const iop = armV7sAllocPgtable(testCfg(over, base), null);
  if (!iop) throw new Error("alloc refused");
  return iop;
}

function map(iop: ArmV7sIoPgtable, iova: number, pa: number, pgsize: number, prot = RW, count = 1): void {
  expect(iop.mapPages(iova, pa, pgsize, count, prot, 0, new SizeOut())).toBe(0);
}

const fieldsByName = (e: PteInfo) => Object.fromEntries(e.fields.map((f) => [f.name, f.value]));

const QUIRK_SETS = [
  0,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS,
];

describe("prot and fields", () => {
  for (const quirks of QUIRK_SETS) {
    it(`quirks 0x${quirks.toString(16)}: every prot at 4K, 64K, 1M, 16M = the engine's leafProt`, () => {
      const iop = make({ quirks });
      const i = iop.inspect();
      let iova = 0;
      for (let prot = 0; prot < 64; prot++) {
        if (!(prot & RW)) continue;
        for (const size of [K4, K64, M1, M16]) {
          iova += M16;
          map(iop, iova % 2 ** 32, 0x4000_0000, size, prot);
          const va = iova % 2 ** 32;
          for (const probe of [va, va + size - K4]) {
            const w = i.walk(probe);
            expect(w.end).toBe("leaf");
            expect(
              lettersOf(walkLeafProt(i, probe)),
              `prot 0x${prot.toString(16)} size 0x${size.toString(16)}`,
            ).toBe(legacyV7sLeafProt(iop, probe));
            for (const s of w.steps) expect(fieldsMatchRaw(s)).toBe(true);
          }
          iop.unmapPages(va, size, 1, null);
        }
      }
    });
  }

  it("names the short-descriptor fields of a section, a supersection, a small and a large page", () => {
    const iop = make();
    const i = iop.inspect();
    map(iop, 0, 0x4000_0000, M1, R | IOMMU_NOEXEC | IOMMU_CACHE);
    expect(fieldsByName(i.walk(0).steps[0]!)).toMatchObject({
      OA: 0x4000_0000n,
      supersection: 0,
      nG: 1,
      S: 1,
      AP2: 1,
      TEX: 1,
      AP: 3,
      XN: 1,
      C: 1,
      B: 1,
      type: 2,
    });
    expect(protLetters(i.walk(0).steps[0]!.prot!)).toBe("rcx");
    map(iop, M16, 0x5000_0000, M16, RW | IOMMU_MMIO | IOMMU_PRIV);
    const sup = i.walk(M16 + 5 * M1).steps[0]!;
    expect(fieldsByName(sup)).toMatchObject({ OA: 0x5000_0000n, supersection: 1, TEX: 0, AP: 1, B: 1, C: 0 });
    expect(protLetters(sup.prot!)).toBe("rwmp");
    map(iop, 2 * M16, 0x6000_1000, K4);
    const small = i.walk(2 * M16).steps[1]!;
    expect(fieldsByName(small)).toMatchObject({ OA: 0x6000_1000n, AP2: 0, TEX: 1, AP: 3, XN: 0, type: 1 });
    map(iop, 2 * M16 + K64, 0x6001_0000, K64, R | IOMMU_NOEXEC);
    const large = i.walk(2 * M16 + K64 + 3 * K4).steps[1]!;
    expect(fieldsByName(large)).toMatchObject({ OA: 0x6001_0000n, XN: 1, TEX: 1, AP2: 1, type: 1 });
    expect(protLetters(large.prot!)).toBe("rx");
    // The L1 table entry: NS (NS_TABLE) under ARM_NS.
    const ns = make({ quirks: IO_PGTABLE_QUIRK_ARM_NS });
    map(ns, 0, 0x6000_1000, K4);
    expect(fieldsByName(ns.inspect().walk(0).steps[0]!)).toMatchObject({ NS: 1, type: 1 });
    map(ns, M1, 0x6010_0000, M1);
    expect(fieldsByName(ns.inspect().walk(M1).steps[0]!)).toMatchObject({ NS: 1, type: 2 });
  });

  it("MediaTek: PA bits 32–34 from PTE bits 9/4/5 (leaves, and tables with TTBR_EXT)", () => {
    const iop = make({ quirks: MTK | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT, ias: 34, oas: 35 }, 0x5_0000_0000);
    const i = iop.inspect();
    expect(i.geometry()).toMatchObject({ topEntries: 16384, iasBits: 34, root: 0x5_0000_0000 });
    map(iop, 0x3_0000_0000, 0x7_8765_4000, K4);
    const w = i.walk(0x3_0000_0123);
    expect([w.end, w.phys]).toEqual(["leaf", 0x7_8765_4123n]);
    expect(w.steps[0]).toMatchObject({ kind: "table", tableMissing: false });
    expect(w.steps[0]!.nextTable! >= 2 ** 32).toBe(true);
    expect(fieldsByName(w.steps[0]!)).toMatchObject({ PA_BIT32: 1, PA_BIT34: 1, PA_BIT33: 0 });
    expect(fieldsByName(w.steps[1]!)).toMatchObject({
      PA_BIT32: 1,
      PA_BIT33: 1,
      PA_BIT34: 1,
      OA: 0x7_8765_4000n,
    });
    // NO_PERMS: full access whatever the bits say.
    expect(protLetters(w.steps[1]!.prot!)).toBe("rw");
    expect(lettersOf(walkLeafProt(i, 0x3_0000_0123))).toBe(legacyV7sLeafProt(iop, 0x3_0000_0123));
  });
});

describe("walk", () => {
  it("section, supersection copy, small and large page: phys with the offset and the unit's length", () => {
    const iop = make();
    const i = iop.inspect();
    map(iop, M1, 0x4000_0000, M1);
    map(iop, M16, 0x5000_0000, M16);
    map(iop, 2 * M16, 0x6000_0000, K4);
    map(iop, 2 * M16 + K64, 0x6001_0000, K64);
    expect(i.walk(M1 + 0x1234)).toMatchObject({ end: "leaf", phys: 0x4000_1234n, length: M1 });
    const sup = i.walk(M16 + 7 * M1 + 0x42);
    expect(sup).toMatchObject({ end: "leaf", phys: 0x5070_0042n, length: M16 });
    expect(sup.steps[0]).toMatchObject({
      index: 23,
      contigIndex: 7,
      leafSize: M16,
      itemSize: M1,
      phys: 0x5070_0000n,
    });
    expect(i.walk(2 * M16 + 0x10)).toMatchObject({ end: "leaf", phys: 0x6000_0010n, length: K4 });
    const large = i.walk(2 * M16 + K64 + 0xf123);
    expect(large).toMatchObject({ end: "leaf", phys: 0x6001_f123n, length: K64 });
    expect(large.steps.map((s) => [s.level, s.depth, s.kind])).toEqual([
      [1, 0, "table"],
      [2, 1, "leaf"],
    ]);
    expect(large.steps[1]).toMatchObject({ index: 31, contigIndex: 15, entryBytes: 4 });
  });

  it("holes at L1 (1M) and L2 (4K), out of range above 2^ias, missing L2 table", () => {
    const iop = make();
    const i = iop.inspect();
    expect(i.walk(0)).toMatchObject({ end: "hole", length: M1 });
    map(iop, 0, 0x4000_0000, K4);
    expect(i.walk(K4)).toMatchObject({ end: "hole", length: K4 });
    expect(i.walk(2 ** 32)).toEqual({ iova: 2n ** 32n, steps: [], end: "out-of-range" });
    const mem = iop.cfg.allocator.mem;
    mem.write32(iop.pgd, 0x7000_0001);
    const w = i.walk(0);
    expect(w.end).toBe("missing-table");
    expect(w.steps[0]).toMatchObject({ kind: "table", nextTable: 0x7000_0000, tableMissing: true });
    expect(i.stats().missingTables).toBe(1);
  });

  it("agrees with iova_to_phys_length on random tables", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(255), fc.constantFrom(K4, K64, M1, M16)), { maxLength: 24 }),
        fc.array(fc.nat(2 ** 32 - 1), { minLength: 16, maxLength: 16 }),
        (maps, probes) => {
          const iop = make();
          for (const [slot, size] of maps)
            iop.mapPages(slot * size, slot * size, size, 1, RW, 0, new SizeOut());
          const out = new PhysLength();
          const i = iop.inspect();
          for (const iova of probes) {
            iop.iovaToPhysLength(iova, out);
            const w = i.walk(iova);
            expect(w.end === "leaf").toBe(out.mapped);
            expect(w.length).toBe(out.length);
            if (out.mapped) expect(w.phys).toBe(BigInt(out.physNumber));
            expect(lettersOf(walkLeafProt(i, iova))).toBe(legacyV7sLeafProt(iop, iova));
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("visit and stats", () => {
  it("every copy of a replicated entry, in order, with its contigIndex; stats count the unit once", () => {
    const iop = make();
    map(iop, M16, 0x5000_0000, M16);
    map(iop, 2 * M16 + K64, 0x6001_0000, K64);
    map(iop, 2 * M16, 0x6000_0000, K4);
    const seen: Array<[number, number, string, number | undefined]> = [];
    iop.inspect().visit((e) => void seen.push([e.depth, e.index, e.kind, e.contigIndex]));
    expect(seen.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, k) => [0, 16 + k, "leaf", k]));
    expect(seen[16]).toEqual([0, 32, "table", undefined]);
    expect(seen.slice(17)).toEqual([
      [1, 0, "leaf", 0],
      ...Array.from({ length: 16 }, (_, k) => [1, 16 + k, "leaf", k]),
    ]);
    const s = iop.inspect().stats();
    expect(s.leavesBySize).toEqual(
      new Map([
        [M16, 1],
        [K4, 1],
        [K64, 1],
      ]),
    );
    expect([s.leafItems, s.tables, s.tablesByDepth]).toEqual([33, 2, [1, 1]]);
    expect(s.mappedBytes).toBe(BigInt(M16 + K4 + K64));
  });

  it("from/to clip, a visitor returning false skips the L2 table; nothing is counted", () => {
    const iop = make();
    map(iop, 0, 0x5000_0000, K4, RW, 3);
    map(iop, M1, 0x6000_0000, M1);
    const reads = iop.cfg.counters.pteReads;
    const seen: bigint[] = [];
    iop.inspect().visit((e) => void seen.push(e.iova), { from: K4, to: K4 });
    expect(seen).toEqual([0n, BigInt(K4)]);
    const top: number[] = [];
    iop.inspect().visit((e) => {
      top.push(e.depth);
      return false;
    });
    expect(top).toEqual([0, 0]);
    expect(iop.cfg.counters.pteReads).toBe(reads);
  });

  it("the engine's dump data comes out of visit() alone (invalid entries and ` cont` marks included)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(63), fc.constantFrom(K4, K64, M1, M16)), { maxLength: 16 }),
        (maps) => {
          for (const quirks of [0, MTK]) {
            const iop = make({ quirks, ias: quirks ? 34 : 32, oas: quirks ? 35 : 32 });
            for (const [slot, size] of maps)
              iop.mapPages(slot * size, slot * 0x3_0000_0000, size, 1, RW, 0, new SizeOut());
            const mem = iop.cfg.allocator.mem;
            mem.write32(iop.pgd + 4 * 4095, 0x0004_0000); // invalid but non-zero
            expect(iop.inspect().geometry().topEntries).toBe(iop.l1Entries);
            expect(v7sVisitEntries(iop.inspect())).toEqual(legacyV7sDumpEntries(iop));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("is reached through the io-pgtable domain", () => {
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, testCfg())!;
    const d = createIoPgtableDomain(ops);
    expect(iommuDomainInspector(d)).toBe(ops.inspect!());
    expect(iommuDomainInspector(d)!.geometry()).toMatchObject({
      format: "ARM_V7S",
      topLevel: 1,
      levels: 2,
      entryBytes: 4,
    });
  });
});

describe("partial and damaged images", () => {
  it("random bytes as the L1 table and its L2 tables: nothing throws", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0x4000, maxLength: 0x4000 }),
        fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
        fc.array(fc.tuple(fc.nat(4095), fc.nat(3)), { maxLength: 8 }),
        fc.array(fc.nat(2 ** 32 - 1), { maxLength: 8 }),
        (l1, l2, links, probes) => {
          const mem = new PhysMem();
          mem.importRange(0x1000_0000, l1);
          mem.importRange(0x2000_0000, l2);
          for (const [slot, k] of links) mem.write32(0x1000_0000 + 4 * slot, (0x2000_0000 + k * 1024) | 1);
          const counters = new IommuCounters();
          const iop = armV7sAllocPgtable(
            {
              quirks: 0,
              pgsizeBitmap: 0x111_1000,
              ias: 32,
              oas: 32,
              coherentWalk: true,
              allocator: new TableAllocator(mem, { base: 0x4000_0000, counters }),
              counters,
              existingRoot: 0x1000_0000,
            },
            null,
          )!;
          const i = iop.inspect();
          for (const p of probes) expect(["leaf", "hole", "missing-table"]).toContain(i.walk(p).end);
          let n = 0;
          i.visit(() => {
            n++;
          });
          const s = i.stats();
          expect(s.leafItems + s.invalidNonZero + s.missingTables + s.tables - 1).toBe(n);
          expect(v7sVisitEntries(i)).toEqual(legacyV7sDumpEntries(iop));
        },
      ),
      { numRuns: 30 },
    );
  });
});
