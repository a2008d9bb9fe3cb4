/**
 * The io_pgtable_cfg each DART variant produces (apple_dart_probe → apple_dart_finalize_domain
 * → alloc_io_pgtable_ops), one row per variant and PARAMS setting, each naming the kernel rule
 * it checks; and the probe's refusals.
 */
import { IommuError, SZ_4K, SZ_16K } from "@iommu/core";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { AppleDart, type AppleDartOptions } from "./apple-dart.js";
import { APPLE_DART_HW, encodeDartParams, probeDart } from "./hw.js";

interface Row {
  rule: string;
  hw: AppleDartOptions;
  fmt: number;
  pgsize: number;
  ias: number;
  oas: number;
  nTtbrs: number;
  nLevels: number;
  streams: number;
  ttbrCount: number;
}

// PAGE_SIZE 16K unless the row says otherwise: 16K DARTs refuse paging under 4K pages.
const K16 = { pageSize: SZ_16K };

const ROWS: Row[] = [
  {
    rule: "t8103: APPLE_DART, oas = hw->oas 36, ias 32 (T8020 type), PARAMS1 16K",
    hw: { variant: "t8103", ...K16 },
    fmt: IoPgtableFmt.APPLE_DART,
    pgsize: SZ_16K,
    ias: 32,
    oas: 36,
    nTtbrs: 1,
    nLevels: 3,
    streams: 16,
    ttbrCount: 4,
  },
  {
    rule: "t8103 with PARAMS1 4K: 2 table levels + 2 TTBR bits (4 TTBRs), dart_alloc_pgtable",
    hw: { variant: "t8103", pgsize: SZ_4K },
    fmt: IoPgtableFmt.APPLE_DART,
    pgsize: SZ_4K,
    ias: 32,
    oas: 36,
    nTtbrs: 4,
    nLevels: 3,
    streams: 16,
    ttbrCount: 4,
  },
  {
    rule: "t8103-usb4: max_sid_count 64, APPLE_DART 36-bit",
    hw: { variant: "t8103-usb4", ...K16 },
    fmt: IoPgtableFmt.APPLE_DART,
    pgsize: SZ_16K,
    ias: 32,
    oas: 36,
    nTtbrs: 1,
    nLevels: 3,
    streams: 64,
    ttbrCount: 4,
  },
  {
    rule: "t6000: APPLE_DART2, hw->oas 42, ias 32 (T6000 type)",
    hw: { variant: "t6000", ...K16 },
    fmt: IoPgtableFmt.APPLE_DART2,
    pgsize: SZ_16K,
    ias: 32,
    oas: 42,
    nTtbrs: 1,
    nLevels: 3,
    streams: 16,
    ttbrCount: 4,
  },
  {
    rule: "t8110: ias/oas from PARAMS3 VA/PA width, streams from PARAMS4, one TTBR",
    hw: { variant: "t8110", vaBits: 32, paBits: 42, numSids: 200, ...K16 },
    fmt: IoPgtableFmt.APPLE_DART2,
    pgsize: SZ_16K,
    ias: 32,
    oas: 42,
    nTtbrs: 1,
    nLevels: 3,
    streams: 200,
    ttbrCount: 1,
  },
  {
    rule: "t8110 VA width 42: four_level (ias > 36), 3 table levels + TTBR = 4",
    hw: { variant: "t8110", vaBits: 42, paBits: 42, ...K16 },
    fmt: IoPgtableFmt.APPLE_DART2,
    pgsize: SZ_16K,
    ias: 42,
    oas: 42,
    nTtbrs: 1,
    nLevels: 4,
    streams: 256,
    ttbrCount: 1,
  },
];

describe("apple_dart_finalize_domain: the io_pgtable_cfg per variant", () => {
  for (const r of ROWS)
    it(r.rule, () => {
      const dart = new AppleDart(r.hw);
      expect([dart.pgsize, dart.ias, dart.oas, dart.numStreams, dart.hw.ttbrCount]).toEqual([
        r.pgsize,
        r.ias,
        r.oas,
        r.streams,
        r.ttbrCount,
      ]);
      const d = dart.domainAllocPaging();
      const cfg = d.pgtblCfg!;
      expect(cfg.fmt).toBe(r.fmt);
      expect([cfg.pgsizeBitmap, cfg.ias, cfg.oas, cfg.quirks, cfg.coherentWalk, cfg.tlb]).toEqual([
        r.pgsize,
        r.ias,
        r.oas,
        0,
        true,
        null,
      ]);
      expect([cfg.appleDartCfg!.nTtbrs, cfg.appleDartCfg!.nLevels]).toEqual([r.nTtbrs, r.nLevels]);
      expect(d.pgsizeBitmap).toBe(r.pgsize);
      expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** r.ias - 1, forceAperture: true });
    });
});

describe("apple_dart_probe: PARAMS decoding and refusals", () => {
  it("PARAMS1[27:24] is the page shift, PARAMS2 bit 0 the bypass support", () => {
    const p = encodeDartParams({ pgsize: SZ_4K, bypass: false });
    expect(p.params1).toBe(12 << 24);
    expect(p.params2).toBe(0);
    const caps = probeDart(APPLE_DART_HW.t8103, { ...p, params1: 14 << 24, params2: 1 });
    expect([caps.pgsize, caps.supportsBypass]).toEqual([SZ_16K, true]);
  });

  it("T8110 reads ias from PARAMS3[21:16], oas from PARAMS3[29:24], streams from PARAMS4[8:0]", () => {
    const caps = probeDart(APPLE_DART_HW.t8110, {
      params1: 14 << 24,
      params2: 1,
      params3: (40 << 24) | (39 << 16) | 0x0102,
      params4: (3 << 16) | 77,
      lock: 0,
    });
    expect([caps.ias, caps.oas, caps.numStreams, caps.fourLevel]).toEqual([39, 40, 77, true]);
  });

  it("the other variants ignore PARAMS3/4: ias 32, oas from the match data", () => {
    const caps = probeDart(APPLE_DART_HW.t6000, {
      params1: 14 << 24,
      params2: 1,
      params3: 0xffff_ffff,
      params4: 0x1ff,
      lock: 0,
    });
    expect([caps.ias, caps.oas, caps.numStreams, caps.fourLevel]).toEqual([32, 42, 16, false]);
  });

  it("refuses more than DART_MAX_STREAMS streams (-EINVAL)", () => {
    expect(() => new AppleDart({ variant: "t8110", regs: { params4: 257 } })).toThrow(IommuError);
    expect(() => new AppleDart({ variant: "t8110", regs: { params4: 256 } })).not.toThrow();
  });

  it("apple_dart_hw_reset: a locked DART (CONFIG.LOCK / PROTECT.TTBR_TCR) refuses to probe", () => {
    for (const variant of ["t8103", "t6000", "t8110"] as const) {
      const e = (() => {
        try {
          new AppleDart({ variant, locked: true });
        } catch (err) {
          return err as IommuError;
        }
        return undefined;
      })();
      expect(e?.code, variant).toBe("EINVAL");
    }
    // The lock bit of the other layout does not lock it.
    expect(() => new AppleDart({ variant: "t8110", regs: { lock: 1 << 15 } })).not.toThrow();
    expect(() => new AppleDart({ variant: "t8103", regs: { lock: 1 } })).not.toThrow();
  });

  it("io-pgtable-dart refuses what the driver passes on: a T8110 PA width other than 36/42 → -ENOMEM", () => {
    const dart = new AppleDart({ variant: "t8110", paBits: 40, pageSize: SZ_16K });
    expect(dart.domainAllocPagingFlags(0)).toBe(-12);
    // ias above oas, too.
    expect(
      new AppleDart({ variant: "t8110", vaBits: 42, paBits: 36, pageSize: SZ_16K }).domainAllocPagingFlags(0),
    ).toBe(-12);
  });

  it("reset programs every stream's TCR to tcr_disabled and invalidates all streams once", () => {
    const dart = new AppleDart({ variant: "t8110", numSids: 5 });
    expect([...dart.tcr]).toEqual([0, 0, 0, 0, 0]);
    expect([dart.tlbFlushes, dart.tlbCommands]).toEqual([1, 5]);
    const old = new AppleDart({ variant: "t8103" });
    expect([old.tlbFlushes, old.tlbCommands]).toEqual([1, 1]);
    expect(old.tlbLog[0]!.sids).toHaveLength(16);
  });
});
