// drivers/iommu/mtk_iommu.c: the io_pgtable_cfg mtk_iommu_domain_finalise() derives for every SoC of mtk_iommu_of_ids[].
import { IommuError, SZ_1M, SZ_4K, SZ_16M, SZ_64K } from "@iommu/core";
import {
  type ArmV7sIoPgtable,
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  ioPgtableOpsToPgtable,
} from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { MtkIommu, mtkIommuPgtableCfg } from "./mtk-iommu.js";
import { MTK_IOMMU_PLAT_DATA, MTK_IOMMU_SOCS, type MtkIommuSoc } from "./plat-data.js";
import { setup } from "./testing/harness.js";

const BASE = IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS | IO_PGTABLE_QUIRK_ARM_MTK_EXT; // 0xb
const PA35 = BASE | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT; // 0x1b

/**
 * Expected cfg per SoC, written from the plat-data flags by hand. Rules (mtk_iommu_domain_finalise):
 * quirks = NS|NO_PERMS|MTK_EXT (+MTK_TTBR_EXT iff PGTABLE_PA_35_EN); ias = 34 iff IOVA_34_EN else 32;
 * oas = HAS_4GB_MODE ? (enable_4GB ? 33 : 32) : 35.
 */
const ROWS: ReadonlyArray<{
  soc: MtkIommuSoc;
  quirks: number;
  ias: number;
  oas: number;
  oas4g: number;
  why: string;
}> = [
  { soc: "mt2712", quirks: BASE, ias: 32, oas: 32, oas4g: 33, why: "HAS_4GB_MODE: oas 32/33" },
  { soc: "mt6779", quirks: PA35, ias: 32, oas: 35, oas4g: 35, why: "PGTABLE_PA_35_EN → MTK_TTBR_EXT" },
  { soc: "mt6795", quirks: BASE, ias: 32, oas: 32, oas4g: 33, why: "HAS_4GB_MODE" },
  { soc: "mt8167", quirks: BASE, ias: 32, oas: 35, oas4g: 35, why: "no 4GB mode: oas 35" },
  { soc: "mt8173", quirks: BASE, ias: 32, oas: 32, oas4g: 33, why: "HAS_4GB_MODE" },
  { soc: "mt8183", quirks: BASE, ias: 32, oas: 35, oas4g: 35, why: "plain MM M4U" },
  { soc: "mt8186", quirks: PA35, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN + PGTABLE_PA_35_EN" },
  { soc: "mt8188-infra", quirks: PA35, ias: 32, oas: 35, oas4g: 35, why: "infra, PGTABLE_PA_35_EN" },
  { soc: "mt8188-vdo", quirks: PA35, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN + PA_35" },
  { soc: "mt8188-vpp", quirks: PA35, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN + PA_35" },
  { soc: "mt8189-apu", quirks: PA35, ias: 34, oas: 35, oas4g: 35, why: "APU, IOVA_34_EN + PA_35" },
  { soc: "mt8189-infra", quirks: PA35, ias: 32, oas: 35, oas4g: 35, why: "infra, PA_35" },
  { soc: "mt8189-mm", quirks: PA35, ias: 34, oas: 35, oas4g: 35, why: "banks_num 5, IOVA_34_EN + PA_35" },
  { soc: "mt8192", quirks: BASE, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN only" },
  { soc: "mt8195-infra", quirks: BASE, ias: 32, oas: 35, oas4g: 35, why: "infra, 2 banks" },
  { soc: "mt8195-vdo", quirks: BASE, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN" },
  { soc: "mt8195-vpp", quirks: BASE, ias: 34, oas: 35, oas4g: 35, why: "IOVA_34_EN" },
  { soc: "mt8365", quirks: BASE, ias: 32, oas: 35, oas4g: 35, why: "plain" },
];

describe("mtk_iommu_domain_finalise cfg per SoC", () => {
  it("covers every probe-able SoC of the kernel table", () => {
    expect(ROWS.map((r) => r.soc).sort()).toEqual(MTK_IOMMU_SOCS.filter((s) => s !== "mt6893").sort());
  });

  for (const r of ROWS) {
    for (const enable4GB of [false, true]) {
      it(`${r.soc}${enable4GB ? " (infracfg 4GB bit set)" : ""}: ${r.why}`, () => {
        const oas = enable4GB ? r.oas4g : r.oas;
        expect(mtkIommuPgtableCfg(MTK_IOMMU_PLAT_DATA[r.soc], enable4GB)).toEqual({
          quirks: r.quirks,
          ias: r.ias,
          oas,
          pgsizeBitmap: SZ_4K | SZ_64K | SZ_1M | SZ_16M,
        });
        // The table the first attach builds carries exactly that cfg.
        const { m4u, d } = setup({ soc: r.soc, enable4GB });
        const iop = ioPgtableOpsToPgtable(d.pgtblOps!) as ArmV7sIoPgtable;
        expect({ quirks: iop.cfg.quirks, ias: iop.cfg.ias, oas: iop.cfg.oas }).toEqual({
          quirks: r.quirks,
          ias: r.ias,
          oas,
        });
        expect(iop.l1Entries).toBe(2 ** (r.ias - 20));
        expect(d.pgsizeBitmap).toBe(0x111_1000);
        expect(iop.cfg.coherentWalk).toBe(false);
        expect(iop.cfg.tlb ?? null).toBeNull();
        // MTK TTBR: the L1's PA with PA bits 34:32 in bits 2:0; the bank's PT_BASE holds it.
        expect(d.cfg!.armV7sCfg!.ttbr).toBe(iop.pgd >>> 0);
        expect(m4u.banks[0]!.ptBaseAddr).toBe(d.cfg!.armV7sCfg!.ttbr);
        expect(m4u.enable4GB).toBe(enable4GB && r.oas === 32);
      });
    }
  }

  it("mt6893: SHARE_PGTABLE with no hw_list — probe dereferences NULL (typed EFAULT)", () => {
    const e = (() => {
      try {
        new MtkIommu({ soc: "mt6893" });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(IommuError);
    expect((e as IommuError).code).toBe("EFAULT");
    expect((e as IommuError).op).toBe("mtk_iommu_probe");
  });

  it("pgtable above 4 GiB: MTK_TTBR_EXT puts PA bits 34:32 into TTBR bits 2:0", async () => {
    const { PhysMem, TableAllocator, IommuCounters } = await import("@iommu/core");
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { base: 0x5_0000_0000, counters });
    const pa35 = setup({ soc: "mt8186" }, { allocator, counters }).d;
    expect(pa35.cfg!.armV7sCfg!.ttbr).toBe(0x5);
    // Without PGTABLE_PA_35_EN the format refuses an L1 above 4 GiB: the attach fails -ENOMEM.
    const m4u = new MtkIommu({ soc: "mt8192" });
    const a2 = new TableAllocator(new PhysMem(), { base: 0x5_0000_0000 });
    expect(m4u.domainAllocPagingFlags(0, { allocator: a2 })).toBe(-12);
  });
});
