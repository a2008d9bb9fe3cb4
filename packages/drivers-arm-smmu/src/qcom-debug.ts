/**
 * drivers/iommu/arm/arm-smmu/arm-smmu-qcom-debug.c: the Qualcomm SMMU-500 context-fault
 * handler with TBUs described in DT (`qcom_smmu_context_fault`). Per fault it does one
 * software lookup on the io-pgtable directly, not the domain op — since the series the
 * io-pgtable's `iova_to_phys_length` (`ioPgtableIovaToPhys`: its phys, 0 when unmapped), which
 * the model counts as one walk in the domain's counters (kernel-callers.md §7 row 10) — and,
 * when the fault owner does not handle it, verifies it in hardware: an ATOS (ECATS) lookup
 * through the TBU's debug registers, before and after a full TLB invalidation.
 *
 * TBU quirks kept: the ATOS result is `FIELD_GET(GENMASK(47, 12), PAR)` — the page frame
 * number, not a byte address, and no in-page offset; a result of 0 (PA below 4 KiB, or a
 * failure) is retried up to three lookups; an interconnect-vote error is returned as if it
 * were the physical address. Nothing prints: the handler returns its findings.
 */
import { type Addr, negErrno } from "@iommu/core";
import { ioPgtableIovaToPhys, ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { type AtsResult, atsWalk } from "./ats-walk.js";
import {
  armSmmuReadContextFaultInfo,
  bankOf,
  type ContextFaultOutcome,
  clearFsr,
  IOMMU_FAULT_READ,
  IOMMU_FAULT_WRITE,
  noFaultHandler,
  type ReportIommuFault,
  writeResume,
} from "./context-fault.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  ARM_SMMU_CB_FSR_FAULT,
  ARM_SMMU_CB_FSR_SS,
  ARM_SMMU_CB_FSYNR0_WNR,
  ARM_SMMU_CB_PAR_F,
  ARM_SMMU_RESUME_TERMINATE,
} from "./regs.js";

/** `TBU_DBG_TIMEOUT_US` */
const TBU_DBG_TIMEOUT_US = 100;

/** Model-only: a TBU with its debug (ECATS) interface. */
export interface QcomTbuOptions {
  /** `qcom,stream-id-range`: first SID and count. */
  sidStart: number;
  sidCount: number;
  /** Microseconds an ATOS keeps ECATS_RUNNING set (default 0; above 100 the lookup times out). */
  atosLatencyUs?: number;
  /** The TBU never acknowledges the halt request (qcom_tbu_halt times out). */
  haltTimeout?: boolean;
  /** Errno (negative) icc_set_bw() returns for the TBU's interconnect path (default 0). */
  iccError?: number;
}

/** `struct qcom_tbu` (model: its debug registers' behaviour and counts). */
export class QcomTbu {
  readonly sidStart: number;
  readonly sidCount: number;
  atosLatencyUs: number;
  haltTimeout: boolean;
  iccError: number;
  /** `halt_count` */
  haltCount = 0;
  /** ATOS lookups triggered. */
  atos = 0;
  /**
   * Stale translations the TBU's TLB still holds (4 KiB VA frame → PA), as after a missed
   * invalidation; dropped by the next whole-context invalidation. Model knob for the
   * before/after-TLBIALL comparison.
   */
  readonly stale = new Map<number, number>();

  constructor(o: QcomTbuOptions) {
    this.sidStart = o.sidStart;
    this.sidCount = o.sidCount;
    this.atosLatencyUs = o.atosLatencyUs ?? 0;
    this.haltTimeout = o.haltTimeout ?? false;
    this.iccError = o.iccError ?? 0;
  }
}

/** What `qcom_smmu_context_fault` found and did for one fault. */
export interface QcomContextFaultOutcome extends ContextFaultOutcome {
  /** `phys_soft`: the io-pgtable `iova_to_phys_length` lookup's phys, 0 when unmapped (undefined on the no-TBU path, which does none). */
  physSoft?: Addr;
  /** `phys_atos`: the verified hardware answer — a PFN (see the file header); undefined when not run. */
  physAtos?: Addr;
  /** The dev_err lines the handler would have printed (rate limit ignored). */
  messages: string[];
}

/** The qcom implementation's fault path for one SMMU: its TBUs (the global `tbu_list`). */
export class QcomSmmuDebug {
  private readonly ats: AtsResult = { parLo: 0, parHi: 0, reads: 0 };

  constructor(readonly tbus: QcomTbu[] = []) {}

  /** `qcom_find_tbu`: the TBU whose SID range holds `sid`. */
  findTbu(sid: number): QcomTbu | undefined {
    return this.tbus.find((t) => t.sidStart <= sid && sid < t.sidStart + t.sidCount);
  }

  /** `qcom_tbu_trigger_atos`: one ECATS lookup; the PAR's PA[47:12] field (a PFN), or 0. */
  private triggerAtos(d: ArmSmmuDomain, tbu: QcomTbu, iova: Addr, msgs: string[]): number {
    tbu.atos++;
    // Busy-polled against ktime: the lookup completes unless it needs more than 100 µs.
    if (tbu.atosLatencyUs > TBU_DBG_TIMEOUT_US) {
      msgs.push("ATOS translation timed out!");
      return 0;
    }
    const frame = Math.floor(Number(typeof iova === "bigint" ? iova >> 12n : iova / 0x1000));
    const stale = tbu.stale.get(frame);
    if (stale !== undefined) return Math.floor(stale / 0x1000);
    atsWalk(bankOf(d), iova, this.ats);
    d.counters.pteReads += this.ats.reads;
    if (this.ats.parLo & ARM_SMMU_CB_PAR_F) {
      msgs.push("ATOS generated a fault interrupt!");
      return 0;
    }
    // FIELD_GET(GENMASK_ULL(47, 12), PAR)
    return (this.ats.parHi & 0xffff) * 2 ** 20 + Math.floor(this.ats.parLo / 0x1000);
  }

  /** `qcom_iova_to_phys` (through `qcom_smmu_iova_to_phys_hard`: SID from CBFRSYNRA). */
  iovaToPhysHard(d: ArmSmmuDomain, iova: Addr, msgs: string[] = []): Addr {
    const cb = bankOf(d);
    const tbu = this.findTbu(cb.cbfrsynra & 0xffff);
    if (!tbu) {
      msgs.push(`Unable to find TBU for sid 0x${(cb.cbfrsynra & 0xffff).toString(16)}`);
      return 0;
    }
    // `if (ret) return ret;` in a phys_addr_t function: the errno comes back as an address.
    if (tbu.iccError) return BigInt.asUintN(64, BigInt(tbu.iccError));
    // qcom_tbu_halt
    if (tbu.haltCount) tbu.haltCount++;
    else {
      if (tbu.haltTimeout) {
        msgs.push("Timeout while trying to halt TBU!");
        return 0;
      }
      tbu.haltCount = 1;
    }
    // CFCFG/CFIE off; a pending fault is cleared (and a stall terminated) first.
    if (cb.fsr & ARM_SMMU_CB_FSR_FAULT) {
      const fsr = cb.fsr;
      clearFsr(cb, fsr);
      if (fsr & ARM_SMMU_CB_FSR_SS) writeResume(cb, ARM_SMMU_RESUME_TERMINATE);
    }
    let phys = 0;
    let attempt = 0;
    do phys = this.triggerAtos(d, tbu, iova, msgs);
    while (!phys && attempt++ < 2);
    // qcom_tbu_resume
    if (!tbu.haltCount) d.counters.warn("qcom_tbu_resume: halt_count is 0");
    else tbu.haltCount--;
    return phys;
  }

  /** `qcom_smmu_verify_fault`: ATOS, a full TLB invalidation, ATOS again; the first non-zero answer. */
  verifyFault(d: ArmSmmuDomain, iova: Addr, msgs: string[]): Addr {
    const phys = this.iovaToPhysHard(d, iova, msgs);
    // io_pgtable_tlb_flush_all: the domain's flush ops; the TBUs drop what they cached.
    ioPgtableOpsToPgtable(d.pgtblOps!).cfg.tlb!.tlbFlushAll(d);
    for (const t of this.tbus) t.stale.clear();
    const post = this.iovaToPhysHard(d, iova, msgs);
    if (phys !== post)
      msgs.push(
        `ATOS results differed across TLBIALL... (before: ${phys.toString(16)} after: ${post.toString(16)})`,
      );
    return phys === 0 ? post : phys;
  }

  /** `qcom_smmu_context_fault` for the fault latched in `d`'s context bank. */
  contextFault(d: ArmSmmuDomain, report: ReportIommuFault = noFaultHandler): QcomContextFaultOutcome {
    const cb = bankOf(d);
    const cfi = armSmmuReadContextFaultInfo(cb);
    const messages: string[] = [];
    if (!(cfi.fsr & ARM_SMMU_CB_FSR_FAULT))
      return { irq: "none", fsrCleared: false, printed: false, messages };
    const flags = cfi.fsynr & ARM_SMMU_CB_FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ;
    if (this.tbus.length === 0) {
      const ret = report(d, cfi.iova, flags);
      clearFsr(cb, cfi.fsr);
      return {
        irq: "handled",
        reported: ret,
        fsrCleared: true,
        printed: ret === negErrno("ENOSYS"),
        messages,
      };
    }
    // The one software walk of the fault path: the io-pgtable's length op, not the domain's
    // (the format adds its PTE reads; the walk itself is counted here, once).
    d.counters.walks++;
    const physSoft = ioPgtableIovaToPhys(d.pgtblOps!, cfi.iova);
    const tmp = report(d, cfi.iova, flags);
    const out: QcomContextFaultOutcome = {
      irq: "handled",
      reported: tmp,
      fsrCleared: false,
      printed: false,
      physSoft,
      messages,
    };
    if (tmp !== 0 && tmp !== negErrno("EBUSY")) {
      const physAtos = this.verifyFault(d, cfi.iova, messages);
      out.physAtos = physAtos;
      out.printed = true;
      messages.push(`soft iova-to-phys=${physSoft.toString(16)}`);
      if (!physSoft)
        messages.push("SOFTWARE TABLE WALK FAILED! Looks like the device accessed an unmapped address!");
      messages.push(
        physAtos ? `hard iova-to-phys (ATOS)=${physAtos.toString(16)}` : "hard iova-to-phys (ATOS) failed",
      );
      out.irq = "none";
    }
    // -EBUSY keeps the transaction stalled and the fault outstanding.
    if (tmp !== negErrno("EBUSY")) {
      clearFsr(cb, cfi.fsr);
      out.fsrCleared = true;
      if (cfi.fsr & ARM_SMMU_CB_FSR_SS) {
        out.resume = ARM_SMMU_RESUME_TERMINATE;
        writeResume(cb, ARM_SMMU_RESUME_TERMINATE);
      }
    }
    return out;
  }
}
