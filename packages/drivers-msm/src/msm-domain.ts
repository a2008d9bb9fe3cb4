/**
 * drivers/iommu/msm_iommu.c: `struct msm_priv` (the paging domain) and the driver's
 * `default_domain_ops`: map/unmap straight into the io-pgtable under `pgtlock`,
 * iotlb_sync_map as a TLBIVA run, no iotlb_sync, and — the series' op, this model's choice —
 * iova_to_phys_length as the io-pgtable's software walk, optionally cross-checked against the
 * **hardware** V2P translation (CTX_TLBIALL, V2PPR, PAR) that the pre-series legacy
 * `msm_iommu_iova_to_phys` op answered from (the op is gone with the series' last step).
 *
 * The kernel checks neither `priv->iop` nor `list_attached`: before the first attach (or
 * after the table was freed by a detach) it dereferences NULL / an empty list's head. The
 * model throws an {@link IommuError} `EFAULT` naming it.
 *
 * Hot paths allocate nothing: the hardware path leaves PAR in the context bank (and in a
 * module variable for the cross-check) instead of returning a record.
 */
import {
  type Addr,
  type IommuDomainOps,
  IommuError,
  type IotlbGather,
  type PhysLength,
  type PhysRunCollector,
  type SizeOut,
  type TableAllocator,
  toNumber,
} from "@iommu/core";
import { type IoPgtableCfg, type IoPgtableDomain, ioPgtableDomainOps } from "@iommu/io-pgtable";
import type { MsmIommu, MsmIommuMaster } from "./msm-iommu.js";
import { PAR_FAULT, PAR_NOFAULT_SS, V2PXX_VA } from "./regs.js";
import { msmFlushIotlbRange } from "./tlb.js";

/**
 * What `iovaToPhysLength` does (model option; the kernel has no such op yet):
 * - `"software"` (default): the io-pgtable's one walk — PA and leaf size, no TLB traffic;
 * - `"checked"`: the same walk, then the hardware V2P of the first attached context; a PA
 *   that differs, a supersection flag on a leaf that is not 16M, or a hardware fault on a
 *   mapped IOVA (or a translation of an unmapped one) is a WARN.
 */
export type MsmLengthMode = "software" | "checked";

/** `struct msm_priv`. */
export interface MsmPriv extends IoPgtableDomain {
  /** `priv->list_attached`: newest first (list_add). */
  readonly listAttached: MsmIommu[];
  /** `priv->cfg` as the last attach built it (null before). */
  cfg: IoPgtableCfg | null;
  /** `priv->dev`: the master of the last attach. */
  dev: MsmIommuMaster | null;
  readonly allocator: TableAllocator;
  readonly lengthMode: MsmLengthMode;
  /** Model-only: io-pgtable's calls into msm_iommu_flush_ops (tools report them). */
  readonly tlbCallbacks: { flushAll: number; flushWalk: number; addPage: number };
  /** Model-only: tables of earlier attaches, leaked by the next msm_iommu_domain_config(). */
  leakedTables: number;
  /** Model-only: `"checked"` lookups where the hardware disagreed with the table walk (each also a WARN). */
  v2pMismatches: number;
}

/** A `"checked"` lookup's disagreement: a WARN, also counted on the domain. */
function mismatch(d: MsmPriv, message: string): void {
  d.v2pMismatches++;
  d.counters.warn(message);
}

function nullDeref(op: string, what: string): IommuError {
  return new IommuError("EFAULT", op, {}, `NULL pointer dereference: ${what} (kernel oops)`);
}

/** `msm_iommu_map` */
function msmIommuMap(
  d: MsmPriv,
  iova: Addr,
  pa: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  const iop = d.pgtblOps;
  if (!iop) throw nullDeref("msm_iommu_map", "priv->iop is NULL");
  return iop.mapPages(iova, pa, pgsize, pgcount, prot, /* GFP_ATOMIC */ 0, mapped);
}

/** `msm_iommu_unmap` */
function msmIommuUnmap(
  d: MsmPriv,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const iop = d.pgtblOps;
  if (!iop) throw nullDeref("msm_iommu_unmap", "priv->iop is NULL");
  return iop.unmapPages(iova, pgsize, pgcount, gather);
}

/** `msm_iommu_sync_map`: TLBIVA every 4 KiB of the new mapping. */
function msmIommuSyncMap(d: MsmPriv, iova: number, size: number): number {
  msmFlushIotlbRange(d, iova, size, 0x1000, "flushRange");
  return 0;
}

/** The PAR of the last {@link msmIommuHwTranslate} (0 when it reached no context). */
let lastPar = 0;

/**
 * Model-only: the hardware V2P translation of the pre-series `msm_iommu_iova_to_phys` (the
 * series removed that op; since then only the `"checked"` cross-check of iova_to_phys_length
 * runs it): on the first attached IOMMU's master context — CTX_TLBIALL, V2PPR ← va & V2Pxx_VA,
 * then PAR: supersection → PA[31:24] | va[23:0], else PA[31:12] | va[11:0]; FAULT → 0. The
 * PAR stays in the context bank (`ctx.par`). An empty `list_attached` is the kernel's NULL
 * dereference (EFAULT, op `msm_iommu_iova_to_phys`).
 */
export function msmIommuHwTranslate(d: MsmPriv, iova: Addr): number {
  const iommu = d.listAttached[0];
  if (!iommu) throw nullDeref("msm_iommu_iova_to_phys", "list_first_entry() of an empty priv->list_attached");
  lastPar = 0;
  const ctx = iommu.context(iommu.master.num);
  if (!ctx) return 0;
  const va = toNumber(iova) % 2 ** 32;
  ctx.writeTlbiall();
  d.counters.flushAll++;
  const par = ctx.v2ppr((va & V2PXX_VA) >>> 0, d.counters);
  // Reading PAR waits for the translation, which the CTX_TLBIALL before it precedes.
  iommu.tlbDone();
  lastPar = par;
  if (par & PAR_FAULT) return 0;
  return par & PAR_NOFAULT_SS
    ? (((par & 0xff00_0000) >>> 0) | (va & 0x00ff_ffff)) >>> 0
    : (((par & 0xffff_f000) >>> 0) | (va & 0xfff)) >>> 0;
}

/**
 * iova_to_phys_length: the io-pgtable walk (the hardware cannot tell 4K/64K/1M apart: PAR
 * has only the supersection flag), cross-checked against the hardware in `"checked"` mode.
 */
function msmIommuIovaToPhysLength(d: MsmPriv, iova: Addr, out: PhysLength): void {
  const iop = d.pgtblOps;
  if (!iop) throw nullDeref("msm_iommu_iova_to_phys_length", "priv->iop is NULL");
  iop.iovaToPhysLength(iova, out);
  if (d.lengthMode !== "checked" || d.listAttached.length === 0) return;
  const phys = msmIommuHwTranslate(d, iova);
  const par = lastPar;
  const hwMapped = !(par & PAR_FAULT);
  if (out.mapped !== hwMapped) {
    mismatch(
      d,
      `msm_iommu: V2P ${hwMapped ? "translates" : "faults on"} an IOVA the table walk finds ${out.mapped ? "mapped" : "unmapped"}`,
    );
  } else if (out.mapped) {
    if (phys !== out.physNumber % 2 ** 32)
      mismatch(
        d,
        `msm_iommu: V2P PA 0x${phys.toString(16)} ≠ table walk PA 0x${out.physNumber.toString(16)}`,
      );
    if (!!(par & 0x2) !== (out.length === 0x100_0000))
      mismatch(
        d,
        `msm_iommu: V2P supersection flag ${par & 0x2 ? "set" : "clear"} for a 0x${out.length.toString(16)} leaf`,
      );
  }
}

/** io-pgtable's forwarding members, for the run lookup's delegation. */
const shared = ioPgtableDomainOps<MsmPriv>("msm");

/**
 * Model-only (issue 17): the run lookup — the v7s table's one descent, in every
 * {@link MsmLengthMode}. The hardware V2P path translates one page per request (after a
 * CTX_TLBIALL) and cannot tell leaf sizes apart, so it serves only the `"checked"`
 * cross-check of iova_to_phys_length. Same NULL `priv->iop` dereference.
 */
function msmIommuIovaToPhysRuns(d: MsmPriv, runs: PhysRunCollector): void {
  if (!d.pgtblOps) throw nullDeref("msm_iommu_iova_to_phys_runs", "priv->iop is NULL");
  shared.iovaToPhysRuns!(d, runs);
}

/** `msm_iommu_domain_free`: kfree only (the table is freed by the identity attach, if any). */
function msmIommuDomainFree(_d: MsmPriv): void {}

/** `msm_iommu_ops.default_domain_ops`, one per {@link MsmIommu} instance (ops identity = instance). */
export function createMsmDomainOps(name: string): IommuDomainOps<MsmPriv> {
  return ioPgtableDomainOps<MsmPriv>(name, {
    mapPages: msmIommuMap,
    unmapPages: msmIommuUnmap,
    iotlbSyncMap: msmIommuSyncMap,
    iovaToPhysLength: msmIommuIovaToPhysLength,
    iovaToPhysRuns: msmIommuIovaToPhysRuns,
    free: msmIommuDomainFree,
  });
}
