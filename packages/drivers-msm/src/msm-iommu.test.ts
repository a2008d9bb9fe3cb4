// drivers/iommu/msm_iommu.c: cfg and context programming at attach, the hardware V2P path, TLBIVA counts, attach quirks.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  TableAllocator,
} from "@iommu/core";
import { type ArmV7sIoPgtable, ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { msmIommuHwTranslate } from "./msm-domain.js";
import { MsmIommu } from "./msm-iommu.js";
import {
  PAR_FAULT,
  PAR_FAULT_AFF,
  PAR_FAULT_TF,
  PAR_NOFAULT_SS,
  SCTLR_AFE,
  SCTLR_M,
  SCTLR_TRE,
} from "./regs.js";
import { lookup, setup } from "./testing/harness.js";
import { msmIommuFlushOps, msmTlbivaCount } from "./tlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function thrown(fn: () => unknown): IommuError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("msm_iommu_domain_config / __program_context", () => {
  const { iommu, d } = setup();
  const iop = ioPgtableOpsToPgtable(d.pgtblOps!) as ArmV7sIoPgtable;

  it("ARM_V7S, ias = oas = 32, no quirks, non-coherent walk, msm_iommu_flush_ops", () => {
    expect({ q: iop.cfg.quirks, ias: iop.cfg.ias, oas: iop.cfg.oas, coherent: iop.cfg.coherentWalk }).toEqual(
      {
        q: 0,
        ias: 32,
        oas: 32,
        coherent: false,
      },
    );
    expect(iop.cfg.tlb).toBe(msmIommuFlushOps);
    expect(iop.l1Entries).toBe(4096);
    expect(d.pgsizeBitmap).toBe(SZ_4K | SZ_64K | SZ_1M | SZ_16M);
    // Non-coherent TTBR: the L1's PA | S (bit 1), inner/outer non-cacheable.
    expect(d.cfg!.armV7sCfg!.ttbr).toBe((iop.pgd | 0x2) >>> 0);
  });

  it("the first free context bank (0) gets TTBR0, TTBCR, PRRR/NMRR, ASID = its number, TRE|AFE|M", () => {
    const ctx = iommu.contexts[0]!;
    expect(iommu.master.num).toBe(0);
    expect(ctx.ttbr0).toBe(d.cfg!.armV7sCfg!.ttbr);
    expect(ctx.ttbcr).toBe(0);
    expect(ctx.prrr).toBe(d.cfg!.armV7sCfg!.prrr);
    expect(ctx.nmrr).toBe(d.cfg!.armV7sCfg!.nmrr);
    expect(ctx.contextidr).toBe(0);
    expect(ctx.sctlr).toBe(SCTLR_M | SCTLR_TRE | SCTLR_AFE);
    expect(d.listAttached).toEqual([iommu]);
  });

  it("geometry [0, 2^32 − 1] forced, set at allocation (before any attach)", () => {
    const u = setup({}, { attach: false }).d;
    expect(u.geometry).toEqual({ apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true });
    expect(u.pgtblOps).toBeNull();
  });

  it("flags → -EOPNOTSUPP; no capabilities", () => {
    expect(new MsmIommu().domainAllocPagingFlags(2)).toBe(-95);
    expect(new MsmIommu().capable(0)).toBe(false);
  });
});

describe("geometry edges: [0, 2^32 − 1]", () => {
  it("the last page maps and translates; 2^32 is beyond ias 32 (ERANGE + WARN in the format)", () => {
    const { d } = setup();
    iommuMap(d, 0xffff_f000, 0x4000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0xffff_fabc)).toBe(0x4000_0abc);
    expect(lookup(d, 0xffff_f000)).toEqual({ mapped: true, phys: 0x4000_0000n, length: SZ_4K });
    expect(thrown(() => iommuMap(d, 2 ** 32, 0x4000_0000, SZ_4K, RW)).code).toBe("ERANGE");
    expect(d.counters.warns).toBe(1);
    // Beyond the table: unmapped up to the next 2^32-aligned block boundary (holeSpanOutside).
    expect(lookup(d, 2 ** 32).length).toBe(2 ** 32);
  });

  it("a PA at or above 2^32 is beyond oas 32", () => {
    const { d } = setup();
    expect(thrown(() => iommuMap(d, 0, 2 ** 32, SZ_4K, RW)).code).toBe("ERANGE");
  });
});

describe("before the first attach (no NULL checks in the kernel)", () => {
  const { d } = setup({}, { attach: false });
  it("map / unmap / iova_to_phys_length: priv->iop is NULL → EFAULT", () => {
    expect(thrown(() => iommuMap(d, 0, 0x4000_0000, SZ_4K, RW)).op).toBe("msm_iommu_map");
    expect(thrown(() => iommuUnmap(d, 0, SZ_4K)).op).toBe("msm_iommu_unmap");
    expect(thrown(() => iommuIovaToPhysLength(d, 0)).code).toBe("EFAULT");
  });
  it("iommu_iova_to_phys goes through iova_to_phys_length: priv->iop is NULL → EFAULT", () => {
    const e = thrown(() => iommuIovaToPhys(d, 0));
    expect(e.code).toBe("EFAULT");
    expect(e.op).toBe("msm_iommu_iova_to_phys_length");
    expect(e.message).toMatch(/priv->iop is NULL/);
  });
  it("the hardware V2P path (pre-series iova_to_phys): list_first_entry() of the empty list_attached → EFAULT", () => {
    const e = thrown(() => msmIommuHwTranslate(d, 0));
    expect(e.code).toBe("EFAULT");
    expect(e.op).toBe("msm_iommu_iova_to_phys");
    expect(e.message).toMatch(/empty priv->list_attached/);
  });
  it("iotlb_sync_map walks the empty list: nothing written", () => {
    expect(d.ops!.iotlbSyncMap!(d, 0, SZ_4K)).toBe(0);
    expect(d.counters.flushRange).toBe(0);
  });
});

describe("hardware V2P (the pre-series iova_to_phys): CTX_TLBIALL, V2PPR, PAR", () => {
  const { iommu, d } = setup();
  iommuMap(d, 0x1000_0000, 0x4000_1000, SZ_4K, RW); // small page
  iommuMap(d, 0x1001_0000, 0x4101_0000, SZ_64K, RW); // large page
  iommuMap(d, 0x1020_0000, 0x4230_0000, SZ_1M, IOMMU_READ); // section
  iommuMap(d, 0x2000_0000, 0x5300_0000, SZ_16M, IOMMU_WRITE); // supersection
  const ctx = iommu.contexts[0]!;

  const cases: ReadonlyArray<[string, number, number, boolean, number]> = [
    ["small page: PAR[31:12] | va[11:0]", 0x1000_0abc, 0x4000_1abc, false, 2],
    ["large page replica 5", 0x1001_5123, 0x4101_5123, false, 2],
    ["section", 0x1027_8fff, 0x4237_8fff, false, 1],
    ["supersection: PAR[31:24] | va[23:0], SS set", 0x20ab_cdef, 0x53ab_cdef, true, 1],
  ];
  for (const [name, va, pa, ss, reads] of cases)
    it(name, () => {
      const c = d.counters.snapshot();
      const tlbiall = ctx.tlbiall;
      const phys = msmIommuHwTranslate(d, va);
      const par = ctx.par;
      expect(phys).toBe(pa);
      expect(par & PAR_FAULT).toBe(0);
      expect((par & PAR_NOFAULT_SS) !== 0).toBe(ss);
      expect(ctx.tlbiall - tlbiall).toBe(1);
      const delta = d.counters.since(c);
      expect(delta.flushAll).toBe(1);
      expect(delta.pteReads).toBe(reads);
      // iommu_iova_to_phys (the table walk, no TLB traffic) agrees with the hardware.
      const c2 = d.counters.snapshot();
      expect(iommuIovaToPhys(d, va)).toBe(pa);
      expect(d.counters.since(c2).flushAll).toBe(0);
      expect(ctx.tlbiall - tlbiall).toBe(1);
    });

  it("an empty L1 slot: PAR FAULT|TF, 0 (the table walk: 0 too)", () => {
    expect(msmIommuHwTranslate(d, 0x3000_0000)).toBe(0);
    expect(ctx.par).toBe(PAR_FAULT | PAR_FAULT_TF);
    expect(iommuIovaToPhys(d, 0x3000_0000)).toBe(0);
  });

  it("an empty L2 slot next to a mapped page: FAULT|TF after two reads", () => {
    const c = d.counters.pteReads;
    expect(msmIommuHwTranslate(d, 0x1000_2000)).toBe(0);
    expect(ctx.par).toBe(PAR_FAULT | PAR_FAULT_TF);
    expect(d.counters.pteReads - c).toBe(2);
  });

  it("an entry without the access flag (AFE on): FAULT|AFF", () => {
    const { iommu: i2, d: d2 } = setup();
    iommuMap(d2, 0x1000_0000, 0x4000_0000, SZ_1M, RW);
    const pgd = (ioPgtableOpsToPgtable(d2.pgtblOps!) as ArmV7sIoPgtable).pgd;
    const mem = d2.allocator.mem;
    mem.write32(pgd + 0x100 * 4, (mem.read32(pgd + 0x100 * 4) & ~(1 << 10)) >>> 0);
    expect(msmIommuHwTranslate(d2, 0x1000_0000)).toBe(0);
    expect(i2.contexts[0]!.par).toBe(PAR_FAULT | PAR_FAULT_AFF);
    expect(i2.contexts[0]!.v2p).toBe(1);
  });

  it("IOVAs ≥ 4 GiB: the 32-bit V2PPR aliases the low 4 GiB; iommu_iova_to_phys answers 0 (beyond ias 32)", () => {
    // The hardware (and so the pre-series legacy op) sees only VA[31:0].
    expect(msmIommuHwTranslate(d, 2 ** 32 + 0x1000_0abc)).toBe(0x4000_1abc);
    // The length op's walk: outside the table's range, unmapped.
    expect(iommuIovaToPhys(d, 2 ** 32 + 0x1000_0abc)).toBe(0);
    expect(lookup(d, 2 ** 32 + 0x1000_0abc)).toEqual({ mapped: false, phys: 0n, length: 2 ** 32 });
  });
});

describe("iova_to_phys_length: the software walk (PAR cannot tell 4K / 64K / 1M apart)", () => {
  for (const mode of ["software", "checked"] as const) {
    it(`${mode}: every leaf size, holes, and ${mode === "checked" ? "one V2P per lookup, no WARN" : "no TLB traffic"}`, () => {
      const { d } = setup({ lengthMode: mode });
      iommuMap(d, 0x1000_0000, 0x4000_1000, SZ_4K, RW);
      iommuMap(d, 0x1001_0000, 0x4101_0000, SZ_64K, RW);
      iommuMap(d, 0x1020_0000, 0x4230_0000, SZ_1M, RW);
      iommuMap(d, 0x2000_0000, 0x5300_0000, SZ_16M, RW);
      const before = d.counters.snapshot();
      expect(lookup(d, 0x1000_0abc)).toEqual({ mapped: true, phys: 0x4000_1abcn, length: SZ_4K });
      expect(lookup(d, 0x1001_f123)).toEqual({ mapped: true, phys: 0x4101_f123n, length: SZ_64K });
      expect(lookup(d, 0x1020_0001)).toEqual({ mapped: true, phys: 0x4230_0001n, length: SZ_1M });
      expect(lookup(d, 0x20ff_ffff)).toEqual({ mapped: true, phys: 0x53ff_ffffn, length: SZ_16M });
      expect(lookup(d, 0x1000_1000)).toEqual({ mapped: false, phys: 0n, length: SZ_4K });
      expect(lookup(d, 0x7000_0000)).toEqual({ mapped: false, phys: 0n, length: SZ_1M });
      const delta = d.counters.since(before);
      expect(delta.warns).toBe(0);
      expect(delta.flushAll).toBe(mode === "checked" ? 6 : 0);
    });
  }

  it("checked: a context walking another table than the domain's (stale TTBR0) WARNs", () => {
    const { iommu, d } = setup({ lengthMode: "checked" });
    const other = setup().d;
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_1M, RW);
    iommuMap(other, 0x1000_0000, 0x4800_0000, SZ_16M, RW);
    iommu.contexts[0]!.ttbr0 = other.cfg!.armV7sCfg!.ttbr;
    iommu.contexts[0]!.mem = other.allocator.mem;
    lookup(d, 0x1000_0000);
    expect(d.counters.warns).toBe(2); // PA differs, and the SS flag on a 1M leaf
    lookup(d, 0x0100_0000);
    expect(d.counters.warns).toBe(2); // both unmapped there
  });
});

describe("TLB maintenance (msm_iommu_flush_ops, sync_map): TLBIVA writes per call", () => {
  it("msmTlbivaCount models `int temp_size` and the do/while", () => {
    expect(msmTlbivaCount(SZ_1M, SZ_4K)).toBe(256);
    expect(msmTlbivaCount(SZ_4K, SZ_4K)).toBe(1);
    expect(msmTlbivaCount(0, SZ_4K)).toBe(2 ** 20); // wraps through 2^32
    expect(msmTlbivaCount(0x1800, SZ_4K)).toBe(-1); // never ends
  });

  it("iommu_map: sync_map issues size / 4K TLBIVAs (no range op)", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_16M, RW);
    expect(d.counters.flushRange).toBe(4096);
    expect(iommu.contexts[0]!.lastTlbiva).toBe(0x10ff_f000);
  });

  const rows: ReadonlyArray<[string, number, number, Partial<Record<"flushPage" | "flushWalk", number>>]> = [
    ["4K page: one tlb_add_page → 1 TLBIVA", 0x1000_0000, SZ_4K, { flushPage: 1 }],
    ["64K large page: 16 replicas → 16 × tlb_add_page(4K)", 0x1001_0000, SZ_64K, { flushPage: 16 }],
    [
      "1M section: tlb_add_page(1M) → __flush_iotlb_range(iova, 1M, 1M): 1 TLBIVA",
      0x1020_0000,
      SZ_1M,
      { flushPage: 1 },
    ],
    ["16M supersection: 16 × tlb_add_page(1M)", 0x2000_0000, SZ_16M, { flushPage: 16 }],
  ];
  for (const [name, iova, size, want] of rows)
    it(name, () => {
      const { d } = setup();
      iommuMap(d, iova, 0x4000_0000 + (iova % SZ_16M), size, RW);
      const before = d.counters.snapshot();
      expect(iommuUnmap(d, iova, size)).toBe(size);
      const delta = d.counters.since(before);
      expect({ flushPage: delta.flushPage, flushWalk: delta.flushWalk }).toEqual({
        flushPage: 0,
        flushWalk: 0,
        ...want,
      });
      expect(delta.syncs).toBe(1); // the core's iommu_iotlb_sync: msm has no iotlb_sync op
      expect(delta.flushAll + delta.flushRange).toBe(0);
    });

  it("a section replacing an L2 table: tlb_flush_walk(iova, 1M, 4K) → 256 TLBIVAs", () => {
    const { d } = setup();
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_4K, RW);
    iommuUnmap(d, 0x1000_0000, SZ_4K);
    const before = d.counters.snapshot();
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_1M, RW);
    const delta = d.counters.since(before);
    expect(delta.flushWalk).toBe(256);
    expect(d.tlbCallbacks.flushWalk).toBe(1);
  });
});

describe("attach quirks", () => {
  it("every attach rebuilds the table: the old one (and its mappings) is leaked", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_4K, RW);
    const live = d.allocator.liveCount;
    expect(iommu.attach(d)).toBe(0); // master->num is 0: the check passes, context 1 is taken
    expect(d.leakedTables).toBe(1);
    expect(d.allocator.liveCount).toBeGreaterThan(live);
    expect(lookup(d, 0x1000_0000).mapped).toBe(false);
    expect(iommu.master.num).toBe(1);
    expect(iommu.contexts[1]!.ttbr0).toBe(d.cfg!.armV7sCfg!.ttbr);
  });

  it("a master holding a non-zero context: -EEXIST (after the table was already replaced)", () => {
    const lines: string[] = [];
    const { iommu, d } = setup({ onMessage: (l) => lines.push(l) });
    iommu.attach(d); // context 1
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_4K, RW);
    expect(iommu.attach(d)).toBe(-17);
    expect(lookup(d, 0x1000_0000).mapped).toBe(false);
    expect(lines).toEqual([`${iommu.name}: domain already attached`]);
  });

  it("all context banks taken: -ENODEV, and master->num keeps -ENOSPC (every later attach -EEXIST)", () => {
    const iommu = new MsmIommu({ ncb: 1 });
    expect(typeof iommu.domainAllocPagingFlags(0)).toBe("object");
    expect(iommu.domainAllocPagingFlags(0)).toBe(-19);
    expect(iommu.master.num).toBe(-28);
    expect(iommu.domainAllocPagingFlags(0)).toBe(-17);
  });

  it("the table allocation failing at attach is ignored: attached, no table, map oopses", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const lines: string[] = [];
    const iommu = new MsmIommu({ allocator, onMessage: (l) => lines.push(l) });
    allocator.failNth(1);
    const d = iommu.domainAllocPagingFlags(0, { counters });
    if (typeof d === "number") throw new Error(String(d));
    expect(d.pgtblOps).toBeNull();
    expect(d.listAttached).toEqual([iommu]);
    expect(iommu.contexts[0]!.ttbr0).toBe(0);
    expect(lines).toEqual([`${iommu.name}: Failed to allocate pgtable`]);
    expect(thrown(() => iommuMap(d, 0, 0x4000_0000, SZ_4K, RW)).code).toBe("EFAULT");
    // iommu_iova_to_phys → iova_to_phys_length: priv->iop is NULL, the same oops as map.
    expect(thrown(() => iommuIovaToPhys(d, 0)).op).toBe("msm_iommu_iova_to_phys_length");
    // The hardware V2P walks address 0: no memory there, a translation fault.
    expect(msmIommuHwTranslate(d, 0)).toBe(0);
    expect(iommu.contexts[0]!.par & PAR_FAULT).toBe(PAR_FAULT);
  });

  it("detach (identity attach): table freed after a TLBIALL, context released and reset", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0x1000_0000, 0x4000_0000, SZ_4K, RW);
    const before = d.counters.flushAll;
    iommu.detach(d);
    expect(d.counters.flushAll - before).toBe(1);
    expect(d.allocator.liveCount).toBe(0);
    expect(iommu.contextMap[0]).toBe(false);
    expect(iommu.contexts[0]!.sctlr).toBe(0);
    expect(thrown(() => iommuMap(d, 0, 0x4000_0000, SZ_4K, RW)).code).toBe("EFAULT");
  });
});
