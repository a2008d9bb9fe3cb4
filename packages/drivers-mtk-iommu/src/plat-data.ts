/**
 * drivers/iommu/mtk_iommu.c: `struct mtk_iommu_plat_data` — the per-SoC description the
 * driver's `of_device_id` table hands to probe: feature flags, IOVA regions (which larb/port
 * lands in which region), banks, and the TLB invalidate-select register generation. Values
 * are those of the kernel's tables (compatible `mediatek,<soc>-m4u` / `-iommu-<type>`).
 */
import { SZ_1G, SZ_4G, SZ_8M, SZ_512M } from "@iommu/core";

/** `HAS_4GB_MODE`: the M4U can run in "4GB mode" (DRAM seen at 0x1_0000_0000+). */
export const HAS_4GB_MODE = 1 << 0;
/** `HAS_BCLK`: the HW has its own "bclk" (else the EMI clock). */
export const HAS_BCLK = 1 << 1;
/** `HAS_VLD_PA_RNG`: a valid-PA-range register (programmed in 4GB mode). */
export const HAS_VLD_PA_RNG = 1 << 2;
/** `RESET_AXI` */
export const RESET_AXI = 1 << 3;
/** `OUT_ORDER_WR_EN` */
export const OUT_ORDER_WR_EN = 1 << 4;
/** `HAS_SUB_COMM_2BITS` */
export const HAS_SUB_COMM_2BITS = 1 << 5;
/** `HAS_SUB_COMM_3BITS` */
export const HAS_SUB_COMM_3BITS = 1 << 6;
/** `WR_THROT_EN` */
export const WR_THROT_EN = 1 << 7;
/** `HAS_LEGACY_IVRP_PADDR` */
export const HAS_LEGACY_IVRP_PADDR = 1 << 8;
/** `IOVA_34_EN`: 34-bit IOVAs (ias 34, 16 GiB of IOVA split into regions). */
export const IOVA_34_EN = 1 << 9;
/** `SHARE_PGTABLE`: two M4U HWs share one page table (their `hw_list` is a global list). */
export const SHARE_PGTABLE = 1 << 10;
/** `DCM_DISABLE` */
export const DCM_DISABLE = 1 << 11;
/** `STD_AXI_MODE` */
export const STD_AXI_MODE = 1 << 12;
/** `MTK_IOMMU_TYPE_MM` (2-bit type field at bit 13) */
export const MTK_IOMMU_TYPE_MM = 0 << 13;
/** `MTK_IOMMU_TYPE_INFRA` */
export const MTK_IOMMU_TYPE_INFRA = 1 << 13;
/** `MTK_IOMMU_TYPE_APU` */
export const MTK_IOMMU_TYPE_APU = 2 << 13;
/** `MTK_IOMMU_TYPE_MASK` */
export const MTK_IOMMU_TYPE_MASK = 3 << 13;
/** `PM_CLK_AO`: power and clock always on (no runtime-PM check before a range flush). */
export const PM_CLK_AO = 1 << 15;
/** `IFA_IOMMU_PCIE_SUPPORT` */
export const IFA_IOMMU_PCIE_SUPPORT = 1 << 16;
/** `PGTABLE_PA_35_EN`: page tables may sit above 4 GiB (IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT). */
export const PGTABLE_PA_35_EN = 1 << 17;
/** `TF_PORT_TO_ADDR_MT8173` */
export const TF_PORT_TO_ADDR_MT8173 = 1 << 18;
/** `INT_ID_PORT_WIDTH_6` */
export const INT_ID_PORT_WIDTH_6 = 1 << 19;
/** `CFG_IFA_MASTER_IN_ATF` */
export const CFG_IFA_MASTER_IN_ATF = 1 << 20;
/** `DL_WITH_MULTI_LARB` */
export const DL_WITH_MULTI_LARB = 1 << 21;

/** `MTK_IOMMU_HAS_FLAG(pdata, x)`: every bit of `x` set. */
export function mtkIommuHasFlag(plat: MtkIommuPlatData, x: number): boolean {
  return (plat.flags & x) === x;
}

/** `MTK_IOMMU_IS_TYPE(pdata, x)` */
export function mtkIommuIsType(plat: MtkIommuPlatData, x: number): boolean {
  return (plat.flags & MTK_IOMMU_TYPE_MASK) === x;
}

/** `MTK_IOMMU_BANK_MAX` */
export const MTK_IOMMU_BANK_MAX = 5;
/** `MTK_LARB_NR_MAX` (include/soc/mediatek/smi.h) */
export const MTK_LARB_NR_MAX = 32;

/** `struct mtk_iommu_iova_region` */
export interface MtkIommuIovaRegion {
  readonly iovaBase: number;
  readonly size: number;
}

/** `REG_MMU_INV_SEL_GEN1` / `REG_MMU_INV_SEL_GEN2`: where the invalidate-select register sits. */
export const REG_MMU_INV_SEL_GEN1 = 0x038;
/** `REG_MMU_INV_SEL_GEN2` */
export const REG_MMU_INV_SEL_GEN2 = 0x02c;

/** The hardware lists the kernel keeps per IOMMU type (`m4ulist`, `infralist`, `apulist`). */
export type MtkHwListName = "m4ulist" | "infralist" | "apulist";

/** `struct mtk_iommu_plat_data`, the paging-relevant part. */
export interface MtkIommuPlatData {
  /** The `of_device_id` compatible this entry is matched by. */
  readonly compatible: string;
  readonly flags: number;
  readonly invSelReg: number;
  /** `hw_list`: the global list SHARE_PGTABLE instances join (undefined = NULL in the table). */
  readonly hwList?: MtkHwListName;
  readonly iovaRegions: readonly MtkIommuIovaRegion[];
  /**
   * `iova_region_larb_msk[region][larb]`: port bitmask per larb of each region (absent for
   * single-region SoCs). Missing larbs are 0.
   */
  readonly iovaRegionLarbMsk?: readonly (readonly number[])[];
  readonly banksNum: number;
  readonly banksEnable: readonly boolean[];
  /** `banks_portmsk[bank]` */
  readonly banksPortmsk?: readonly number[];
}

/** `MTK_IOMMU_IOVA_SZ_4G`: 4 GiB minus an 8 MiB gap. */
export const MTK_IOMMU_IOVA_SZ_4G = SZ_4G - SZ_8M;

/** `single_domain[]` */
export const SINGLE_DOMAIN: readonly MtkIommuIovaRegion[] = [{ iovaBase: 0, size: MTK_IOMMU_IOVA_SZ_4G }];

/** `mt8192_multi_dom[]` on a 64-bit dma_addr_t kernel (MT8192_MULTI_REGION_NR = 6). */
export const MT8192_MULTI_DOM: readonly MtkIommuIovaRegion[] = [
  { iovaBase: 0, size: MTK_IOMMU_IOVA_SZ_4G }, // 0 ~ 4G
  { iovaBase: SZ_4G, size: MTK_IOMMU_IOVA_SZ_4G }, // 4G ~ 8G
  { iovaBase: SZ_4G * 2, size: MTK_IOMMU_IOVA_SZ_4G }, // 8G ~ 12G
  { iovaBase: SZ_4G * 3, size: MTK_IOMMU_IOVA_SZ_4G }, // 12G ~ 16G
  { iovaBase: 0x2_4000_0000, size: 0x400_0000 }, // CCU0
  { iovaBase: 0x2_4400_0000, size: 0x400_0000 }, // CCU1
];

/** `mt8189_multi_dom_apu[]` (64-bit dma_addr_t). */
export const MT8189_MULTI_DOM_APU: readonly MtkIommuIovaRegion[] = [
  { iovaBase: 0x20_0000, size: SZ_512M }, // APU SECURE
  { iovaBase: SZ_1G, size: 0xc000_0000 }, // APU CODE
  { iovaBase: 0x7000_0000, size: 0x1260_0000 }, // APU VLM
  { iovaBase: SZ_4G, size: SZ_4G * 3 }, // APU VPU
];

const ALL = 0xffff_ffff;
const B = (...bits: number[]) => bits.reduce((m, b) => (m | (1 << b)) >>> 0, 0);
/** Build a larb → port-mask row from `[larb, mask]` pairs. */
function row(pairs: ReadonlyArray<readonly [number, number]>): number[] {
  const r = new Array<number>(MTK_LARB_NR_MAX).fill(0);
  for (const [larb, m] of pairs) r[larb] = m >>> 0;
  return r;
}
function larbs(ids: readonly number[], mask = ALL): Array<readonly [number, number]> {
  return ids.map((l) => [l, mask] as const);
}

const MT8192_LARB_REGION_MSK = [
  row(larbs([0, 1])),
  row(larbs([4, 5, 7])),
  row([...larbs([2, 9, 11, 16, 17, 18, 19, 20]), [13, ~B(9, 10)], [14, ~B(4, 5)]]),
  row([]),
  row([[13, B(9, 10)]]),
  row([[14, B(4, 5)]]),
];

const MT8186_LARB_REGION_MSK = [
  row(larbs([0, 1, 2])),
  row(larbs([4, 7])),
  row([...larbs([8, 9, 11, 16, 17, 19, 20]), [13, ~B(9, 10)]]),
  row([]),
  row([[13, B(9, 10)]]),
  row([[14, ALL]]),
];

const MT8188_LARB_REGION_MSK = [
  row(larbs([0, 1, 2, 3])),
  row(larbs([21, 22, 23])),
  row(larbs([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 25])),
  row([]),
  row([[24, B(0, 1)]]),
  row([[24, B(2, 3)]]),
];

const MT8189_APU_REGION_MSK = [row([[0, B(2)]]), row([[0, B(1)]]), row([[0, B(3)]]), row([[0, B(0)]])];

const MT8189_LARB_REGION_MSK = [
  row([...larbs([0, 1, 2]), [22, B(0)]]),
  row(larbs([3, 4])),
  row(larbs([5, 6, 7, 8, 9, 10, 11, 12, 21])),
  // Regions 3..5 of MT8192_MULTI_REGION_NR_MAX are zero-initialised: never chosen.
  row([]),
  row([]),
  row([]),
];

const MT8195_LARB_REGION_MSK = [
  row(larbs([0, 1, 2, 3])),
  row(larbs([19, 20, 21, 22, 23, 24])),
  row(larbs([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 25, 26, 27, 28])),
  row([]),
  row([[18, B(0, 1)]]),
  row([[18, B(2, 3)]]),
];

const ONE_BANK = { banksNum: 1, banksEnable: [true] } as const;

/** Every `mtk_iommu_of_ids[]` entry, by SoC (the compatible's middle part). */
export const MTK_IOMMU_PLAT_DATA = {
  mt2712: {
    compatible: "mediatek,mt2712-m4u",
    flags: HAS_4GB_MODE | HAS_BCLK | HAS_VLD_PA_RNG | SHARE_PGTABLE | MTK_IOMMU_TYPE_MM,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  mt6779: {
    compatible: "mediatek,mt6779-m4u",
    flags: HAS_SUB_COMM_2BITS | OUT_ORDER_WR_EN | WR_THROT_EN | MTK_IOMMU_TYPE_MM | PGTABLE_PA_35_EN,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  mt6795: {
    compatible: "mediatek,mt6795-m4u",
    flags:
      HAS_4GB_MODE |
      HAS_BCLK |
      RESET_AXI |
      HAS_LEGACY_IVRP_PADDR |
      MTK_IOMMU_TYPE_MM |
      TF_PORT_TO_ADDR_MT8173,
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  // SHARE_PGTABLE without a hw_list: see the README's quirk `mt6893-no-hw-list`.
  mt6893: {
    compatible: "mediatek,mt6893-iommu-mm",
    flags:
      HAS_BCLK |
      OUT_ORDER_WR_EN |
      HAS_SUB_COMM_2BITS |
      WR_THROT_EN |
      IOVA_34_EN |
      SHARE_PGTABLE |
      MTK_IOMMU_TYPE_MM,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8192_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  mt8167: {
    compatible: "mediatek,mt8167-m4u",
    flags: RESET_AXI | HAS_LEGACY_IVRP_PADDR | MTK_IOMMU_TYPE_MM,
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  mt8173: {
    compatible: "mediatek,mt8173-m4u",
    flags:
      HAS_4GB_MODE |
      HAS_BCLK |
      RESET_AXI |
      HAS_LEGACY_IVRP_PADDR |
      MTK_IOMMU_TYPE_MM |
      TF_PORT_TO_ADDR_MT8173,
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  mt8183: {
    compatible: "mediatek,mt8183-m4u",
    flags: RESET_AXI | MTK_IOMMU_TYPE_MM,
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  mt8186: {
    compatible: "mediatek,mt8186-iommu-mm",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_2BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      MTK_IOMMU_TYPE_MM |
      PGTABLE_PA_35_EN,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8186_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8188-infra": {
    compatible: "mediatek,mt8188-iommu-infra",
    flags:
      WR_THROT_EN |
      DCM_DISABLE |
      STD_AXI_MODE |
      PM_CLK_AO |
      MTK_IOMMU_TYPE_INFRA |
      IFA_IOMMU_PCIE_SUPPORT |
      PGTABLE_PA_35_EN |
      CFG_IFA_MASTER_IN_ATF,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  "mt8188-vdo": {
    compatible: "mediatek,mt8188-iommu-vdo",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_3BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      SHARE_PGTABLE |
      PGTABLE_PA_35_EN |
      MTK_IOMMU_TYPE_MM,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8188_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8188-vpp": {
    compatible: "mediatek,mt8188-iommu-vpp",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_3BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      SHARE_PGTABLE |
      PGTABLE_PA_35_EN |
      MTK_IOMMU_TYPE_MM,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8188_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8189-apu": {
    compatible: "mediatek,mt8189-iommu-apu",
    flags: IOVA_34_EN | DCM_DISABLE | MTK_IOMMU_TYPE_APU | PGTABLE_PA_35_EN,
    hwList: "apulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8189_MULTI_DOM_APU,
    iovaRegionLarbMsk: MT8189_APU_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8189-infra": {
    compatible: "mediatek,mt8189-iommu-infra",
    flags:
      WR_THROT_EN |
      DCM_DISABLE |
      MTK_IOMMU_TYPE_INFRA |
      CFG_IFA_MASTER_IN_ATF |
      SHARE_PGTABLE |
      PGTABLE_PA_35_EN,
    hwList: "infralist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
  "mt8189-mm": {
    compatible: "mediatek,mt8189-iommu-mm",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_3BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      MTK_IOMMU_TYPE_MM |
      PGTABLE_PA_35_EN |
      DL_WITH_MULTI_LARB,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8189_LARB_REGION_MSK,
    banksNum: 5,
    banksEnable: [true, false, false, false, false],
  },
  mt8192: {
    compatible: "mediatek,mt8192-m4u",
    flags: HAS_BCLK | HAS_SUB_COMM_2BITS | OUT_ORDER_WR_EN | WR_THROT_EN | IOVA_34_EN | MTK_IOMMU_TYPE_MM,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8192_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8195-infra": {
    compatible: "mediatek,mt8195-iommu-infra",
    flags:
      WR_THROT_EN | DCM_DISABLE | STD_AXI_MODE | PM_CLK_AO | MTK_IOMMU_TYPE_INFRA | IFA_IOMMU_PCIE_SUPPORT,
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: SINGLE_DOMAIN,
    banksNum: 5,
    banksEnable: [true, false, false, false, true],
    // [0] PCIe: GENMASK(19, 16); [4] USB: GENMASK(31, 20)
    banksPortmsk: [0x000f_0000, 0, 0, 0, 0xfff0_0000],
  },
  "mt8195-vdo": {
    compatible: "mediatek,mt8195-iommu-vdo",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_2BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      SHARE_PGTABLE |
      MTK_IOMMU_TYPE_MM,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8195_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  "mt8195-vpp": {
    compatible: "mediatek,mt8195-iommu-vpp",
    flags:
      HAS_BCLK |
      HAS_SUB_COMM_3BITS |
      OUT_ORDER_WR_EN |
      WR_THROT_EN |
      IOVA_34_EN |
      SHARE_PGTABLE |
      MTK_IOMMU_TYPE_MM,
    hwList: "m4ulist",
    invSelReg: REG_MMU_INV_SEL_GEN2,
    iovaRegions: MT8192_MULTI_DOM,
    iovaRegionLarbMsk: MT8195_LARB_REGION_MSK,
    ...ONE_BANK,
  },
  mt8365: {
    compatible: "mediatek,mt8365-m4u",
    flags: RESET_AXI | INT_ID_PORT_WIDTH_6,
    invSelReg: REG_MMU_INV_SEL_GEN1,
    iovaRegions: SINGLE_DOMAIN,
    ...ONE_BANK,
  },
} as const satisfies Record<string, MtkIommuPlatData>;

/** A SoC (IOMMU instance kind) the model knows: a key of {@link MTK_IOMMU_PLAT_DATA}. */
export type MtkIommuSoc = keyof typeof MTK_IOMMU_PLAT_DATA;

/** The SoC names, in the kernel table's order. */
export const MTK_IOMMU_SOCS = Object.keys(MTK_IOMMU_PLAT_DATA) as MtkIommuSoc[];
