// drivers/iommu/fsl_pamu_domain.c: `struct fsl_dma_domain` and `fsl_pamu_ops`. An UNMANAGED
// domain with no page table and no map/unmap ops: the PAMU only confines DMA to the aperture
// [0, 2^36 − 1] and passes it through untranslated, so the lookup (iova_to_phys_length since
// the series; the legacy `fsl_pamu_iova_to_phys` op is gone) is the identity inside the
// aperture and unmapped outside.

import {
  type Addr,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IommuDriver,
  offOf,
  type PhysLength,
  pfnOf,
} from "@iommu/core";
import { PAACE_NUMBER_ENTRIES, PAMU_WINDOW_BITS, Paact } from "./fsl-pamu.js";
import { fslPamuIovaToPhysRuns } from "./fsl-pamu-runs.js";

const EINVAL = -22;
const ENODEV = -19;
const ENOMEM = -12;
const EOPNOTSUPP = -95;

/** `(1ULL << 36) − 1`: the aperture end of every PAMU domain. */
export const FSL_PAMU_APERTURE_END = 2 ** PAMU_WINDOW_BITS - 1;
const APERTURE = 2 ** PAMU_WINDOW_BITS;
const TOP = 2 ** 64;

/** A device behind the PAMU: its `fsl,liodn` property (absent = undefined). */
export interface FslPamuDevice {
  readonly liodns?: readonly number[];
}

/** `struct fsl_dma_domain` */
export class FslDmaDomain implements IommuDomain {
  type = IOMMU_DOMAIN_UNMANAGED;
  ops: IommuDomainOps | null;
  /** No `pgsize_bitmap`: the core refuses map and unmap (WARN, -ENODEV / 0). */
  pgsizeBitmap = 0;
  geometry: IommuDomainGeometry = {
    apertureStart: 0,
    apertureEnd: FSL_PAMU_APERTURE_END,
    forceAperture: true,
  };
  counters: IommuCounters;
  /** `dma_domain->stash_id` (`~0` = none). */
  stashId = 0xffffffff;
  /** `dma_domain->devices`: the LIODNs attached. */
  readonly liodns = new Set<number>();
  readonly pamu: FslPamu;

  constructor(pamu: FslPamu, ops: IommuDomainOps, counters: IommuCounters) {
    this.pamu = pamu;
    this.ops = ops;
    this.counters = counters;
  }
}

/**
 * `fsl_pamu_iova_to_phys()` as the series' iova_to_phys_length: inside the aperture the IOVA is mapped to itself with
 * length 2^36 — the whole aperture is one naturally aligned unit, so a caller crosses it in one
 * step; `mapped` tells IOVA 0 (phys 0) from a hole. Outside: unmapped, with the largest aligned
 * block that avoids the aperture (2^36 from 2^36, 2^37 from 2^37, … 2^63 from 2^63).
 */
export function fslPamuIovaToPhysLength(d: FslDmaDomain, iova: Addr, out: PhysLength): void {
  d.counters.pteReads++;
  const pfn = pfnOf(iova);
  if (pfn < APERTURE / 4096) {
    out.setMapped(pfn, offOf(iova), APERTURE);
    return;
  }
  // The largest power of two 2^k ≥ 2^36 with iova in [m·2^k, (m+1)·2^k) and m ≥ 1: 2^fls(iova).
  let len = APERTURE;
  while (len * 2 < TOP && pfn >= (len * 2) / 4096) len *= 2;
  out.setUnmapped(len);
}

/** `fsl_pamu_domain_free()`: detach every device (their PAACEs become invalid). */
export function fslPamuDomainFree(d: FslDmaDomain): void {
  for (const liodn of d.liodns) d.pamu.paact.disable(liodn);
  d.liodns.clear();
}

/**
 * `fsl_pamu_ops.default_domain_ops`: attach, iova_to_phys_length (plus the model's run lookup)
 * and free. The kernel table has no map_pages/unmap_pages; the model's ops type requires them, so
 * they are stubs the core never reaches (it stops at the empty pgsize_bitmap first).
 */
function createOps(): IommuDomainOps<FslDmaDomain> {
  return {
    name: "fsl-pamu",
    mapPages: () => ENODEV,
    unmapPages: () => 0,
    iovaToPhysLength: fslPamuIovaToPhysLength,
    iovaToPhysRuns: fslPamuIovaToPhysRuns,
    free: fslPamuDomainFree,
    inspect: () => null,
  };
}

/** Model-only options of one PAMU. */
export interface FslPamuOptions {
  readonly name?: string;
  readonly counters?: IommuCounters;
}

/**
 * The PAMU and `fsl_pamu_ops`: `domain_alloc(IOMMU_DOMAIN_UNMANAGED)` only, attach by LIODN,
 * `capable(IOMMU_CAP_CACHE_COHERENCY)`.
 */
export class FslPamu implements IommuDriver<FslDmaDomain> {
  readonly name: string;
  /** No `pgsize_bitmap` in `fsl_pamu_ops`. */
  readonly pgsizeBitmap = 0;
  readonly paact = new Paact();
  readonly domainOps: IommuDomainOps<FslDmaDomain> = createOps();
  private readonly counters: IommuCounters | undefined;
  /** `dev_iommu_priv_get(dev)`: the domain each LIODN is attached to. */
  private readonly owner = new Map<number, FslDmaDomain>();

  constructor(options: FslPamuOptions = {}) {
    this.name = options.name ?? "fsl-pamu";
    this.counters = options.counters;
  }

  /** `fsl_pamu_capable()` */
  capable(cap: IommuCap): boolean {
    return cap === IOMMU_CAP_CACHE_COHERENCY;
  }

  /**
   * The core's `__iommu_domain_alloc()` over `fsl_pamu_domain_alloc()`: flags need
   * domain_alloc_paging_flags, which the PAMU lacks (-EOPNOTSUPP); any type but UNMANAGED makes
   * domain_alloc return NULL (-ENOMEM).
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): FslDmaDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    if ((options.type ?? IOMMU_DOMAIN_UNMANAGED) !== IOMMU_DOMAIN_UNMANAGED) return ENOMEM;
    return new FslDmaDomain(this, this.domainOps, options.counters ?? this.counters ?? new IommuCounters());
  }

  /**
   * `fsl_pamu_attach_device()`: -EINVAL without an `fsl,liodn` property; per LIODN, -EINVAL
   * at the first one ≥ PAACE_NUMBER_ENTRIES (those before it stay attached), else move it from
   * its old domain and program its PPAACE (window [0, 2^36), the domain's stash id).
   */
  attachDevice(d: FslDmaDomain, dev: FslPamuDevice): number {
    if (!dev.liodns) return EINVAL;
    for (const liodn of dev.liodns) {
      if (liodn < 0 || liodn >= PAACE_NUMBER_ENTRIES) return EINVAL;
      const old = this.owner.get(liodn);
      if (old && old !== d) {
        old.liodns.delete(liodn);
        this.paact.disable(liodn);
      }
      this.owner.set(liodn, d);
      d.liodns.add(liodn);
      this.paact.enable(liodn, d.stashId);
    }
    return 0;
  }

  /** `fsl_pamu_detach_device()` / blocking: its LIODNs' PAACEs become invalid. */
  detachDevice(d: FslDmaDomain, dev: FslPamuDevice): void {
    for (const liodn of dev.liodns ?? []) {
      if (this.owner.get(liodn) !== d) continue;
      this.owner.delete(liodn);
      d.liodns.delete(liodn);
      this.paact.disable(liodn);
    }
  }

  /**
   * `fsl_pamu_configure_l1_stash()`: set the domain's stash target (an L1 cache id, `~0`
   * invalid → -EINVAL) and reprogram every attached LIODN.
   */
  configureL1Stash(d: FslDmaDomain, stashId: number): number {
    if (stashId >>> 0 === 0xffffffff) return EINVAL;
    d.stashId = stashId >>> 0;
    for (const liodn of d.liodns) this.paact.enable(liodn, d.stashId);
    return 0;
  }
}
