/**
 * drivers/iommu/ipmmu-vmsa.c: `struct ipmmu_vmsa_domain` and the driver's
 * `default_domain_ops`. map, unmap and iova_to_phys_length (the series' lookup; the legacy
 * `ipmmu_iova_to_phys` op is gone) go straight to `domain->iop` with no NULL check: before the first attach the kernel would oops, which the model reports as a typed
 * error (IommuError EFAULT, one `bugs`), unless the instance was built with `fixNullIop`.
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
} from "@iommu/core";
import {
  freeIoPgtableOps,
  type IoPgtableCfg,
  type IoPgtableDomain,
  ioPgtableDomainOps,
} from "@iommu/io-pgtable";
import { ipmmuDomainDestroyContext } from "./context.js";
import type { IpmmuVmsa } from "./ipmmu-vmsa.js";
import { ipmmuFlushIotlbAll } from "./tlb.js";

/** `struct ipmmu_vmsa_domain`; `pgtblOps` is `domain->iop` (null before the first attach). */
export interface IpmmuVmsaDomain extends IoPgtableDomain {
  /** The IPMMU whose ops table the domain has (the one that allocated it). */
  readonly owner: IpmmuVmsa;
  /** `domain->mmu`: the IPMMU of the first attached device; null until then. */
  mmu: IpmmuVmsa | null;
  /** `context_id` in the root IPMMU. */
  contextId: number;
  /** `domain->cfg` as the last init_context built it (null before). */
  pgtblCfg: Readonly<IoPgtableCfg> | null;
  /** Where the domain's page-table pages live. */
  readonly allocator: TableAllocator;
}

/** The kernel's NULL `domain->iop` dereference, as an error the model can throw. */
function oops(d: IpmmuVmsaDomain, op: string, iova: Addr): never {
  d.counters.bugs++;
  throw new IommuError(
    "EFAULT",
    op,
    { iova },
    "NULL pointer dereference: domain->iop is NULL before the first attach (kernel oops)",
  );
}

/** `ipmmu_map` */
function mapPages(
  d: IpmmuVmsaDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  gfp: number,
  mapped: SizeOut,
): number {
  const ops = d.pgtblOps;
  if (!ops) oops(d, "ipmmu_map", iova);
  return ops.mapPages(iova, paddr, pgsize, pgcount, prot, gfp, mapped);
}

/** `ipmmu_unmap` */
function unmapPages(
  d: IpmmuVmsaDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const ops = d.pgtblOps;
  if (!ops) oops(d, "ipmmu_unmap", iova);
  return ops.unmapPages(iova, pgsize, pgcount, gather);
}

/**
 * `ipmmu_iova_to_phys_length`: written the way the driver wrote its pre-series `iova_to_phys`
 * (no lock, no NULL check), forwarding to the table's iova_to_phys_length.
 */
function iovaToPhysLength(d: IpmmuVmsaDomain, iova: Addr, out: PhysLength): void {
  const ops = d.pgtblOps;
  if (!ops) oops(d, "ipmmu_iova_to_phys_length", iova);
  ops.iovaToPhysLength(iova, out);
}

/** io-pgtable's forwarding members, for the run lookup's delegation. */
const shared = ioPgtableDomainOps<IpmmuVmsaDomain>("ipmmu-vmsa");

/**
 * Model-only (issue 17): the run lookup, written the way the driver writes its lookup — no
 * NULL check, so before the first attach (no context, no table) it oopses like the lookups;
 * then the ARM_32_LPAE_S1 table's one descent.
 */
function iovaToPhysRuns(d: IpmmuVmsaDomain, runs: PhysRunCollector): void {
  if (!d.pgtblOps) oops(d, "ipmmu_iova_to_phys_runs", runs.startPfn * 4096);
  shared.iovaToPhysRuns!(d, runs);
}

/**
 * `ipmmu_domain_free`: disable and release the context, then free the table — whose
 * tlb_flush_all flushes the context just released (see README, known kernel quirks).
 */
function free(d: IpmmuVmsaDomain): void {
  ipmmuDomainDestroyContext(d);
  const ops = d.pgtblOps;
  if (ops) freeIoPgtableOps(ops);
  d.pgtblOps = null;
}

/**
 * `ipmmu_ops.default_domain_ops` (paging members) of one IPMMU instance (ops identity names
 * the instance, as for the other drivers). `fixNullIop` swaps in io-pgtable's guarded
 * forwarding (-ENODEV, 0 bytes, 0, unmapped) for the oopsing members.
 */
export function createIpmmuDomainOps(name: string, fixNullIop: boolean): IommuDomainOps<IpmmuVmsaDomain> {
  const driver = {
    iotlbSync: (d: IpmmuVmsaDomain) => ipmmuFlushIotlbAll(d),
    flushIotlbAll: ipmmuFlushIotlbAll,
    free,
  };
  return fixNullIop
    ? ioPgtableDomainOps<IpmmuVmsaDomain>(name, driver)
    : ioPgtableDomainOps<IpmmuVmsaDomain>(name, {
        mapPages,
        unmapPages,
        iovaToPhysLength,
        iovaToPhysRuns,
        ...driver,
      });
}
