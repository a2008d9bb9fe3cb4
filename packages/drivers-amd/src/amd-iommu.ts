// drivers/iommu/amd/iommu.c + init.c: one AMD-Vi unit (`struct amd_iommu`) as an IommuDriver —
// EFR decode and the page-size command-line options, paging domain allocation on generic_pt
// (v1 = amdv1, v2 = x86_64) with the cfg the driver derives, attach (DTE + flush), and the
// INVALIDATE_IOMMU_PAGES commands iotlb_sync / flush_iotlb_all / iotlb_sync_map issue
// (cmd.ts), including the NpCache (virtualised IOMMU) aligned-chunk loop. Flush addresses are
// exact 64-bit bigints: that runs once per sync, never per PTE.
import {
  type Addr,
  and64,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
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
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_X86_64_AMD_ENCRYPT_TABLES,
  PT_FORMATS,
  type PtFormatName,
  ptDirtyOps,
  ptDomainOps,
  ptIommuInit,
} from "@iommu/generic-pt";
import { AmdCmdBuf, CMD_INV_IOMMU_ALL_PAGES_ADDRESS } from "./cmd.js";
import { type AmdPdMode, ProtectionDomain } from "./domain.js";
import {
  type AmdEfr,
  amdGptLevel,
  amdHatDis,
  amdHptLevel,
  amdV2PgtblSupported,
  decodeAmdEfr,
  PAGE_MODE_5_LEVEL,
  type Reg64,
} from "./efr.js";

/** `AMD_IOMMU_PGSIZES`: every power of two 4K..2^51 except 512G (hardware erratum). */
export const AMD_IOMMU_PGSIZES = 0xf_ff7f_ffff_f000;
/** `AMD_IOMMU_PGSIZES_4K` (`amd_iommu=nohugepages`) */
export const AMD_IOMMU_PGSIZES_4K = SZ_4K;
/** `AMD_IOMMU_PGSIZES_V2` (`amd_iommu=v2_pgsizes_only`) */
export const AMD_IOMMU_PGSIZES_V2 = SZ_4K | SZ_2M | SZ_1G;
/** `MAX_DOMAIN_ID`: domain ids are 16 bits, 0 reserved. */
export const MAX_DOMAIN_ID = 65536;

/** A Genoa-like EFR: GT, HATS 2 (6-level host tables), GATS 1 (5-level guest), PASMAX 15, GIOSUP, HASUP, HDSUP. */
export const AMD_GENOA_EFR = 0x13_000f_0000_1810n;

/** The `amd_iommu=` command-line options that shape paging domains. */
export interface AmdIommuCmdline {
  /** `pgtbl_v1` (default) / `pgtbl_v2`: `amd_iommu_pgtable` for flags 0. */
  readonly pgtbl?: AmdPdMode;
  /** `nohugepages`: `amd_iommu_pgsize_bitmap = AMD_IOMMU_PGSIZES_4K`. */
  readonly nohugepages?: boolean;
  /** `v2_pgsizes_only`: `amd_iommu_pgsize_bitmap = AMD_IOMMU_PGSIZES_V2`. */
  readonly v2PgsizesOnly?: boolean;
}

/** An AMD-Vi unit's hardware and the command line. */
export interface AmdIommuOptions {
  /** `iommu->index` name (default `AMD-Vi0`). */
  readonly name?: string;
  /** The Extended Feature Register (default {@link AMD_GENOA_EFR}). */
  readonly efr?: Reg64;
  /** `IOMMU_CAP_NPCACHE`: not-present entries cached — the unit is emulated (a VM). */
  readonly npCache?: boolean;
  readonly cmdline?: AmdIommuCmdline;
  /** EFR2.GCR3TRPMODE (with EFR GT and GIOSUP: nest parents allowed); default false. */
  readonly gcr3TrpMode?: boolean;
  /** Page-table memory of every domain (default: a fresh allocator per domain). */
  readonly allocator?: TableAllocator;
}

/** `struct pt_iommu_amdv1_cfg` / `pt_iommu_x86_64_cfg` as the driver fills it. */
export interface AmdPtCfg {
  readonly format: PtFormatName;
  readonly pdMode: AmdPdMode;
  readonly features: number;
  readonly vaBits: number;
  readonly oaBits: number;
  /** amdv1 `starting_level` / x86_64 `top_level` */
  readonly level: number;
  /** `domain.pgsize_bitmap &=` after init (v1: `amd_iommu_pgsize_bitmap`). */
  readonly pgsizeMask: number;
}

/** What cfg derivation reads of a unit and the command line. */
export interface AmdHw {
  readonly efr: AmdEfr;
  readonly npCache: boolean;
  /** `amd_iommu_pgsize_bitmap` */
  readonly pgsizeBitmap: number;
  /** `amd_iommu_pgtable` after init (`pgtbl_v2` falls back to v1 when v2 is unsupported). */
  readonly pgtable: AmdPdMode;
  /** `amd_iommu_hatdis`: no host (v1) translation. */
  readonly hatdis: boolean;
  /** `is_nest_parent_supported()`: GT, GIOSUP and EFR2.GCR3TRPMODE. */
  readonly nestParent: boolean;
}

const EOPNOTSUPP = negErrno("EOPNOTSUPP");
const ENOMEM = negErrno("ENOMEM");

/** The command line's `amd_iommu_pgsize_bitmap` (`nohugepages` wins, as it is parsed first). */
export function amdPgsizeBitmap(c: AmdIommuCmdline = {}): number {
  if (c.nohugepages) return AMD_IOMMU_PGSIZES_4K;
  if (c.v2PgsizesOnly) return AMD_IOMMU_PGSIZES_V2;
  return AMD_IOMMU_PGSIZES;
}

function flushFeature(npCache: boolean): number {
  // Bare metal flushes one covering range; a VM (NpCache) flushes only what changed.
  return 1 << (npCache ? PT_FEAT_FLUSH_RANGE_NO_GAPS : PT_FEAT_FLUSH_RANGE);
}

/**
 * `amd_iommu_domain_alloc_paging_v1`'s cfg (-EOPNOTSUPP with host translation disabled): DYNAMIC_TOP | ENCRYPT_TABLES | FORCE_COHERENCE plus
 * FLUSH_RANGE (FLUSH_RANGE_NO_GAPS under NpCache); `hw_max_vasz = min(64, (hpt_level − 1)·9 +
 * 21)`, 52-bit OA, starting level 2; the sizes narrowed to `amd_iommu_pgsize_bitmap`.
 */
export function amdV1Cfg(hw: AmdHw): AmdPtCfg | number {
  if (hw.hatdis) return EOPNOTSUPP;
  return {
    format: "amdv1",
    pdMode: "v1",
    features:
      (1 << PT_FEAT_DYNAMIC_TOP) |
      (1 << PT_FEAT_AMDV1_ENCRYPT_TABLES) |
      (1 << PT_FEAT_AMDV1_FORCE_COHERENCE) |
      flushFeature(hw.npCache),
    vaBits: Math.min(64, (amdHptLevel(hw.efr) - 1) * 9 + 21),
    oaBits: 52,
    level: 2,
    pgsizeMask: hw.pgsizeBitmap,
  };
}

/**
 * `amd_iommu_domain_alloc_paging_v2`'s cfg (-EOPNOTSUPP without GIOSUP+GT): X86_64 AMD
 * ENCRYPT_TABLES plus the flush feature; 5-level guest tables → 56 bits, top level 4, else 47
 * bits, top level 3 — the top VA bit dropped and no SIGN_EXTEND, so the table works for PASID
 * 0 (no sign extension) and other PASIDs alike.
 */
export function amdV2Cfg(hw: AmdHw): AmdPtCfg | number {
  if (!amdV2PgtblSupported(hw.efr)) return EOPNOTSUPP;
  const five = amdGptLevel(hw.efr) === PAGE_MODE_5_LEVEL;
  return {
    format: "x86_64",
    pdMode: "v2",
    features: (1 << PT_FEAT_X86_64_AMD_ENCRYPT_TABLES) | flushFeature(hw.npCache),
    vaBits: five ? 56 : 47,
    oaBits: 52,
    level: five ? 4 : 3,
    pgsizeMask: SZ_4K | SZ_2M | SZ_1G,
  };
}

/** `amd_iommu_hd_support()`: HDSUP, and host translation enabled. */
export function amdHdSupport(hw: AmdHw): boolean {
  return !hw.hatdis && hw.efr.hdsup;
}

/**
 * `amd_iommu_domain_alloc_paging_flags`'s choice: DIRTY_TRACKING and/or NEST_PARENT → v1
 * (needing HD support / nest-parent support), PASID alone → v2 (needing PASID support), 0 →
 * the command line's default table, falling back to the other one when it is -EOPNOTSUPP
 * (v1 without host translation); anything else -EOPNOTSUPP.
 */
export function amdCfgFor(hw: AmdHw, flags: number): AmdPtCfg | number {
  const supported = IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT;
  if (flags & ~supported) return EOPNOTSUPP;
  if (flags === IOMMU_HWPT_ALLOC_PASID) {
    if (!amdV2PgtblSupported(hw.efr) || hw.efr.pasmax === 0) return EOPNOTSUPP;
    return amdV2Cfg(hw);
  }
  if (flags & IOMMU_HWPT_ALLOC_PASID) return EOPNOTSUPP;
  if (flags !== 0) {
    if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING && !amdHdSupport(hw)) return EOPNOTSUPP;
    if (flags & IOMMU_HWPT_ALLOC_NEST_PARENT && !hw.nestParent) return EOPNOTSUPP;
    return amdV1Cfg(hw);
  }
  const first = hw.pgtable === "v1" ? amdV1Cfg(hw) : amdV2Cfg(hw);
  if (first !== EOPNOTSUPP) return first;
  return hw.pgtable === "v1" ? amdV2Cfg(hw) : amdV1Cfg(hw);
}

/**
 * One AMD-Vi unit: implements {@link IommuDriver}. Domains come back unattached (their table
 * exists from allocation); {@link attachDev} attaches a device and {@link forDevice} is the
 * driver VFIO / iommufd see for one device.
 */
export class AmdIommu implements IommuDriver<ProtectionDomain> {
  readonly name: string;
  readonly efrReg: bigint;
  readonly efr: AmdEfr;
  readonly hw: AmdHw;
  /** The command buffer (command counts and log). */
  readonly cmd = new AmdCmdBuf();
  /** DTE writes (`set_dte_entry`: attach, detach, top-level change). */
  dteWrites = 0;
  private readonly pdomIds = new Set<number>();
  private readonly deviceDomain = new Map<string, ProtectionDomain>();
  private readonly opts: AmdIommuOptions;
  private v1Ops: IommuDomainOps<ProtectionDomain> | undefined;
  private bitmap: number | undefined;
  private v2Ops: IommuDomainOps<ProtectionDomain> | undefined;
  /** Device ids (`PCI_DEVID`) by device name, handed out from 0x10 on first attach. */
  private readonly devids = new Map<string, number>();

  constructor(options: AmdIommuOptions = {}) {
    this.opts = options;
    this.name = options.name ?? "AMD-Vi0";
    this.efrReg = BigInt.asUintN(64, BigInt(options.efr ?? AMD_GENOA_EFR));
    this.efr = decodeAmdEfr(this.efrReg);
    const v2 = amdV2PgtblSupported(this.efr);
    const want = options.cmdline?.pgtbl ?? "v1";
    this.hw = {
      efr: this.efr,
      npCache: options.npCache ?? false,
      pgsizeBitmap: amdPgsizeBitmap(options.cmdline),
      pgtable: want === "v2" && !v2 ? "v1" : want,
      hatdis: amdHatDis(this.efr),
      nestParent: v2 && (options.gcr3TrpMode ?? false),
    };
  }

  /** The default domain's page sizes. */
  get pgsizeBitmap(): number {
    if (this.bitmap === undefined) {
      // The kernel reads it off the default domain: build one (its id and tables come back).
      const d = this.domainAllocPagingFlags(0);
      this.bitmap = typeof d === "number" ? 0 : d.pgsizeBitmap;
      if (typeof d !== "number") d.ops.free?.(d);
    }
    return this.bitmap;
  }

  /** `amd_iommu_capable` */
  capable(cap: IommuCap): boolean {
    switch (cap) {
      case IOMMU_CAP_CACHE_COHERENCY:
      case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
      case IOMMU_CAP_DEFERRED_FLUSH:
        return true;
      case IOMMU_CAP_DIRTY_TRACKING:
        return amdHdSupport(this.hw);
      default:
        return false;
    }
  }

  /**
   * `amd_iommu_enforce_cache_coherency`: always true — v1 leaves carry FC; the v2 format has
   * no such bit and the driver says true anyway (VFIO cannot mix domains that differ here).
   */
  enforceCacheCoherency(_d: ProtectionDomain): boolean {
    return true;
  }

  /** The cfg `domain_alloc_paging_flags(flags)` would build. */
  cfgFor(flags: number): AmdPtCfg | number {
    return amdCfgFor(this.hw, flags);
  }

  /**
   * `amd_iommu_domain_alloc_paging_flags`: a v1 or v2 domain, its id from `pdom_ids` (lowest
   * free from 1; -ENOMEM when all 65535 are taken) and its table allocated now. -EOPNOTSUPP,
   * -EINVAL or -ENOMEM.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): ProtectionDomain | number {
    const cfg = this.cfgFor(flags);
    if (typeof cfg === "number") return cfg;
    let id = 1;
    while (this.pdomIds.has(id)) id++;
    if (id >= MAX_DOMAIN_ID) return ENOMEM;
    const counters = options.counters ?? new IommuCounters();
    const allocator = options.allocator ?? this.opts.allocator ?? new TableAllocator(undefined, { counters });
    let domain: ProtectionDomain | undefined;
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
      {
        iotlbSync: (g) => this.iotlbSync(domain!, g),
        changeTop: () => this.changeTop(domain!),
      },
    );
    if (typeof pt === "number") return pt;
    this.pdomIds.add(id);
    domain = new ProtectionDomain(pt, cfg.pdMode, id, this.opsFor(cfg.pdMode), allocator);
    domain.pgsizeBitmap = and64(pt.pgsizeBitmap, cfg.pgsizeMask);
    if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) domain.dirtyOps = ptDirtyOps<ProtectionDomain>(cfg.format);
    if (options.type !== undefined) domain.type = options.type;
    return domain;
  }

  /** `domain_alloc_paging_flags(0)`, throwing {@link IommuError} on refusal. */
  domainAllocPaging(options?: IommuDomainAllocOptions): ProtectionDomain {
    const d = this.domainAllocPagingFlags(0, options);
    if (typeof d === "number") throw IommuError.fromReturn(d, "amd_iommu_domain_alloc_paging_flags");
    return d;
  }

  /**
   * `amd_iommu_attach_device`: detach from the current domain, then `pdom_attach_iommu`
   * (count this unit in the domain) and write the device's DTE (root, mode, domain id)
   * followed by INVALIDATE_DEVTAB_ENTRY + COMPLETION_WAIT. A v2 domain needs v2 support on
   * this unit (-EINVAL). 0 or -errno.
   */
  attachDev(d: ProtectionDomain, dev = "dev0"): number {
    if (this.deviceDomain.get(dev) === d) return 0;
    if (d.dirtyOps && !amdHdSupport(this.hw)) return negErrno("EINVAL");
    this.detachDev(dev);
    if (d.pdMode === "v2" && !amdV2PgtblSupported(this.efr)) return negErrno("EINVAL");
    const info = d.iommus.get(this);
    if (info) info.refcnt++;
    else d.iommus.set(this, { refcnt: 1 });
    let devid = this.devids.get(dev);
    if (devid === undefined) {
      devid = 0x10 + this.devids.size;
      this.devids.set(dev, devid);
    }
    d.devices.set(dev, devid);
    this.deviceDomain.set(dev, d);
    this.writeDte(devid);
    return 0;
  }

  /**
   * `detach_device` (blocked-domain attach): clear the DTE and flush it, flush the whole
   * domain's IOTLB (`amd_iommu_domain_flush_all`), then drop the unit's count.
   */
  detachDev(dev = "dev0"): void {
    const d = this.deviceDomain.get(dev);
    if (!d) return;
    this.deviceDomain.delete(dev);
    const devid = d.devices.get(dev)!;
    this.writeDte(devid);
    this.flushPages(d, 0n, CMD_INV_IOMMU_ALL_PAGES_ADDRESS);
    d.devices.delete(dev);
    const info = d.iommus.get(this)!;
    if (--info.refcnt === 0) d.iommus.delete(this);
  }

  /** The unit as one device's driver (alloc + attach, as `iommu_attach_group` follows it). */
  forDevice(dev = "dev0"): IommuDriver<ProtectionDomain> {
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

  private writeDte(devid: number): void {
    this.dteWrites++;
    this.cmd.invDevEntry(devid);
    this.cmd.completionWait();
  }

  /**
   * `amd_iommu_change_top` (driver_ops): every attached device's DTE gets the new root and
   * mode, then each is flushed (INVALIDATE_DEVTAB_ENTRY) and the domain's units wait
   * (`domain_flush_complete`).
   */
  private changeTop(d: ProtectionDomain): void {
    for (const [dev, devid] of d.devices)
      if (this.deviceDomain.get(dev) === d) {
        this.dteWrites++;
        this.cmd.invDevEntry(devid);
      }
    for (const u of d.iommus.keys()) (u as AmdIommu).cmd.completionWait();
  }

  /**
   * `amd_iommu_domain_flush_pages(domain, address, size)`: bare metal, one
   * INVALIDATE_IOMMU_PAGES per attached unit covering the range (build_inv_address widens it
   * to a power of two); under NpCache, a run of naturally aligned chunks — each the smaller
   * of the address's alignment and the largest power of two left — so a hypervisor never
   * shadows unmodified PTEs. Then one COMPLETION_WAIT per unit.
   */
  flushPages(d: ProtectionDomain, address: bigint, size: bigint): void {
    if (d.iommus.size === 0) return;
    if (!this.hw.npCache) this.flushPagesOnce(d, address, size);
    else {
      let a = address;
      let s = size;
      while (s !== 0n) {
        const sizeAlign = s.toString(2).length - 1;
        let min = sizeAlign;
        if (a !== 0n) {
          const addrAlign = ffs64(a);
          if (addrAlign < min) min = addrAlign;
        }
        const chunk = 1n << BigInt(min);
        this.flushPagesOnce(d, a, chunk);
        a += chunk;
        s -= chunk;
      }
    }
    for (const u of d.iommus.keys()) (u as AmdIommu).cmd.completionWait();
  }

  private flushPagesOnce(d: ProtectionDomain, address: bigint, size: bigint): void {
    const gn = d.pdMode === "v2";
    for (const u of d.iommus.keys()) {
      const kind = (u as AmdIommu).cmd.invIommuPages(address, size, d.id, 0, gn);
      if (kind === "all") d.counters.flushAll++;
      else if (kind === "range") d.counters.flushRange++;
      else d.counters.flushPage++;
    }
  }

  /** `amd_iommu_iotlb_sync`: flush [start, end] of the gather, then free its tables. */
  iotlbSync(d: ProtectionDomain, g: IotlbGather): void {
    const pt = d.pt;
    pt.syncCount++;
    if (g.endExcl !== 0) {
      const s = toBigInt(g.start);
      this.flushPages(d, s, toBigInt(g.endExcl) - s);
    }
    for (const pa of g.freelist) pt.freeTable(pa);
    g.freelist.length = 0;
  }

  private opsFor(mode: AmdPdMode): IommuDomainOps<ProtectionDomain> {
    const existing = mode === "v1" ? this.v1Ops : this.v2Ops;
    if (existing) return existing;
    const ops: IommuDomainOps<ProtectionDomain> = {
      ...ptDomainOps<ProtectionDomain>(mode === "v1" ? "amdv1" : "x86_64"),
      name: mode === "v1" ? "amdv1" : "amdv2",
      iotlbSync: (d, g) => this.iotlbSync(d, g),
      // amd_iommu_flush_iotlb_all → amd_iommu_domain_flush_all: the all-pages range.
      flushIotlbAll: (d) => this.flushPages(d, 0n, CMD_INV_IOMMU_ALL_PAGES_ADDRESS),
      // amd_iommu_iotlb_sync_map: only a unit with NpCache caches not-present entries.
      iotlbSyncMap: (d, iova, size) => {
        if (this.hw.npCache) this.flushPages(d, toBigInt(iova as Addr), BigInt(size));
        return 0;
      },
      free: (d) => {
        for (const dev of [...d.devices.keys()]) if (this.deviceDomain.get(dev) === d) this.detachDev(dev);
        d.pt.deinit();
        this.pdomIds.delete(d.id);
      },
    };
    if (mode === "v1") this.v1Ops = ops;
    else this.v2Ops = ops;
    return ops;
  }
}

function ffs64(x: bigint): number {
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}
