/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: `struct arm_smmu_domain` (paging) and the driver's
 * `default_domain_ops` on io-pgtable's domain-ops base — the forwarding map/unmap with the
 * kernel's `!ops` guards (the table only exists after the first attach), the TLB
 * maintenance of tlb.ts, and the lookup:
 *
 * - `iova_to_phys_length` (the series): PAR carries no leaf size, so the answer and the length
 *   always come from the io-pgtable walk (one walk, counted by the format). Where the kernel's
 *   pre-series `iova_to_phys` asked the hardware (ARM_SMMU_FEAT_TRANS_OPS on a stage-1 domain:
 *   `arm_smmu_iova_to_phys_hard`, ATS1PR / ATSR / PAR), the model still runs ATS1PR on the same
 *   IOVA and compares: a different page, or a fault where the walk found a mapping (or the
 *   reverse), is reported as a WARN — the two readings of one table must agree. An ATS timeout
 *   skips the check. The answer returned is the walk's. (`crossCheck: false` on the SMMU turns
 *   the hardware half off.) The legacy op and its PAR decode went with the series' last step.
 *
 * The lookup allocates nothing for number IOVAs (the PAR lands in the bank's two 32-bit
 * fields); only 64-bit-only IOVAs (TTBR1 tables) take BigInt paths.
 */
import {
  type Addr,
  ffs,
  type IommuDomainOps,
  type IotlbGather,
  type PhysLength,
  type PhysRunCollector,
  type TableAllocator,
} from "@iommu/core";
import {
  freeIoPgtableOps,
  type IommuFlushOps,
  type IoPgtableCfg,
  type IoPgtableDomain,
  ioPgtableDomainOps,
} from "@iommu/io-pgtable";
import type { ArmSmmu } from "./arm-smmu.js";
import type { ArmSmmuDomainStage } from "./context.js";
import {
  ARM_SMMU_CB_ATSR_ACTIVE,
  ARM_SMMU_CB_PAR_F,
  ARM_SMMU_FEAT_TRANS_OPS,
  type ArmSmmuCtxFmt,
} from "./regs.js";
import { armSmmuFlushIotlbAll, armSmmuIotlbSync } from "./tlb.js";

/** `struct arm_smmu_cfg`: the context bank a domain got at first attach. */
export interface ArmSmmuCfg {
  /** `cbndx`: the context bank (-1 before the first attach). */
  cbndx: number;
  /** S1: `asid` = cbndx; S2: `vmid` = cbndx + 1. */
  asid: number;
  vmid: number;
  /** `fmt`: the context format (`none` before the first attach). */
  ctxFmt: ArmSmmuCtxFmt;
  /** `flush_walk_prefer_tlbiasid` (set by some Qualcomm implementations). */
  flushWalkPreferTlbiasid: boolean;
}

/** `struct arm_smmu_domain` (paging side); `pgtblOps` is null until the first attach and after free. */
export interface ArmSmmuDomain extends IoPgtableDomain {
  /** The SMMU instance the domain was allocated from (its ops table). */
  readonly owner: ArmSmmu;
  /** `smmu_domain->smmu`: the SMMU it was finalised on, null until the first attach. */
  smmu: ArmSmmu | null;
  /** `smmu_domain->stage`: S1 at allocation; clamped to the hardware at first attach. */
  stage: ArmSmmuDomainStage;
  readonly cfg: ArmSmmuCfg;
  /** `smmu_domain->flush_ops` (null before the first attach). */
  flushOps: IommuFlushOps | null;
  /** `smmu_domain->pgtbl_quirks` (set_pgtable_quirks; applied at first attach). */
  pgtblQuirks: number;
  /** The io_pgtable_cfg as the format left it (null before the first attach). */
  pgtblCfg: Readonly<IoPgtableCfg> | null;
  /** Where the domain's page-table pages live. */
  readonly allocator: TableAllocator;
}

/** Poll step and timeout of the ATSR wait (`readl_poll_timeout_atomic(..., 5, 50)`). */
const ATSR_POLL_US = 5;
const ATSR_TIMEOUT_US = 50;

/**
 * Model-only: start ATS1PR on the domain's bank (`iova & ~0xfff`) and poll ATSR as the kernel's
 * pre-series `arm_smmu_iova_to_phys_hard` did; true when it completed. The model's clock is the
 * poll loop's: reads at 0, 5, …, 50 µs, then the timeout. The descriptors the SMMU's walker
 * reads are not the domain's `pteReads` (the cross-check is the model's, not the kernel's).
 */
function atsTranslate(d: ArmSmmuDomain, iova: Addr): boolean {
  const cb = d.smmu!.hw.cbs[d.cfg.cbndx]!;
  // va = iova & ~0xfff; a 64-bit write for AArch64 contexts, a 32-bit one otherwise.
  const va = typeof iova === "bigint" ? iova & ~0xfffn : iova - (iova % 0x1000);
  // The walker's descriptor reads land in the bank's `atsWalkReads`, not the domain's pteReads.
  cb.writeAts1pr(
    d.cfg.ctxFmt === "aarch64" ? va : typeof va === "bigint" ? Number(BigInt.asUintN(32, va)) : va % 2 ** 32,
  );
  for (let t = 0; ; t += ATSR_POLL_US) {
    if (!(cb.readAtsr(t) & ARM_SMMU_CB_ATSR_ACTIVE)) return true;
    if (t >= ATSR_TIMEOUT_US) return false;
  }
}

/** Whether the pre-series kernel asked the hardware for `d` (FEAT_TRANS_OPS and a stage-1 domain). */
function usesHardware(d: ArmSmmuDomain): boolean {
  return (d.smmu!.features & ARM_SMMU_FEAT_TRANS_OPS) !== 0 && d.stage === "s1";
}

/**
 * iova_to_phys_length: the io-pgtable walk (phys + leaf length; no table → unmapped, smallest
 * page), cross-checked against ATS1PR where the kernel would use the hardware (see the file
 * header). A disagreement is a WARN in the domain's counters.
 */
function iovaToPhysLength(d: ArmSmmuDomain, iova: Addr, out: PhysLength): void {
  const ops = d.pgtblOps;
  if (!ops) {
    out.setUnmapped(2 ** ffs(d.pgsizeBitmap));
    return;
  }
  ops.iovaToPhysLength(iova, out);
  if (!usesHardware(d) || !d.smmu!.crossCheck) return;
  if (!atsTranslate(d, iova)) return;
  const cb = d.smmu!.hw.cbs[d.cfg.cbndx]!;
  const fault = (cb.parLo & ARM_SMMU_CB_PAR_F) !== 0;
  // The full PAR PA[47:12] (not the kernel's 40-bit view): compare 4 KiB frames.
  const hwPfn = (cb.parHi & 0xffff) * 2 ** 20 + Math.floor(cb.parLo / 0x1000);
  if (fault === out.mapped || (!fault && hwPfn !== out.physPfn))
    d.counters.warn(
      `arm-smmu: iova_to_phys_length: ATS1PR and the table walk disagree at ${iova.toString(16)}` +
        ` (PAR ${fault ? "fault" : `pfn ${hwPfn.toString(16)}`}, walk ${out.mapped ? `pfn ${out.physPfn.toString(16)}` : "unmapped"})`,
    );
}

/** io-pgtable's forwarding members, for the run lookup's delegation. */
const shared = ioPgtableDomainOps<ArmSmmuDomain>("arm-smmu");

/**
 * Model-only (issue 17): the run lookup — the io-pgtable's one descent (LPAE, or v7s for
 * AArch32-S contexts) behind iova_to_phys_length's guard (no table before the first attach:
 * one hole of the smallest page). Always the software walk: ATS1PR translates one page per
 * request and PAR carries no leaf size, so the hardware path has no range form; unlike
 * iova_to_phys_length, runs are not cross-checked against it.
 */
function iovaToPhysRuns(d: ArmSmmuDomain, runs: PhysRunCollector): void {
  if (!d.pgtblOps) {
    runs.hole(0, 2 ** 52, 2 ** ffs(d.pgsizeBitmap));
    return;
  }
  shared.iovaToPhysRuns!(d, runs);
}

/** `arm_smmu_domain_free` → `arm_smmu_destroy_domain_context`: disable the bank, free the table, release the bank. */
function armSmmuDomainFree(d: ArmSmmuDomain): void {
  const smmu = d.smmu;
  if (!smmu) return;
  smmu.destroyDomainContext(d);
  if (d.pgtblOps) freeIoPgtableOps(d.pgtblOps);
  d.pgtblOps = null;
}

/**
 * `arm_smmu_ops.default_domain_ops` of one SMMU instance (the kernel has one static table;
 * one per instance here so ops identity also names the instance, as VFIO's domain reuse
 * needs): io-pgtable's forwarding map/unmap plus the driver's lookups, TLB maintenance and free.
 */
export function createArmSmmuDomainOps(name: string): IommuDomainOps<ArmSmmuDomain> {
  return ioPgtableDomainOps<ArmSmmuDomain>(name, {
    iovaToPhysLength,
    iovaToPhysRuns,
    iotlbSync: (d: ArmSmmuDomain, g: IotlbGather) => armSmmuIotlbSync(d, g),
    flushIotlbAll: armSmmuFlushIotlbAll,
    free: armSmmuDomainFree,
  });
}
