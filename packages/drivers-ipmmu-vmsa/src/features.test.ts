/**
 * What each SoC's feature table makes of an IPMMU and of its domains' io_pgtable_cfg
 * (ipmmu_probe → ipmmu_domain_init_context → ipmmu_domain_setup_context), one row per SoC
 * family, each naming the kernel rule it checks; and ipmmu_device_is_allowed().
 */
import { IommuError, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import { IO_PGTABLE_QUIRK_ARM_NS, IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { IPMMU_SOCS, ipmmuDeviceIsAllowed } from "./features.js";
import { IpmmuVmsa } from "./ipmmu-vmsa.js";
import { IMCTR, IMCTR_INTEN, IMCTR_MMUEN, IMMAIR0, IMTTBCR, IMTTLBR0, IMTTUBR0 } from "./regs.js";

interface Row {
  rule: string;
  soc: string;
  compatible: string;
  contexts: number;
  usable: number;
  utlbs: number;
  imttbcr: number;
  /** Offset of context 9's IMCTR in the root (ipmmu_ctx_reg), before the NS alias. */
  ctx9: number;
}

const ROWS: Row[] = [
  {
    rule: "R-Car Gen2 (ipmmu_features_default): 1 context, 32 uTLBs, NS alias, SL0 one-bit, cache_snoop SH/ORGN/IRGN",
    soc: "r8a7790",
    compatible: "renesas,ipmmu-vmsa",
    contexts: 1,
    usable: 1,
    utlbs: 32,
    imttbcr: 0x8000_0000 | (3 << 12) | (1 << 10) | (1 << 8) | (1 << 4),
    ctx9: 0x800 - 8 * 0x40 + 9 * 0x40,
  },
  {
    rule: "R-Car Gen3 (r8a7795): 8 contexts with context 0 reserved, 48 uTLBs, SL0 two-bit, no snoop",
    soc: "r8a7795",
    compatible: "renesas,ipmmu-r8a7795",
    contexts: 8,
    usable: 7,
    utlbs: 48,
    imttbcr: 0x8000_0000 | (2 << 6),
    ctx9: 0x800 - 8 * 0x40 + 9 * 0x40,
  },
  {
    rule: "RZ/G2 (r8a774e1) uses the Gen3 table",
    soc: "r8a774e1",
    compatible: "renesas,ipmmu-r8a774e1",
    contexts: 8,
    usable: 7,
    utlbs: 48,
    imttbcr: 0x8000_0000 | (2 << 6),
    ctx9: 0x800 - 8 * 0x40 + 9 * 0x40,
  },
  {
    rule: "R-Car V3U (r8a779a0, Gen4 table): 16 contexts (0 reserved), 64 uTLBs, ctx base 0x10000 stride 0x1040",
    soc: "r8a779a0",
    compatible: "renesas,ipmmu-r8a779a0",
    contexts: 16,
    usable: 15,
    utlbs: 64,
    imttbcr: 0x8000_0000 | (2 << 6),
    ctx9: 0x1_0000 + 0x800 - 8 * 0x40 + 9 * 0x1040,
  },
  {
    rule: "R-Car S4/V4H (r8a779f0/g0): rcar-gen4-ipmmu-vmsa",
    soc: "r8a779g0",
    compatible: "renesas,rcar-gen4-ipmmu-vmsa",
    contexts: 16,
    usable: 15,
    utlbs: 64,
    imttbcr: 0x8000_0000 | (2 << 6),
    ctx9: 0x1_0000 + 0x800 - 8 * 0x40 + 9 * 0x1040,
  },
];

describe("ipmmu_domain_init_context: the cfg and context registers per SoC", () => {
  for (const r of ROWS)
    it(r.rule, () => {
      const mmu = new IpmmuVmsa({ soc: r.soc });
      expect([mmu.compatible, mmu.numCtx, mmu.features.numUtlbs, mmu.freeContexts]).toEqual([
        r.compatible,
        r.contexts,
        r.utlbs,
        r.usable,
      ]);
      expect(mmu.root.ctxReg(9, IMCTR)).toBe(r.ctx9);
      const d = mmu.domainAllocPaging();
      expect(mmu.attachDev(d)).toBe(0);
      const cfg = d.pgtblCfg!;
      // Every SoC: ARM_32_LPAE_S1 with IO_PGTABLE_QUIRK_ARM_NS, 4K|2M|1G, ias 32, oas 40, not coherent.
      expect(cfg.fmt).toBe(IoPgtableFmt.ARM_32_LPAE_S1);
      expect([cfg.quirks, cfg.pgsizeBitmap, cfg.ias, cfg.oas, cfg.coherentWalk]).toEqual([
        IO_PGTABLE_QUIRK_ARM_NS,
        SZ_1G + SZ_2M + SZ_4K,
        32,
        40,
        false,
      ]);
      expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true });
      // The first free context: 1 where context 0 is reserved.
      expect(d.contextId).toBe(r.usable < r.contexts ? 1 : 0);
      const root = mmu.root;
      const ctx = d.contextId;
      expect(root.peekCtx(ctx, IMTTBCR)).toBe(r.imttbcr >>> 0);
      const ttbr = cfg.armLpaeS1Cfg!.ttbr;
      expect(root.peekCtx(ctx, IMTTLBR0)).toBe(Number(ttbr & 0xffff_ffffn));
      expect(root.peekCtx(ctx, IMTTUBR0)).toBe(Number(ttbr >> 32n));
      expect(root.peekCtx(ctx, IMMAIR0)).toBe(Number(cfg.armLpaeS1Cfg!.mair & 0xffff_ffffn));
      expect(root.peekCtx(ctx, IMCTR)).toBe(IMCTR_INTEN | IMCTR_MMUEN);
      // uTLB 0 translates through the context (TTSEL | MMUEN; FLUSH is a command bit, stored as written).
      expect(mmu.peekUtlbCtr(0)).toBe((ctx << 4) | 3);
      expect(mmu.utlbCtx[0]).toBe(ctx);
    });

  it("Gen3/Gen4 leaves share the IPMMU-MM's contexts; the MM itself is not registered", () => {
    const mm = new IpmmuVmsa({ soc: "r8a7795", main: true });
    const a = new IpmmuVmsa({ soc: "r8a7795", root: mm, name: "ipmmu-ds0" });
    const b = new IpmmuVmsa({ soc: "r8a7795", root: mm, name: "ipmmu-hc" });
    expect(mm.registered).toBe(false);
    expect(() => mm.master()).toThrow(IommuError);
    expect([a.root, b.root]).toEqual([mm, mm]);
    const da = a.domainAllocPaging();
    const db = b.domainAllocPaging();
    expect([a.attachDev(da), b.attachDev(db)]).toEqual([0, 0]);
    expect([da.contextId, db.contextId]).toEqual([1, 2]);
    expect(mm.freeContexts).toBe(5);
    expect(() => new IpmmuVmsa({ soc: "r8a77965", root: mm })).toThrow(IommuError);
  });

  it("an unknown SoC does not probe", () => {
    expect(() => new IpmmuVmsa({ soc: "r8a0000" })).toThrow(IommuError);
  });
});

describe("ipmmu_device_is_allowed (ipmmu_of_xlate)", () => {
  const allowed = (soc: string, revision: string, name: string, pci: boolean) =>
    ipmmuDeviceIsAllowed(IPMMU_SOCS[soc]!, revision, { name, pci });

  it("Gen2 / RZ/G1: every device (not in soc_needs_opt_in)", () => {
    expect(allowed("r8a7790", "ES1.0", "e6700000.dma-controller", false)).toBe(true);
    expect(allowed("r8a7743", "ES1.0", "foo", false)).toBe(true);
  });

  it("soc_denylist: r8a774a1, r8a7795 ES2.x, r8a7796 — nothing, PCI included", () => {
    expect(allowed("r8a774a1", "ES1.0", "x", true)).toBe(false);
    expect(allowed("r8a7795", "ES2.0", "x", true)).toBe(false);
    expect(allowed("r8a7796", "ES3.0", "ee100000.mmc", false)).toBe(false);
    expect(allowed("r8a7795", "ES3.0", "x", true)).toBe(true);
  });

  it("Gen3/Gen4/RZ/G2 otherwise: PCI devices and devices_allowlist (the SDHI controllers)", () => {
    expect(allowed("r8a77965", "ES1.0", "ee140000.mmc", false)).toBe(true);
    expect(allowed("r8a77965", "ES1.0", "e6800000.ethernet", false)).toBe(false);
    expect(allowed("r8a779g0", "ES1.0", "0000:01:00.0", true)).toBe(true);
    expect(() =>
      new IpmmuVmsa({ soc: "r8a77965" }).master({ name: "e6800000.ethernet", pci: false }),
    ).toThrow(IommuError);
  });

  it("a micro-TLB beyond num_utlbs is refused (model guard: the kernel would index past utlb_ctx[])", () => {
    expect(() => new IpmmuVmsa().master({ utlbs: [32] })).toThrow(IommuError);
    expect(new IpmmuVmsa({ soc: "r8a7795" }).master({ utlbs: [47] }).utlbs).toEqual([47]);
  });
});
