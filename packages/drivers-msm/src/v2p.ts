/**
 * The MSM IOMMU context bank's hardware V2P translation (what a write to V2PPR makes the
 * hardware table walker do before the driver reads PAR), modelled register-level: the
 * context's own walk of the ARMv7 short-descriptor tables at TTBR0, written independently of
 * io-pgtable-arm-v7s so the driver's hardware path can cross-check the format's software
 * walk. It reads the descriptor words from simulated memory itself (one `read32` per level,
 * counted as PTE reads) and builds PAR: output address bits 31:12 and the supersection flag
 * on success; FAULT with TF (or AFF) otherwise.
 *
 * Scope: TTBCR.N = 0 (TTBR0 covers all 4 GiB, as msm programs it), 32-bit output addresses
 * (the extended supersection PA bits 39:32 are ignored), privileged read (V2PPR): the
 * simplified-AP permissions never refuse a privileged read, so only translation and
 * access-flag faults occur. PAR's memory-attribute fields (MT, SH, NOS) are left 0.
 */
import type { IommuCounters, PhysMem } from "@iommu/core";
import {
  PAR_FAULT,
  PAR_FAULT_AFF,
  PAR_FAULT_TF,
  PAR_NOFAULT_NS,
  PAR_NOFAULT_PA,
  PAR_NOFAULT_SS,
  SCTLR_AFE,
} from "./regs.js";

/** TTBR0 bits 31:14: the 16 KiB-aligned first-level table (TTBCR.N = 0). */
const TTBR0_BASE = 0xffff_c000;
/** First-level descriptor: bits 31:10 of a coarse (second-level) table. */
const L1_TABLE_BASE = 0xffff_fc00;
/** Section / supersection bits. */
const L1_SUPERSECTION = 1 << 18;
const L1_NS = 1 << 19;
const L1_AP0 = 1 << 10;
const L2_AP0 = 1 << 4;

/**
 * One V2P translation of `va` (bits 31:12 used) through the tables at `ttbr0`: the PAR value.
 * `sctlr` supplies AFE (access-flag faults when an entry's AP[0] is clear).
 */
export function msmV2pTranslate(
  mem: PhysMem,
  ttbr0: number,
  sctlr: number,
  va: number,
  counters: IommuCounters,
): number {
  const v = va >>> 0;
  const d1 = mem.read32(((ttbr0 & TTBR0_BASE) >>> 0) + (v >>> 20) * 4) >>> 0;
  counters.pteReads++;
  let pa: number;
  let par = 0;
  switch (d1 & 3) {
    case 1: {
      const d2 = mem.read32(((d1 & L1_TABLE_BASE) >>> 0) + ((v >>> 12) & 0xff) * 4) >>> 0;
      counters.pteReads++;
      if ((d2 & 3) === 0) return PAR_FAULT | PAR_FAULT_TF;
      if (sctlr & SCTLR_AFE && !(d2 & L2_AP0)) return PAR_FAULT | PAR_FAULT_AFF;
      // Type 1: 64 KiB large page (bits 31:16); types 2/3: 4 KiB small page (bit 0 is XN).
      pa =
        (d2 & 3) === 1 ? ((d2 & 0xffff_0000) >>> 0) + (v & 0xffff) : ((d2 & 0xffff_f000) >>> 0) + (v & 0xfff);
      break;
    }
    case 2:
      if (sctlr & SCTLR_AFE && !(d1 & L1_AP0)) return PAR_FAULT | PAR_FAULT_AFF;
      if (d1 & L1_SUPERSECTION) {
        pa = ((d1 & 0xff00_0000) >>> 0) + (v & 0x00ff_ffff);
        par |= PAR_NOFAULT_SS;
      } else {
        pa = ((d1 & 0xfff0_0000) >>> 0) + (v & 0x000f_ffff);
      }
      if (d1 & L1_NS) par |= PAR_NOFAULT_NS;
      break;
    default:
      // 0: fault; 3: reserved without the PXN extension — a translation fault too.
      return PAR_FAULT | PAR_FAULT_TF;
  }
  return ((pa & PAR_NOFAULT_PA) | par) >>> 0;
}
