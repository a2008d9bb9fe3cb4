/**
 * drivers/iommu/tegra-smmu.c (and include/soc/tegra/mc.h): the SMMU register offsets, the
 * page-directory / page-table entry bits and the per-SoC parameters the driver reads from
 * `struct tegra_smmu_soc` / `struct tegra_mc_soc`.
 */

/** `SMMU_CONFIG` register offset. */
export const SMMU_CONFIG = 0x010;
/** `SMMU_TLB_CONFIG` register offset. */
export const SMMU_TLB_CONFIG = 0x014;
/** `SMMU_PTC_CONFIG` register offset. */
export const SMMU_PTC_CONFIG = 0x018;
/** `SMMU_PTB_ASID` register offset: selects the ASID whose page directory PTB_DATA sets. */
export const SMMU_PTB_ASID = 0x01c;
/** `SMMU_PTB_DATA` register offset: page directory frame number and attributes. */
export const SMMU_PTB_DATA = 0x020;
/** `SMMU_TLB_FLUSH` register offset. */
export const SMMU_TLB_FLUSH = 0x030;
/** `SMMU_PTC_FLUSH` register offset. */
export const SMMU_PTC_FLUSH = 0x034;
/** `SMMU_PTC_FLUSH_HI` register offset (SoCs with more than 32 address bits). */
export const SMMU_PTC_FLUSH_HI = 0x9b8;

/** `SMMU_TLB_FLUSH_VA_MATCH_ALL` */
export const SMMU_TLB_FLUSH_VA_MATCH_ALL = 0;
/** `SMMU_TLB_FLUSH_VA_MATCH_SECTION` */
export const SMMU_TLB_FLUSH_VA_MATCH_SECTION = 2;
/** `SMMU_TLB_FLUSH_VA_MATCH_GROUP` */
export const SMMU_TLB_FLUSH_VA_MATCH_GROUP = 3;
/** `SMMU_TLB_FLUSH_ASID_MATCH` */
export const SMMU_TLB_FLUSH_ASID_MATCH = 0x8000_0000;
/** `SMMU_PTC_FLUSH_TYPE_ALL` */
export const SMMU_PTC_FLUSH_TYPE_ALL = 0;
/** `SMMU_PTC_FLUSH_TYPE_ADR` */
export const SMMU_PTC_FLUSH_TYPE_ADR = 1;
/** `SMMU_PTC_FLUSH_HI_MASK` */
export const SMMU_PTC_FLUSH_HI_MASK = 0x3;

/** `SMMU_NUM_PDE`: entries of the page directory (one per 4 MiB). */
export const SMMU_NUM_PDE = 1024;
/** `SMMU_NUM_PTE`: entries of a page table (one per 4 KiB). */
export const SMMU_NUM_PTE = 1024;
/** `SMMU_SIZE_PD`: bytes of the page directory. */
export const SMMU_SIZE_PD = SMMU_NUM_PDE * 4;
/** `SMMU_SIZE_PT`: bytes of a page table. */
export const SMMU_SIZE_PT = SMMU_NUM_PTE * 4;
/** `SMMU_PDE_SHIFT`: IOVA bits 31:22 index the page directory. */
export const SMMU_PDE_SHIFT = 22;
/** `SMMU_PTE_SHIFT`: IOVA bits 21:12 index a page table. */
export const SMMU_PTE_SHIFT = 12;

/** `SMMU_PD_READABLE` (also `SMMU_PDE_READABLE`, `SMMU_PTE_READABLE`): bit 31. */
export const SMMU_PTE_READABLE = 0x8000_0000;
/** `SMMU_PTE_WRITABLE` (and the PD/PDE bits of the same name): bit 30. */
export const SMMU_PTE_WRITABLE = 0x4000_0000;
/** `SMMU_PTE_NONSECURE` (and the PD/PDE bits of the same name): bit 29. */
export const SMMU_PTE_NONSECURE = 0x2000_0000;
/** `SMMU_PDE_NEXT`: bit 28, the PDE points to a page table. */
export const SMMU_PDE_NEXT = 0x1000_0000;
/** `SMMU_PDE_ATTR`: READABLE | WRITABLE | NONSECURE. */
export const SMMU_PDE_ATTR = (SMMU_PTE_READABLE | SMMU_PTE_WRITABLE | SMMU_PTE_NONSECURE) >>> 0;
/** `SMMU_PTE_READABLE | SMMU_PTE_WRITABLE | SMMU_PTE_NONSECURE`: the attribute bits of a PTE. */
export const SMMU_PTE_ATTR = SMMU_PDE_ATTR;

/** `SMMU_ASID_ENABLE` of the per-SWGROUP ASID register. */
export const SMMU_ASID_ENABLE = 0x8000_0000;
/** `SMMU_ASID_MASK` */
export const SMMU_ASID_MASK = 0x7f;

/** `tegra*_smmu_soc` (drivers/memory/tegra/tegra*.c): the SoCs whose parameters the model knows. */
export type TegraSoc = "tegra30" | "tegra114" | "tegra124" | "tegra132" | "tegra210";

/**
 * `struct tegra_smmu_soc` + `struct tegra_mc_soc` (the fields the SMMU code reads): the
 * hardware description a `TegraSmmu` is built from.
 */
export interface TegraSmmuSocInfo {
  /** `mc->soc->num_address_bits`: physical address bits; pfn_mask = 2^(bits − 12) − 1. */
  readonly numAddressBits: number;
  /** `smmu->soc->num_asids`: 4 (ASID in TLB_FLUSH bits 30:29) or 128 (bits 30:24). */
  readonly numAsids: number;
  /** `mc->soc->atom_size`: PTC flush granule in bytes. */
  readonly atomSize: number;
  /** `smmu->soc->num_tlb_lines` */
  readonly numTlbLines: number;
  /** `smmu->soc->supports_round_robin_arbitration` */
  readonly roundRobin: boolean;
  /** `smmu->soc->supports_request_limit` */
  readonly requestLimit: boolean;
}

/** `tegra*_smmu_soc` / `tegra*_mc_soc`: the values the upstream SoC files set. */
export const TEGRA_SMMU_SOCS: Readonly<Record<TegraSoc, TegraSmmuSocInfo>> = {
  tegra30: {
    numAddressBits: 32,
    numAsids: 4,
    atomSize: 16,
    numTlbLines: 16,
    roundRobin: false,
    requestLimit: false,
  },
  tegra114: {
    numAddressBits: 32,
    numAsids: 4,
    atomSize: 32,
    numTlbLines: 32,
    roundRobin: false,
    requestLimit: false,
  },
  tegra124: {
    numAddressBits: 34,
    numAsids: 128,
    atomSize: 32,
    numTlbLines: 32,
    roundRobin: true,
    requestLimit: true,
  },
  tegra132: {
    numAddressBits: 34,
    numAsids: 128,
    atomSize: 32,
    numTlbLines: 32,
    roundRobin: true,
    requestLimit: true,
  },
  tegra210: {
    numAddressBits: 34,
    numAsids: 128,
    atomSize: 32,
    numTlbLines: 48,
    roundRobin: true,
    requestLimit: true,
  },
};
