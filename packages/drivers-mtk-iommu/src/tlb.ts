/**
 * drivers/iommu/mtk_iommu.c: the M4U's TLB maintenance — `mtk_iommu_tlb_flush_all()` (bank 0
 * of one M4U) and `mtk_iommu_tlb_flush_range_sync()` (every M4U of the hardware list that is
 * runtime-active: range registers, then poll CPE_DONE for up to 1000 µs, falling back to a
 * full flush on timeout) — as register writes on a modelled bank, counted in the domain's
 * IommuCounters (`flushAll` per full flush, `flushRange` per range flush issued).
 */
import type { IommuCounters } from "@iommu/core";
import type { MtkIommu } from "./mtk-iommu.js";
import type { MtkIommuDomain } from "./mtk-iommu-domain.js";

/** `REG_MMU_PT_BASE_ADDR`: Register offsets of one bank. */
export const REG_MMU_PT_BASE_ADDR = 0x000;
/** `REG_MMU_INVALIDATE` */
export const REG_MMU_INVALIDATE = 0x020;
/** `F_ALL_INVLD` */
export const F_ALL_INVLD = 0x2;
/** `F_MMU_INV_RANGE` */
export const F_MMU_INV_RANGE = 0x1;
/** `REG_MMU_INVLD_START_A` */
export const REG_MMU_INVLD_START_A = 0x024;
/** `REG_MMU_INVLD_END_A` */
export const REG_MMU_INVLD_END_A = 0x028;
/** `F_INVLD_EN0` | `F_INVLD_EN1` */
export const F_INVLD_EN01 = 0x3;
/** `REG_MMU_CPE_DONE` */
export const REG_MMU_CPE_DONE = 0x12c;
/** `MTK_IOMMU_BANK_SZ`: each bank is a 4 KiB register window. */
export const MTK_IOMMU_BANK_SZ = 0x1000;
/** The CPE_DONE poll of a range flush: every 10 µs, for at most 1000 µs. */
export const MTK_IOMMU_TLB_SYNC_TIMEOUT_US = 1000;
/** Poll interval of `readl_poll_timeout_atomic` in the range flush. */
export const MTK_IOMMU_TLB_SYNC_POLL_US = 10;

/**
 * `MTK_IOMMU_TLB_ADDR(iova)`: the range register value — bits 31:12 of the IOVA with its
 * bits 63:32 OR-ed into the low bits (IOVA bits 33:32 land in register bits 1:0).
 */
export function mtkIommuTlbAddr(iova: number): number {
  const lo = iova % 2 ** 32;
  const hi = Math.floor(iova / 2 ** 32);
  return ((lo & 0xffff_f000) | hi) >>> 0;
}

/** `struct mtk_iommu_bank_data` with the registers the paging side writes. */
export class MtkIommuBank {
  /** `bank->m4u_dom`: the first domain attached through this bank (never cleared). */
  m4uDom: MtkIommuDomain | null = null;
  /** Last values written to REG_MMU_PT_BASE_ADDR, the invalidate-select, START_A and END_A. */
  ptBaseAddr = 0;
  invSel = 0;
  invldStartA = 0;
  invldEndA = 0;
  /** Last command written to REG_MMU_INVALIDATE (F_ALL_INVLD / F_MMU_INV_RANGE). */
  invalidate = 0;
  /** Range flushes issued / full flushes / CPE_DONE polls that timed out (model statistics). */
  rangeFlushes = 0;
  fullFlushes = 0;
  syncTimeouts = 0;
  /** Whether `mtk_iommu_hw_init()` ran for this bank. */
  hwInitDone = false;

  constructor(
    /** `bank->id` */
    readonly id: number,
    /** `bank->parent_data` */
    readonly parent: MtkIommu,
  ) {}
}

/** `mtk_iommu_tlb_flush_all(data)`: always through bank 0 of that M4U. */
export function mtkIommuTlbFlushAll(data: MtkIommu, counters: IommuCounters): void {
  const bank = data.banks[0]!;
  bank.invSel = F_INVLD_EN01;
  bank.invalidate = F_ALL_INVLD;
  data.recordTlb(0, REG_MMU_INVALIDATE, F_ALL_INVLD);
  bank.fullFlushes++;
  counters.flushAll++;
}

/**
 * `mtk_iommu_tlb_flush_range_sync(iova, size, bank)`: for every M4U on the bank's hardware
 * list, skipping those whose runtime PM is not in use (unless PM_CLK_AO), program the range
 * in the same-numbered bank and poll CPE_DONE; a timeout (model: `data.cpeDoneStuck`) logs
 * the kernel's dev_warn and falls back to {@link mtkIommuTlbFlushAll}.
 */
export function mtkIommuTlbFlushRangeSync(
  iova: number,
  size: number,
  bank: MtkIommuBank,
  counters: IommuCounters,
): void {
  for (const data of bank.parent.hwList.members) {
    if (!data.pmClkAlwaysOn && !data.runtimeActive) continue;
    const cur = data.banks[bank.id];
    if (!cur) continue; // a bank the other M4U does not enable: its base is unset
    cur.invSel = F_INVLD_EN01;
    cur.invldStartA = mtkIommuTlbAddr(iova);
    cur.invldEndA = mtkIommuTlbAddr(iova + size - 1);
    cur.invalidate = F_MMU_INV_RANGE;
    if (data.tlbLogging) {
      data.recordTlb(cur.id, REG_MMU_INVLD_START_A, cur.invldStartA);
      data.recordTlb(cur.id, REG_MMU_INVLD_END_A, cur.invldEndA);
      data.recordTlb(cur.id, REG_MMU_INVALIDATE, F_MMU_INV_RANGE);
    }
    cur.rangeFlushes++;
    counters.flushRange++;
    const done = data.pollCpeDone();
    data.recordTlb(cur.id, REG_MMU_CPE_DONE, done ? 1 : 0);
    if (done) continue;
    cur.syncTimeouts++;
    data.message("Partial TLB flush timed out, falling back to full flush");
    mtkIommuTlbFlushAll(data, counters);
  }
}
