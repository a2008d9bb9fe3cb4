/**
 * drivers/iommu/apple-dart.c: `struct apple_dart_domain` and the driver's
 * `default_domain_ops` — io-pgtable's forwarding ops plus the DART's own TLB maintenance
 * (every iotlb_sync, flush_iotlb_all and iotlb_sync_map invalidates the domain's streams
 * whole) and the two places where the driver differs from the shared null guards.
 */
import {
  type Addr,
  type IommuDomainOps,
  IommuError,
  type IotlbGather,
  type PhysLength,
  type PhysRunCollector,
  type TableAllocator,
  U64_LIMIT,
} from "@iommu/core";
import {
  freeIoPgtableOps,
  type IoPgtableCfg,
  type IoPgtableDomain,
  ioPgtableDomainOps,
} from "@iommu/io-pgtable";
import type { AppleDart } from "./apple-dart.js";

/**
 * `struct apple_dart_atomic_stream_map`: one DART of the domain and the stream IDs attached
 * through it (`sidmap`, one byte per stream).
 */
export interface AppleDartDomainStreamMap {
  readonly dart: AppleDart;
  readonly sidmap: Uint8Array;
}

/** `struct apple_dart_domain`. `pgtblOps` is null until the domain is finalized, and after free. */
export interface AppleDartDomain extends IoPgtableDomain {
  /** The DART instance whose ops table the domain has (the one that allocated it). */
  readonly owner: AppleDart;
  /** `finalized`: the page table exists (first attach, or allocation with a device). */
  finalized: boolean;
  /** `stream_maps[]`: the DARTs (at most MAX_DARTS_PER_DEVICE) and streams the domain flushes. */
  streamMaps: AppleDartDomainStreamMap[];
  /** The io_pgtable_cfg after the format filled it (n_ttbrs, ttbr[], n_levels), once finalized. */
  pgtblCfg: Readonly<IoPgtableCfg> | null;
  /** Where the domain's page-table pages live. */
  readonly allocator: TableAllocator;
}

/**
 * `apple_dart_domain_flush_tlb`: every DART of the domain invalidates the TLB of all the
 * domain's streams (`hw->invalidate_tlb`), whatever was unmapped: there is no range or page
 * invalidation. Counted as one `flushAll` per DART invalidated.
 */
export function appleDartDomainFlushTlb(d: AppleDartDomain): void {
  for (const sm of d.streamMaps) {
    d.counters.flushAll++;
    sm.dart.invalidateTlb(sm.sidmap);
  }
}

/** A kernel oops (NULL `pgtbl_ops` dereferenced), as an error the model can throw. */
export function nullOpsOops(d: AppleDartDomain, op: string, iova: Addr): never {
  d.counters.bugs++;
  throw new IommuError(
    "EFAULT",
    op,
    { iova },
    "NULL pointer dereference: pgtbl_ops is NULL before the domain is finalized (kernel oops)",
  );
}

/**
 * `apple_dart_unmap_pages`: unlike map and the lookup it does not check `pgtbl_ops`. The
 * core never gets here before finalize (pgsize_bitmap is still 0); a raw call would oops.
 */
function unmapPages(
  d: AppleDartDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const ops = d.pgtblOps;
  if (!ops) nullOpsOops(d, "apple_dart_unmap_pages", iova);
  return ops.unmapPages(iova, pgsize, pgcount, gather);
}

/**
 * `apple_dart_iova_to_phys` as the series' iova_to_phys_length (the legacy op is gone), with its
 * `if (!ops)` guard. Before finalize there is no table and pgsize_bitmap is 0, so nothing
 * translates — the whole IOVA space is one empty span (2^64), as for a blocked domain.
 */
function iovaToPhysLength(d: AppleDartDomain, iova: Addr, out: PhysLength): void {
  const ops = d.pgtblOps;
  if (!ops) {
    out.setUnmapped(U64_LIMIT);
    return;
  }
  ops.iovaToPhysLength(iova, out);
}

/** io-pgtable's forwarding members, for the delegations below. */
const shared = ioPgtableDomainOps<AppleDartDomain>("apple-dart");

/**
 * Model-only (issue 17): the run lookup, with iova_to_phys_length's guard — before finalize
 * the whole IOVA space is one hole of 2^64 — then io-pgtable DART's one descent (TTBR index
 * masking included, so runs alias exactly as the per-page lookup does).
 */
function iovaToPhysRuns(d: AppleDartDomain, runs: PhysRunCollector): void {
  if (!d.pgtblOps) {
    runs.hole(0, 2 ** 52, U64_LIMIT);
    return;
  }
  shared.iovaToPhysRuns!(d, runs);
}

/** `apple_dart_iotlb_sync_map`: a whole-stream invalidation after every map; returns 0. */
function iotlbSyncMap(d: AppleDartDomain): number {
  appleDartDomainFlushTlb(d);
  return 0;
}

/** `apple_dart_domain_free`: free the table (io-pgtable's flush_all has no callback: no flush). */
function free(d: AppleDartDomain): void {
  const ops = d.pgtblOps;
  if (!ops) return;
  freeIoPgtableOps(ops);
  d.pgtblOps = null;
}

/**
 * `apple_dart_iommu_ops.default_domain_ops` (paging members). The kernel has one static table
 * for every DART; here each {@link AppleDart} owns one, so ops identity also names the DART
 * (what VFIO compares to reuse a domain; the kernel's attach would refuse a foreign DART with
 * -EINVAL in apple_dart_mod_streams and land on the same result).
 */
export function createAppleDartDomainOps(name: string): IommuDomainOps<AppleDartDomain> {
  return ioPgtableDomainOps<AppleDartDomain>(name, {
    unmapPages,
    iovaToPhysLength,
    iovaToPhysRuns,
    iotlbSync: appleDartDomainFlushTlb,
    flushIotlbAll: appleDartDomainFlushTlb,
    iotlbSyncMap,
    free,
  });
}
