// drivers/iommu/intel/iommu.c: one VT-d unit (`struct intel_iommu`) as an IommuDriver —
// capability decode, paging domain allocation on generic_pt (first stage x86_64 preferred,
// second stage vtdss otherwise) with the cfg the driver derives from CAP/ECAP, attach with
// domain-id allocation and the compatibility checks, and the iotlb_sync / flush_iotlb_all /
// iotlb_sync_map invalidation through cache tags (cache.ts).
import {
  type Addr,
  and64,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_ENFORCE_CACHE_COHERENCY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  type IotlbGather,
  negErrno,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
  toBigInt,
} from "@iommu/core";
import {
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_SIGN_EXTEND,
  PT_FEAT_VTDSS_FORCE_COHERENCE,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
  PT_FORMATS,
  type PtFormatName,
  ptDirtyOps,
  ptDomainOps,
  ptIommuInit,
} from "@iommu/generic-pt";
import { type CacheTagUnit, cacheTagFlushAll, cacheTagFlushRange, cacheTagFlushRangeNp } from "./cache.js";
import { DmarDomain, type DmarDomainStage } from "./domain.js";
import { IntelQi } from "./qi.js";
import { decodeVtdCap, decodeVtdEcap, type Reg64, type VtdCap, type VtdEcap } from "./regs.js";

/** `FLPT_DEFAULT_DID`: the id of SVA domains; paging domains get ids from `IDA_START_DID`. */
export const FLPT_DEFAULT_DID = 1;
/** `IDA_START_DID`: the first domain id `domain_attach_iommu` hands out. */
export const IDA_START_DID = 2;
/** `IOMMU_NO_PASID` */
export const IOMMU_NO_PASID = 0;

/** A VT-d unit's hardware and the kernel command line that shape its domains. */
export interface IntelIommuOptions {
  /** `iommu->name` (default `dmar0`). */
  readonly name?: string;
  /** CAP_REG (default {@link VTD_SPR_CAP}). */
  readonly cap?: Reg64;
  /** ECAP_REG (default {@link VTD_SPR_ECAP}). */
  readonly ecap?: Reg64;
  /** `intel_iommu=sm_on|sm_off` (`intel_iommu_sm`, default on). */
  readonly scalableMode?: boolean;
  /** `intel_iommu=sp_off` clears `intel_iommu_superpage` (default on). */
  readonly superpage?: boolean;
  /** `rwbf_quirk` (chipsets that need write-buffer flushes without CAP.RWBF). */
  readonly rwbfQuirk?: boolean;
  /** Page-table memory of every domain (default: a fresh allocator per domain). */
  readonly allocator?: TableAllocator;
}

/**
 * A Sapphire-Rapids-like unit's CAP_REG: 64K domain ids, 4/5-level second stage (SAGAW
 * 0b1100), MGAW 57, 2M+1G super-pages, PSI with MAMV 18, DRD/DWD, FL1GP, FL5LP.
 */
export const VTD_SPR_CAP = 0x11d2_008c_0038_0c06n;
/** Its ECAP_REG: C, QI, DT, SC, NEST, PASID, SMTS, SSADS, SSTS, FSTS, SMPWC. */
export const VTD_SPR_ECAP = 0x1_e900_0400_0087n;
/**
 * A legacy-mode (no scalable mode) server unit's CAP_REG: 64K domain ids, 4-level second
 * stage, MGAW 48, 2M+1G super-pages, PSI with MAMV 9.
 */
export const VTD_LEGACY_CAP = 0x9_008c_002f_0406n;
/** Its ECAP_REG: C, QI, DT, SC. */
export const VTD_LEGACY_ECAP = 0x87n;

/** `struct pt_iommu_x86_64_cfg` / `pt_iommu_vtdss_cfg` as the driver fills it. */
export interface IntelPtCfg {
  readonly format: PtFormatName;
  readonly stage: DmarDomainStage;
  readonly features: number;
  /** `common.hw_max_vasz_lg2` */
  readonly vaBits: number;
  /** `common.hw_max_oasz_lg2` */
  readonly oaBits: number;
  /** `top_level` */
  readonly level: number;
  /** Page sizes kept of the format's after init (`pgsize_bitmap &=`). */
  readonly pgsizeMask: number;
}

/** What cfg derivation reads of a unit. */
export interface IntelHw {
  readonly cap: VtdCap;
  readonly ecap: VtdEcap;
  /** `sm_supported()`: intel_iommu_sm && ECAP.SMTS. */
  readonly smSupported: boolean;
  /** `intel_iommu_superpage` */
  readonly superpage: boolean;
}

const EOPNOTSUPP = negErrno("EOPNOTSUPP");
const EINVAL = negErrno("EINVAL");
const ENOSPC = negErrno("ENOSPC");

/**
 * `intel_iommu_domain_alloc_first_stage`'s cfg: only in scalable mode with ECAP.FSTS and flags
 * ⊆ PASID (else -EOPNOTSUPP, and the caller tries the second stage). 4-level (48 bits) or,
 * with CAP.FL5LP, 5-level (57), both limited to MGAW; SIGN_EXTEND | FLUSH_RANGE, plus
 * DMA_INCOHERENT without ECAP.SMPWC; 1G only with CAP.FL1GP; 4K only with `sp_off`.
 */
export function intelFirstStageCfg(hw: IntelHw, flags: number): IntelPtCfg | number {
  if (flags & ~IOMMU_HWPT_ALLOC_PASID) return EOPNOTSUPP;
  if (!hw.smSupported || !hw.ecap.flts) return EOPNOTSUPP;
  const vaBits = Math.min(hw.cap.mgaw, hw.cap.fl5lp ? 57 : 48);
  let features = (1 << PT_FEAT_SIGN_EXTEND) | (1 << PT_FEAT_FLUSH_RANGE);
  if (!hw.ecap.smpwc) features |= 1 << PT_FEAT_DMA_INCOHERENT;
  let mask = SZ_4K | SZ_2M | SZ_1G;
  if (!hw.cap.fl1gp) mask &= ~SZ_1G;
  if (!hw.superpage) mask = SZ_4K;
  return {
    format: "x86_64",
    stage: "first",
    features,
    vaBits,
    oaBits: 52,
    level: vaBits > 48 ? 4 : 3,
    pgsizeMask: mask,
  };
}

/** The kernel's `ffs()`: 1-based lowest set bit, 0 for 0. */
function ffs1(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x & -x);
}

/**
 * `compute_vasz_lg2_ss`: the widest IOVA both MGAW and SAGAW allow and the table's top level —
 * MGAW > 48 with SAGAW ≥ 5-level: min(57, MGAW), top 4; MGAW > 39 with SAGAW ≥ 4-level:
 * min(48, MGAW), the lowest offered walk of ≥ 4 levels (`2 + ffs(SAGAW >> 2)`); MGAW > 30 with
 * SAGAW ≥ 3-level: min(39, MGAW), `1 + ffs(SAGAW >> 1)`; else 0 (init refuses: -EINVAL). A unit
 * that only walks 5 levels but has a 48-bit MGAW gets a 5-level table limited to 48 bits.
 */
export function intelSecondStageVasz(cap: VtdCap): { vaBits: number; topLevel: number } {
  const { mgaw, sagaw } = cap;
  if (mgaw > 48 && sagaw >= 0b1000) return { vaBits: Math.min(57, mgaw), topLevel: 4 };
  if (mgaw > 39 && sagaw >= 0b0100) return { vaBits: Math.min(48, mgaw), topLevel: 2 + ffs1(sagaw >> 2) };
  if (mgaw > 30 && sagaw >= 0b0010) return { vaBits: Math.min(39, mgaw), topLevel: 1 + ffs1(sagaw >> 1) };
  return { vaBits: 0, topLevel: 0 };
}

/**
 * `intel_iommu_domain_alloc_second_stage`'s cfg: flags ⊆ NEST_PARENT|DIRTY_TRACKING|PASID,
 * NEST_PARENT needs ECAP.NEST, DIRTY_TRACKING needs SSADS in scalable mode, scalable mode
 * needs ECAP.SSTS (legacy mode always has a second stage). FLUSH_RANGE, + FORCE_WRITEABLE on a
 * nest parent (erratum 772415_SPR17), + DMA_INCOHERENT when walks do not snoop (SMPWC in
 * scalable mode, C in legacy mode). Page sizes: 2M with SSLPS bit 0, 1G with bit 1; 4K only
 * with `sp_off`.
 */
export function intelSecondStageCfg(hw: IntelHw, flags: number): IntelPtCfg | number {
  const allowed = IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID;
  if (flags & ~allowed) return EOPNOTSUPP;
  if (flags & IOMMU_HWPT_ALLOC_NEST_PARENT && !hw.ecap.nest) return EOPNOTSUPP;
  if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING && !(hw.smSupported && hw.ecap.slads)) return EOPNOTSUPP;
  if (hw.smSupported && !hw.ecap.slts) return EOPNOTSUPP;
  let features = 1 << PT_FEAT_FLUSH_RANGE;
  if (flags & IOMMU_HWPT_ALLOC_NEST_PARENT) features |= 1 << PT_FEAT_VTDSS_FORCE_WRITEABLE;
  const coherent = hw.smSupported ? hw.ecap.smpwc : hw.ecap.coherent;
  if (!coherent) features |= 1 << PT_FEAT_DMA_INCOHERENT;
  let mask = SZ_4K | SZ_2M | SZ_1G;
  if (!(hw.cap.superPageVal & 1)) mask &= ~SZ_2M;
  if (!(hw.cap.superPageVal & 2)) mask &= ~SZ_1G;
  if (!hw.superpage) mask = SZ_4K;
  const { vaBits, topLevel } = intelSecondStageVasz(hw.cap);
  return {
    format: "vtdss",
    stage: "second",
    features,
    vaBits,
    oaBits: 52,
    level: topLevel,
    pgsizeMask: mask,
  };
}

/** `struct iommu_domain_info`: a domain's id on this unit and its attach count. */
interface DomainInfo {
  did: number;
  refcnt: number;
}

/**
 * `struct intel_iommu` of one DMAR unit: implements {@link IommuDriver}. Domains come back
 * unattached (`domain_alloc_paging_flags`); {@link attachDev} attaches a device, and
 * {@link forDevice} is the driver VFIO / iommufd see for one device (alloc + attach, as
 * `iommu_attach_group` does).
 */
export class IntelIommu implements IommuDriver<DmarDomain>, CacheTagUnit {
  readonly name: string;
  readonly capReg: bigint;
  readonly ecapReg: bigint;
  readonly cap: VtdCap;
  readonly ecap: VtdEcap;
  readonly hw: IntelHw;
  /** `rwbf_required()`: CAP.RWBF or the chipset quirk. */
  readonly rwbfRequired: boolean;
  /** The invalidation queue (descriptor counts and log). */
  readonly qi: IntelQi;
  /** `domain_ida`: domain ids in use. */
  private readonly dids = new Set<number>();
  private readonly infos = new Map<DmarDomain, DomainInfo>();
  /** Device name → its current domain. */
  private readonly deviceDomain = new Map<string, DmarDomain>();
  private readonly opts: IntelIommuOptions;
  private fsOps: IommuDomainOps<DmarDomain> | undefined;
  private ssOps: IommuDomainOps<DmarDomain> | undefined;
  private bitmap: number | undefined;

  constructor(options: IntelIommuOptions = {}) {
    this.opts = options;
    this.name = options.name ?? "dmar0";
    this.capReg = BigInt.asUintN(64, BigInt(options.cap ?? VTD_SPR_CAP));
    this.ecapReg = BigInt.asUintN(64, BigInt(options.ecap ?? VTD_SPR_ECAP));
    this.cap = decodeVtdCap(this.capReg);
    this.ecap = decodeVtdEcap(this.ecapReg);
    this.hw = {
      cap: this.cap,
      ecap: this.ecap,
      smSupported: (options.scalableMode ?? true) && this.ecap.smts,
      superpage: options.superpage ?? true,
    };
    this.rwbfRequired = this.cap.rwbf || (options.rwbfQuirk ?? false);
    this.qi = new IntelQi({ read: this.cap.readDrain, write: this.cap.writeDrain });
  }

  /** The default domain's page sizes (`domain_alloc_paging_flags(0)`). */
  get pgsizeBitmap(): number {
    if (this.bitmap === undefined) {
      const c = this.cfgFor(0);
      this.bitmap = typeof c === "number" ? 0 : c.pgsizeMask;
    }
    return this.bitmap;
  }

  /** `intel_iommu_capable` */
  capable(cap: IommuCap): boolean {
    switch (cap) {
      case IOMMU_CAP_CACHE_COHERENCY:
        return true;
      case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
        return this.ecap.sc;
      case IOMMU_CAP_DIRTY_TRACKING:
        return this.hw.smSupported && this.ecap.slads;
      default:
        return false;
    }
  }

  /** The cfg `domain_alloc_paging_flags(flags)` would build: first stage, else second stage. */
  cfgFor(flags: number): IntelPtCfg | number {
    const fs = intelFirstStageCfg(this.hw, flags);
    if (fs !== EOPNOTSUPP) return fs;
    return intelSecondStageCfg(this.hw, flags);
  }

  /**
   * `intel_iommu_domain_alloc_paging_flags`: a first-stage domain when the unit can (scalable
   * mode, FSTS, flags ⊆ PASID), else a second-stage one; the table is allocated now
   * (`pt_iommu_<fmt>_init`), there is no lazy allocation at attach. -EOPNOTSUPP, -EINVAL
   * (no usable address width) or -ENOMEM.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): DmarDomain | number {
    return this.allocWith(this.cfgFor(flags), flags, options);
  }

  /**
   * `intel_iommu_domain_alloc_first_stage` or `_second_stage` called directly (the driver's
   * own entry points, e.g. for a nest parent): -EOPNOTSUPP when the unit cannot build it.
   */
  domainAllocStage(
    stage: DmarDomainStage,
    flags = 0,
    options: IommuDomainAllocOptions = {},
  ): DmarDomain | number {
    const cfg = stage === "first" ? intelFirstStageCfg(this.hw, flags) : intelSecondStageCfg(this.hw, flags);
    return this.allocWith(cfg, flags, options);
  }

  private allocWith(
    cfg: IntelPtCfg | number,
    flags: number,
    options: IommuDomainAllocOptions,
  ): DmarDomain | number {
    if (typeof cfg === "number") return cfg;
    const counters = options.counters ?? new IommuCounters();
    const allocator = options.allocator ?? this.opts.allocator ?? new TableAllocator(undefined, { counters });
    let domain: DmarDomain | undefined;
    const pt = ptIommuInit(
      PT_FORMATS[cfg.format],
      {
        features: cfg.features,
        vaBits: cfg.vaBits,
        oaBits: cfg.oaBits,
        level: cfg.level,
        hasIommuDevice: true,
      },
      allocator,
      counters,
      { iotlbSync: (g) => this.iotlbSync(domain!, g) },
    );
    if (typeof pt === "number") return pt;
    domain = new DmarDomain(pt, cfg.stage, this.opsFor(cfg.stage), allocator);
    domain.pgsizeBitmap = and64(pt.pgsizeBitmap, cfg.pgsizeMask);
    domain.nestedParent = (flags & IOMMU_HWPT_ALLOC_NEST_PARENT) !== 0;
    if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) domain.dirtyOps = ptDirtyOps<DmarDomain>(cfg.format);
    domain.iotlbSyncMap =
      cfg.stage === "first" ? this.rwbfRequired : this.rwbfRequired || this.cap.cachingMode;
    if (options.type !== undefined) domain.type = options.type;
    return domain;
  }

  /** `domain_alloc_paging_flags(0)`, throwing {@link IommuError} on refusal. */
  domainAllocPaging(options?: IommuDomainAllocOptions): DmarDomain {
    const d = this.domainAllocPagingFlags(0, options);
    if (typeof d === "number") throw IommuError.fromReturn(d, "intel_iommu_domain_alloc_paging_flags");
    return d;
  }

  /**
   * `paging_domain_compatible_first_stage` / `_second_stage`: whether a domain built for some
   * unit can be attached through this one (0 or -EINVAL).
   */
  compatible(d: DmarDomain): number {
    const hw = this.hw;
    const coherent = hw.smSupported ? this.ecap.smpwc : this.ecap.coherent;
    const incoherent = d.pt.feature(PT_FEAT_DMA_INCOHERENT);
    if (d.stage === "first") {
      if (d.dirtyOps || d.nestedParent) {
        d.counters.warn(
          "paging_domain_compatible_first_stage: dirty tracking or nest parent on a first stage",
        );
        return EINVAL;
      }
      if (!hw.smSupported || !this.ecap.flts) return EINVAL;
      if (!this.cap.fl5lp && d.pt.maxVasz > 48) return EINVAL;
      if (!this.cap.fl1gp && d.pgsizeBitmap & SZ_1G) return EINVAL;
      if (this.rwbfRequired && !d.iotlbSyncMap) return EINVAL;
      if (!incoherent && !this.ecap.smpwc) return EINVAL;
      return 0;
    }
    if (d.dirtyOps && !(hw.smSupported && this.ecap.slads)) return EINVAL;
    if (d.nestedParent && !this.ecap.nest) return EINVAL;
    if (hw.smSupported && !this.ecap.slts) return EINVAL;
    if (!incoherent && !coherent) return EINVAL;
    if (this.cap.mgaw < d.pt.maxVasz) return EINVAL;
    // The table's AW (levels − 2) must be one SAGAW offers.
    if (!(this.cap.sagaw & (1 << (d.pt.topLevel - 1)))) return EINVAL;
    if (!(this.cap.superPageVal & 1) && d.pgsizeBitmap & SZ_2M) return EINVAL;
    if (!(this.cap.superPageVal & 2) && d.pgsizeBitmap & SZ_1G) return EINVAL;
    if ((this.rwbfRequired || this.cap.cachingMode) && !d.iotlbSyncMap) return EINVAL;
    if (d.pt.feature(PT_FEAT_VTDSS_FORCE_COHERENCE) && !this.ecap.sc) return EINVAL;
    return 0;
  }

  /**
   * `intel_iommu_attach_device`: block the device's current translation (detach), check
   * compatibility, take a domain id on this unit (`domain_attach_iommu`: lowest free from
   * IDA_START_DID, -ENOSPC when CAP.ND is exhausted) and add the IOTLB cache tag. 0 or -errno;
   * on failure the device is left blocked, as in the kernel.
   */
  attachDev(d: DmarDomain, dev = "dev0"): number {
    this.detachDev(dev);
    const ret = this.compatible(d);
    if (ret) return ret;
    let info = this.infos.get(d);
    if (!info) {
      let did = IDA_START_DID;
      while (this.dids.has(did)) did++;
      if (did > this.cap.ndoms - 1) return ENOSPC;
      this.dids.add(did);
      info = { did, refcnt: 0 };
      this.infos.set(d, info);
    }
    info.refcnt++;
    const tag = d.cacheTags.find(
      (t) => t.unit === this && t.domainId === info.did && t.pasid === IOMMU_NO_PASID,
    );
    if (tag) tag.users++;
    else d.cacheTags.push({ unit: this, domainId: info.did, pasid: IOMMU_NO_PASID, users: 1 });
    d.devices.add(dev);
    this.deviceDomain.set(dev, d);
    return 0;
  }

  /** `device_block_translation`: drop the device's cache tag and domain id reference. */
  detachDev(dev = "dev0"): void {
    const d = this.deviceDomain.get(dev);
    if (!d) return;
    this.deviceDomain.delete(dev);
    d.devices.delete(dev);
    const info = this.infos.get(d)!;
    const i = d.cacheTags.findIndex((t) => t.unit === this && t.domainId === info.did);
    if (i >= 0 && --d.cacheTags[i]!.users === 0) d.cacheTags.splice(i, 1);
    if (--info.refcnt === 0) {
      this.infos.delete(d);
      this.dids.delete(info.did);
    }
  }

  /** The domain id `d` has on this unit, or undefined when nothing is attached through it. */
  domainId(d: DmarDomain): number | undefined {
    return this.infos.get(d)?.did;
  }

  /**
   * `intel_iommu_enforce_cache_coherency_ss` / `_fs`: false unless every unit a device of the
   * domain is attached through has snoop control (ECAP.SC); then the second stage sets
   * `VTDSS_FORCE_COHERENCE` (SNP in every leaf mapped from now on — existing ones keep theirs)
   * and the first stage sets the PASID entries' page-snoop bit.
   */
  enforceCacheCoherency(d: DmarDomain): boolean {
    if (d.forceSnooping && d.stage === "first") return true;
    if (d.cacheTags.some((t) => !(t.unit as IntelIommu).ecap.sc)) return false;
    if (d.stage === "second") {
      d.pt.features |= 1 << PT_FEAT_VTDSS_FORCE_COHERENCE;
      // set_prot depends on the features: recompute the cached write attributes.
      d.pt.attrsProt = -1;
    }
    d.forceSnooping = true;
    return true;
  }

  /**
   * The unit as one device's driver: `domainAllocPagingFlags` allocates and attaches `dev`
   * (moving it off its previous domain), as `iommu_attach_group` follows the allocation for
   * VFIO type1 and iommufd. Use it as `attachGroup(group, { driver: iommu.forDevice() })`.
   */
  forDevice(dev = "dev0"): IommuDriver<DmarDomain> {
    const unit = this;
    return {
      name: this.name,
      get pgsizeBitmap() {
        return unit.pgsizeBitmap;
      },
      capable: (cap) => this.capable(cap),
      domainAllocPagingFlags: (flags, options) => {
        const d = this.domainAllocPagingFlags(flags, options);
        if (typeof d === "number") return d;
        const ret = this.attachDev(d, dev);
        if (ret) {
          d.ops.free?.(d);
          return ret;
        }
        return d;
      },
    };
  }

  /** `intel_iommu_tlb_sync`: flush the gathered range (IH when no table was freed), free the tables. */
  iotlbSync(d: DmarDomain, g: IotlbGather): void {
    const pt = d.pt;
    pt.syncCount++;
    if (g.endExcl !== 0) {
      const ih = g.freelist.length === 0 ? 1 : 0;
      cacheTagFlushRange(
        d.cacheTags,
        d.stage === "first",
        toBigInt(g.start),
        toBigInt(g.endExcl) - 1n,
        ih,
        d.counters,
      );
    }
    for (const pa of g.freelist) pt.freeTable(pa);
    g.freelist.length = 0;
  }

  private opsFor(stage: DmarDomainStage): IommuDomainOps<DmarDomain> {
    const existing = stage === "first" ? this.fsOps : this.ssOps;
    if (existing) return existing;
    const ops: IommuDomainOps<DmarDomain> = {
      ...ptDomainOps<DmarDomain>(stage === "first" ? "x86_64" : "vtdss"),
      name: stage === "first" ? "intel-fs-paging" : "intel-ss-paging",
      iotlbSync: (d, g) => this.iotlbSync(d, g),
      flushIotlbAll: (d) => cacheTagFlushAll(d.cacheTags, d.stage === "first", d.counters),
      iotlbSyncMap: (d, iova, size) => {
        if (d.iotlbSyncMap) {
          const s = toBigInt(iova as Addr);
          cacheTagFlushRangeNp(d.cacheTags, d.stage === "first", s, s + BigInt(size) - 1n, d.counters);
        }
        return 0;
      },
      free: (d) => {
        for (const dev of [...d.devices]) this.detachDev(dev);
        d.pt.deinit();
      },
    };
    if (stage === "first") this.fsOps = ops;
    else this.ssOps = ops;
    return ops;
  }
}
