/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.{c,h}: the register side of an SMMUv1/v2 as the
 * driver's paging code touches it — one {@link ArmSmmuContextBank} per context bank (TCR,
 * TTBRs, the TLB maintenance registers, TLBSYNC/TLBSTATUS, ATS1PR/ATSR/PAR, the fault
 * registers) and the global TLBIVMID / sTLBGSYNC pair. Model-only "hardware": it counts
 * every register write the kernel would issue, runs ATS1PR with its own table walker
 * (ats-walk.ts) and can be made slow (ATSR stays ACTIVE) to exercise the driver's timeout.
 *
 * Counting is per register; a write log (register, value) is kept only when asked for
 * (`logCapacity`), so the hot TLBI paths allocate nothing.
 */
import type { PhysMem } from "@iommu/core";
import { type AtsResult, type AtsWalkRegs, atsWalk } from "./ats-walk.js";
import {
  ARM_SMMU_CB_ATSR_ACTIVE,
  ARM_SMMU_CB_S1_TLBIASID,
  ARM_SMMU_CB_S1_TLBIVA,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_S2_TLBIIPAS2,
  ARM_SMMU_CB_S2_TLBIIPAS2L,
  ARM_SMMU_CB_TLBSYNC,
  ARM_SMMU_GR0_sTLBGSYNC,
  ARM_SMMU_GR0_TLBIVMID,
  type ArmSmmuCtxFmt,
} from "./regs.js";

/** One logged register write. */
export interface ArmSmmuRegWrite {
  /** Context bank index, or -1 for the global register space. */
  readonly cb: number;
  /** Register offset (`ARM_SMMU_CB_*` / `ARM_SMMU_GR0_*`). */
  readonly reg: number;
  readonly value: bigint;
  /** 64-bit (writeq) or 32-bit (writel) access. */
  readonly wide: boolean;
}

/** TLB maintenance writes of one context bank (or of the global space), by register. */
export class ArmSmmuTlbiCounts {
  tlbiva = 0;
  tlbival = 0;
  tlbiasid = 0;
  tlbiipas2 = 0;
  tlbiipas2l = 0;
  /** TLBSYNC (context) writes. */
  tlbsync = 0;
  /** Global: TLBIVMID and sTLBGSYNC writes. */
  tlbivmid = 0;
  tlbgsync = 0;

  /** @internal Count `n` invalidation writes to `reg`. */
  add(reg: number, n = 1): void {
    switch (reg) {
      case ARM_SMMU_CB_S1_TLBIVA:
        this.tlbiva += n;
        break;
      case ARM_SMMU_CB_S1_TLBIVAL:
        this.tlbival += n;
        break;
      case ARM_SMMU_CB_S1_TLBIASID:
        this.tlbiasid += n;
        break;
      case ARM_SMMU_CB_S2_TLBIIPAS2:
        this.tlbiipas2 += n;
        break;
      case ARM_SMMU_CB_S2_TLBIIPAS2L:
        this.tlbiipas2l += n;
        break;
      case ARM_SMMU_GR0_TLBIVMID:
        this.tlbivmid += n;
        break;
    }
  }

  /** Total invalidation writes (syncs excluded). */
  get invalidations(): number {
    return this.tlbiva + this.tlbival + this.tlbiasid + this.tlbiipas2 + this.tlbiipas2l + this.tlbivmid;
  }

  reset(): void {
    this.tlbiva = this.tlbival = this.tlbiasid = this.tlbiipas2 = this.tlbiipas2l = 0;
    this.tlbsync = this.tlbivmid = this.tlbgsync = 0;
  }
}

/** `struct arm_smmu_cb` plus the registers the model keeps for one context bank. */
export class ArmSmmuContextBank implements AtsWalkRegs {
  /** Programmed (arm_smmu_write_context_bank) or disabled (`cfg == NULL`). */
  enabled = false;
  ctxFmt: Exclude<ArmSmmuCtxFmt, "none"> = "aarch64";
  stage1 = true;
  tcr = 0;
  tcr2 = 0;
  /** TTBR0/TTBR1 as written (ASID in [63:48] for long-descriptor S1). */
  ttbr0 = 0n;
  ttbr1 = 0n;
  ttbr0Base = 0;
  ttbr1Base = 0;
  mem: PhysMem | null = null;
  /** PAR (two 32-bit halves) after the last ATS1PR. */
  parLo = 0;
  parHi = 0;
  /** Fault registers (FSR, FAR, FSYNR0) and GR1 CBFRSYNRA of this bank. */
  fsr = 0;
  far: number | bigint = 0;
  fsynr0 = 0;
  cbfrsynra = 0;
  /** RESUME writes (value of the last one). */
  resumes = 0;
  lastResume = 0;
  /** Model knob: microseconds an ATS1PR keeps ATSR.ACTIVE set (Infinity: never completes). */
  atsLatencyUs = 0;
  /** ATS1PR operations started, ATSR reads, and the descriptors the hardware walker read. */
  ats1pr = 0;
  atsrReads = 0;
  atsWalkReads = 0;
  readonly tlbi = new ArmSmmuTlbiCounts();
  private readonly ats: AtsResult = { parLo: 0, parHi: 0, reads: 0 };

  constructor(
    readonly index: number,
    private readonly hw: ArmSmmuHw,
  ) {}

  /** A TLBI write (`arm_smmu_cb_write{,q}`): counted; logged when the log is on. */
  tlbiWrite(reg: number, value: number | bigint, wide: boolean): void {
    this.tlbi.add(reg);
    this.hw.totals.add(reg);
    if (this.hw.logging) this.hw.log(this.index, reg, value, wide);
    if (reg === ARM_SMMU_CB_S1_TLBIASID) this.hw.onTlbInvalidateAll?.();
  }

  /** `n` writes to `reg` whose values nobody logs (the hot path of a range invalidation). */
  tlbiWriteN(reg: number, n: number): void {
    this.tlbi.add(reg, n);
    this.hw.totals.add(reg, n);
  }

  /** `__arm_smmu_tlb_sync` on this bank: TLBSYNC, then TLBSTATUS reads until GSACTIVE clears. */
  tlbSync(): void {
    this.tlbi.tlbsync++;
    this.hw.totals.tlbsync++;
    if (this.hw.logging) this.hw.log(this.index, ARM_SMMU_CB_TLBSYNC, 0xffff_ffffn, false);
  }

  /**
   * Write ATS1PR: start a stage-1 privileged-read translation of `va` (bits [11:0] clear).
   * Returns the number of descriptors the walk read.
   */
  writeAts1pr(va: number | bigint): number {
    this.ats1pr++;
    atsWalk(this, va, this.ats);
    this.atsWalkReads += this.ats.reads;
    this.hw.atsWalkReads += this.ats.reads;
    this.parLo = this.ats.parLo;
    this.parHi = this.ats.parHi;
    return this.ats.reads;
  }

  /** Read ATSR `elapsedUs` after the ATS1PR write: ACTIVE until the operation's latency passed. */
  readAtsr(elapsedUs: number): number {
    this.atsrReads++;
    return elapsedUs < this.atsLatencyUs ? ARM_SMMU_CB_ATSR_ACTIVE : 0;
  }
}

/** Model-only: the SMMU's register file (context banks and the global TLB registers). */
export class ArmSmmuHw {
  readonly cbs: ArmSmmuContextBank[];
  /** Global-space counts (TLBIVMID, sTLBGSYNC) and the sum of every bank's. */
  readonly totals = new ArmSmmuTlbiCounts();
  /** Descriptors read by ATS1PR walks on every bank. */
  atsWalkReads = 0;
  /** Called on every whole-context or whole-VMID invalidation (the qcom TBU model drops its stale entries). */
  onTlbInvalidateAll: (() => void) | undefined;
  private readonly writes: ArmSmmuRegWrite[] = [];

  constructor(
    numContextBanks: number,
    private readonly logCapacity = 0,
  ) {
    this.cbs = Array.from({ length: numContextBanks }, (_, i) => new ArmSmmuContextBank(i, this));
  }

  /** Whether register writes are being logged. */
  get logging(): boolean {
    return this.logCapacity > 0;
  }

  /** @internal Append to the write log (oldest dropped past the capacity). */
  log(cb: number, reg: number, value: number | bigint, wide: boolean): void {
    if (this.writes.length >= this.logCapacity) this.writes.shift();
    this.writes.push({ cb, reg, value: BigInt(value), wide });
  }

  /** The logged writes, oldest first. */
  writeLog(): readonly ArmSmmuRegWrite[] {
    return this.writes;
  }

  /** `arm_smmu_gr0_write(TLBIVMID)` */
  tlbiVmid(vmid: number): void {
    this.totals.add(ARM_SMMU_GR0_TLBIVMID);
    if (this.logging) this.log(-1, ARM_SMMU_GR0_TLBIVMID, vmid, false);
    this.onTlbInvalidateAll?.();
  }

  /** `arm_smmu_tlb_sync_global`: sTLBGSYNC, then sTLBGSTATUS polling. */
  tlbSyncGlobal(): void {
    this.totals.tlbgsync++;
    if (this.logging) this.log(-1, ARM_SMMU_GR0_sTLBGSYNC, 0xffff_ffffn, false);
  }

  /** Reset every count and the log (the registers keep their values). */
  resetCounts(): void {
    this.totals.reset();
    this.atsWalkReads = 0;
    this.writes.length = 0;
    for (const cb of this.cbs) {
      cb.tlbi.reset();
      cb.ats1pr = cb.atsrReads = cb.atsWalkReads = 0;
    }
  }
}
