/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: context faults — `arm_smmu_read_context_fault_info()`
 * and the generic `arm_smmu_context_fault()` handler — plus a model-only way to raise one:
 * {@link armSmmuInjectContextFault} sets FSR/FAR/FSYNR0/CBFRSYNRA of the domain's bank as the
 * hardware would for a faulting transaction. Handlers return what they did; nothing prints.
 */
import { type Addr, negErrno } from "@iommu/core";
import type { ArmSmmuContextBank } from "./context-bank.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  ARM_SMMU_CB_FSR_FAULT,
  ARM_SMMU_CB_FSR_SS,
  ARM_SMMU_CB_FSR_TF,
  ARM_SMMU_CB_FSYNR0_WNR,
  ARM_SMMU_RESUME_TERMINATE,
} from "./regs.js";

/** `IOMMU_FAULT_READ` / `IOMMU_FAULT_WRITE` (include/linux/iommu.h). */
export const IOMMU_FAULT_READ = 0;
/** `IOMMU_FAULT_WRITE` */
export const IOMMU_FAULT_WRITE = 1;

/**
 * `report_iommu_fault()` as the domain's owner answers it: 0 (handled), -EAGAIN (retry a
 * stalled transaction), -EBUSY (keep it stalled), or -ENOSYS (no handler installed — the
 * default).
 */
export type ReportIommuFault = (d: ArmSmmuDomain, iova: Addr, flags: number) => number;

/** No fault handler installed: report_iommu_fault() returns -ENOSYS. */
export const noFaultHandler: ReportIommuFault = () => negErrno("ENOSYS");

/** A faulting transaction to raise on a domain's context bank. */
export interface ContextFaultSpec {
  iova: Addr;
  /** A write (FSYNR0.WNR). */
  write?: boolean;
  /** Stream ID of the master (GR1 CBFRSYNRA). */
  sid?: number;
  /** The transaction is stalled (FSR.SS): the handler must RESUME it. */
  stall?: boolean;
  /** FSR fault bits (default TF, a translation fault). */
  fsr?: number;
}

/** `struct arm_smmu_context_fault_info` */
export interface ArmSmmuContextFaultInfo {
  iova: Addr;
  fsr: number;
  fsynr: number;
  cbfrsynra: number;
}

/** Model-only: latch a fault in the domain's context bank registers (the domain must be attached). */
export function armSmmuInjectContextFault(d: ArmSmmuDomain, f: ContextFaultSpec): void {
  const cb = bankOf(d);
  cb.fsr = ((f.fsr ?? ARM_SMMU_CB_FSR_TF) | (f.stall ? ARM_SMMU_CB_FSR_SS : 0)) >>> 0;
  cb.far = f.iova;
  cb.fsynr0 = f.write ? ARM_SMMU_CB_FSYNR0_WNR : 0;
  cb.cbfrsynra = (f.sid ?? 0) & 0xffff;
}

/** @internal The attached domain's context bank. */
export function bankOf(d: ArmSmmuDomain): ArmSmmuContextBank {
  if (!d.smmu) throw new Error("arm-smmu: the domain has no context bank before its first attach");
  return d.smmu.hw.cbs[d.cfg.cbndx]!;
}

/** `arm_smmu_read_context_fault_info()` */
export function armSmmuReadContextFaultInfo(cb: ArmSmmuContextBank): ArmSmmuContextFaultInfo {
  return { iova: cb.far, fsr: cb.fsr, fsynr: cb.fsynr0, cbfrsynra: cb.cbfrsynra };
}

/** What a context-fault handler did. */
export interface ContextFaultOutcome {
  /** `IRQ_NONE` / `IRQ_HANDLED`. */
  irq: "none" | "handled";
  /** report_iommu_fault()'s answer (undefined when no fault was pending). */
  reported?: number;
  /** The handler wrote FSR back (clearing the fault). */
  fsrCleared: boolean;
  /** The RESUME value written (undefined: none). */
  resume?: number;
  /** The fault was printed (`arm_smmu_print_context_fault_info`). */
  printed: boolean;
}

/** @internal FSR write-1-to-clear. */
export function clearFsr(cb: ArmSmmuContextBank, fsr: number): void {
  cb.fsr = (cb.fsr & ~fsr) >>> 0;
}

/** @internal RESUME write. */
export function writeResume(cb: ArmSmmuContextBank, value: number): void {
  cb.resumes++;
  cb.lastResume = value;
}

/**
 * `arm_smmu_context_fault()`: nothing pending → IRQ_NONE; else report, print when nobody
 * handles it (-ENOSYS), clear FSR, and RESUME a stalled transaction (retry on -EAGAIN,
 * terminate otherwise).
 */
export function armSmmuContextFault(
  d: ArmSmmuDomain,
  report: ReportIommuFault = noFaultHandler,
): ContextFaultOutcome {
  const cb = bankOf(d);
  const cfi = armSmmuReadContextFaultInfo(cb);
  if (!(cfi.fsr & ARM_SMMU_CB_FSR_FAULT)) return { irq: "none", fsrCleared: false, printed: false };
  const ret = report(d, cfi.iova, cfi.fsynr & ARM_SMMU_CB_FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
  const printed = ret === negErrno("ENOSYS");
  clearFsr(cb, cfi.fsr);
  const out: ContextFaultOutcome = { irq: "handled", reported: ret, fsrCleared: true, printed };
  if (cfi.fsr & ARM_SMMU_CB_FSR_SS) {
    out.resume = ret === negErrno("EAGAIN") ? 0 : ARM_SMMU_RESUME_TERMINATE;
    writeResume(cb, out.resume);
  }
  return out;
}
