/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: an SMMUv1/v2 instance (`struct arm_smmu_device`,
 * paging side) as an {@link IommuDriver}: `arm_smmu_domain_alloc_paging()` (a domain with
 * no table yet), `arm_smmu_attach_dev()` → `arm_smmu_init_domain_context()` (context bank,
 * io_pgtable_cfg, table, geometry, context-bank registers) at the first attach,
 * `arm_smmu_set_pgtable_quirks()`, `arm_smmu_capable()`, and the context-fault entry.
 *
 * {@link ArmSmmuMaster} is a device behind the SMMU: its `domainAllocPagingFlags` allocates
 * and attaches, as `iommu_paging_domain_alloc(dev)` + `iommu_attach_group()` do for VFIO —
 * so `attachGroup(group, { driver: master })` sees the geometry the first attach sets.
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_NOEXEC,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  iommuPagingDomainAllocFlags,
  negErrno,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { allocIoPgtableOps, IO_PGTABLE_QUIRK_ARM_TTBR1, type IoPgtableCfg } from "@iommu/io-pgtable";
import { type ArmSmmuKernel, armSmmuContextCfg } from "./context.js";
import { ArmSmmuHw } from "./context-bank.js";
import { type ArmSmmuDomain, createArmSmmuDomainOps } from "./domain.js";
import {
  type ArmSmmuCaps,
  type ArmSmmuHwConfig,
  type ArmSmmuIdRegs,
  armSmmuDeviceCfgProbe,
  encodeIdRegs,
} from "./hw.js";
import { ARM_SMMU_FEAT_COHERENT_WALK } from "./regs.js";
import { armSmmuS1TlbOps, armSmmuS2TlbOpsV1, armSmmuS2TlbOpsV2 } from "./tlb.js";

const EOPNOTSUPP = negErrno("EOPNOTSUPP");
const MESSAGES_MAX = 64;

/** Model-only: an SMMU's hardware description and how the model instantiates it. */
export interface ArmSmmuOptions extends ArmSmmuHwConfig {
  /** Instance name (ops table name, messages). Default `arm-smmu`. */
  name?: string;
  /** Raw ID register values, overriding what the hardware description encodes. */
  regs?: Partial<ArmSmmuIdRegs>;
  /** The kernel the driver runs in (default `arm64`); `arm32` is the only one that uses AArch32-S. */
  kernel?: ArmSmmuKernel;
  /** Firmware `dma-coherent` (default: ID0.CTTW). */
  coherent?: boolean;
  /** `arm-smmu.force_stage` (1 or 2). */
  forceStage?: number;
  /** `cfg->flush_walk_prefer_tlbiasid` for every context (Qualcomm implementations set it). */
  flushWalkPreferTlbiasid?: boolean;
  /** Page-table memory shared by every domain (default: a fresh allocator per domain). */
  allocator?: TableAllocator;
  /** Register writes kept for inspection (default 0: counted, not logged). */
  logCapacity?: number;
  /**
   * iova_to_phys_length on a hardware-translating domain also runs ATS1PR and WARNs when it
   * disagrees with the table walk (default true; see domain.ts).
   */
  crossCheck?: boolean;
}

/**
 * `struct arm_smmu_device` with `arm_smmu_ops`: one SMMUv1/v2, probed from its ID registers,
 * handing out paging domains whose tables are built at their first attach.
 */
export class ArmSmmu implements IommuDriver<ArmSmmuDomain> {
  readonly name: string;
  readonly regs: Readonly<ArmSmmuIdRegs>;
  readonly caps: ArmSmmuCaps;
  /** `smmu->features` (ARM_SMMU_FEAT_*). */
  readonly features: number;
  readonly kernel: ArmSmmuKernel;
  /** This instance's `default_domain_ops`. */
  readonly ops: IommuDomainOps<ArmSmmuDomain>;
  /** The register file: context banks, TLB maintenance counts, ATS. */
  readonly hw: ArmSmmuHw;
  /** `smmu->context_map`: the domain owning each context bank. */
  readonly contextMap: Array<ArmSmmuDomain | null>;
  crossCheck: boolean;
  /** The kernel's dev_err/dev_notice lines of the paging paths (latest {@link MESSAGES_MAX}). */
  readonly messages: string[] = [];
  private readonly flushWalkPreferTlbiasid: boolean;
  private readonly sharedAllocator: TableAllocator | undefined;

  /** Probe an SMMU; throws IommuError ENODEV where `arm_smmu_device_cfg_probe()` refuses it. */
  constructor(options: ArmSmmuOptions = {}) {
    this.name = options.name ?? "arm-smmu";
    this.regs = { ...encodeIdRegs(options), ...options.regs };
    this.caps = armSmmuDeviceCfgProbe(this.regs, options.version ?? "v2", {
      ...(options.coherent === undefined ? {} : { coherent: options.coherent }),
      ...(options.forceStage === undefined ? {} : { forceStage: options.forceStage }),
    });
    this.features = this.caps.features;
    this.kernel = options.kernel ?? "arm64";
    this.ops = createArmSmmuDomainOps(this.name);
    this.hw = new ArmSmmuHw(this.caps.numContextBanks, options.logCapacity ?? 0);
    this.contextMap = new Array<ArmSmmuDomain | null>(this.caps.numContextBanks).fill(null);
    this.crossCheck = options.crossCheck ?? true;
    this.flushWalkPreferTlbiasid = options.flushWalkPreferTlbiasid ?? false;
    this.sharedAllocator = options.allocator;
  }

  /** `smmu->pgsize_bitmap`: every page size of every context format the SMMU offers. */
  get pgsizeBitmap(): number {
    return this.caps.pgsizeBitmap;
  }

  /** @internal A dev_err line (kept, never printed). */
  devErr(message: string): void {
    if (this.messages.length >= MESSAGES_MAX) this.messages.shift();
    this.messages.push(message);
  }

  /**
   * `arm_smmu_capable()`: cache coherency when the walker is coherent (the kernel also says yes
   * for a natively coherent master: `masterCoherent`); NOEXEC and DEFERRED_FLUSH always.
   */
  capable(cap: IommuCap, masterCoherent = false): boolean {
    switch (cap) {
      case IOMMU_CAP_CACHE_COHERENCY:
        return (this.features & ARM_SMMU_FEAT_COHERENT_WALK) !== 0 || masterCoherent;
      case IOMMU_CAP_NOEXEC:
      case IOMMU_CAP_DEFERRED_FLUSH:
        return true;
      default:
        return false;
    }
  }

  /** `iommu_paging_domain_alloc()` for a device behind this SMMU (throws IommuError on refusal). */
  domainAllocPaging(options?: IommuDomainAllocOptions): ArmSmmuDomain {
    return iommuPagingDomainAllocFlags(this, 0, options);
  }

  /**
   * `arm_smmu_domain_alloc_paging()`: the driver has no `domain_alloc_paging_flags`, so any
   * flag is -EOPNOTSUPP (the core's answer). The domain starts with the SMMU-wide
   * pgsize_bitmap, no page table, no geometry and stage 1.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): ArmSmmuDomain | number {
    if (flags) return EOPNOTSUPP;
    const counters = options.counters ?? new IommuCounters();
    const allocator =
      options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters });
    return {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: this.caps.pgsizeBitmap,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      owner: this,
      smmu: null,
      stage: "s1",
      cfg: { cbndx: -1, asid: 0, vmid: 0, ctxFmt: "none", flushWalkPreferTlbiasid: false },
      flushOps: null,
      pgtblQuirks: 0,
      pgtblCfg: null,
      pgtblOps: null,
      allocator,
    };
  }

  /** `arm_smmu_set_pgtable_quirks()`: only before the first attach (-EPERM after). */
  setPgtableQuirks(d: ArmSmmuDomain, quirks: number): number {
    if (d.smmu) return negErrno("EPERM");
    d.pgtblQuirks = quirks;
    return 0;
  }

  /**
   * `arm_smmu_attach_dev()` for a master behind this SMMU: finalise the domain on the first
   * attach, refuse a domain finalised on another SMMU (-EINVAL). 0 or -errno; nothing
   * changes on failure.
   */
  attachDev(d: ArmSmmuDomain): number {
    const ret = this.initDomainContext(d);
    if (ret < 0) return ret;
    if (d.smmu !== this) return negErrno("EINVAL");
    return 0;
  }

  /**
   * `arm_smmu_init_domain_context()`: once per domain — context format and stage
   * (context.ts), a context bank (-ENOSPC when none is free), ASID/VMID from its index, the
   * io_pgtable_cfg and table (-ENOMEM), the domain's page sizes and geometry, then the
   * context bank registers.
   */
  private initDomainContext(d: ArmSmmuDomain): number {
    if (d.smmu) return 0;
    const ctx = armSmmuContextCfg(this.caps, this.kernel, d.stage);
    if (typeof ctx === "number") return ctx;
    // __arm_smmu_alloc_bitmap: first free bank from the stage's start.
    let cbndx = -1;
    for (let i = ctx.cbStart; i < this.caps.numContextBanks; i++)
      if (!this.contextMap[i]) {
        cbndx = i;
        break;
      }
    if (cbndx < 0) return negErrno("ENOSPC");

    const flushOps =
      ctx.stage === "s1"
        ? armSmmuS1TlbOps
        : this.caps.version === "v2"
          ? armSmmuS2TlbOpsV2
          : armSmmuS2TlbOpsV1;
    const cfg: IoPgtableCfg = {
      quirks: d.pgtblQuirks,
      pgsizeBitmap: this.caps.pgsizeBitmap,
      ias: ctx.ias,
      oas: ctx.oas,
      coherentWalk: (this.features & ARM_SMMU_FEAT_COHERENT_WALK) !== 0,
      tlb: flushOps,
      allocator: d.allocator,
      counters: d.counters,
    };
    // The context must look finalised to the flush ops io-pgtable may call during alloc.
    d.smmu = this;
    d.stage = ctx.stage;
    d.flushOps = flushOps;
    d.cfg.cbndx = cbndx;
    d.cfg.ctxFmt = ctx.ctxFmt;
    d.cfg.flushWalkPreferTlbiasid = this.flushWalkPreferTlbiasid;
    if (ctx.stage === "s1") d.cfg.asid = cbndx;
    else d.cfg.vmid = cbndx + 1;
    const ops = allocIoPgtableOps(ctx.fmt, cfg, d);
    if (!ops) {
      d.smmu = null;
      d.stage = "s1";
      d.flushOps = null;
      d.cfg.cbndx = -1;
      d.cfg.asid = d.cfg.vmid = 0;
      d.cfg.ctxFmt = "none";
      return negErrno("ENOMEM");
    }
    this.contextMap[cbndx] = d;
    d.pgsizeBitmap = cfg.pgsizeBitmap;
    if (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) {
      // ~0UL << ias .. ~0UL (64-bit unsigned long).
      d.geometry.apertureStart = BigInt.asUintN(64, ~0n << BigInt(ctx.ias));
      d.geometry.apertureEnd = 2n ** 64n - 1n;
    } else {
      // (1UL << ias) - 1; on a 32-bit kernel ias is at most 32 and the register shift gives 2^32 - 1.
      d.geometry.apertureEnd = 2 ** ctx.ias - 1;
    }
    d.geometry.forceAperture = true;
    d.pgtblCfg = cfg;
    this.writeContextBank(d, cfg);
    d.pgtblOps = ops;
    return 0;
  }

  /** `arm_smmu_init_context_bank()` + `arm_smmu_write_context_bank()`: the translation registers. */
  private writeContextBank(d: ArmSmmuDomain, cfg: IoPgtableCfg): void {
    const cb = this.hw.cbs[d.cfg.cbndx]!;
    cb.enabled = true;
    cb.ctxFmt = d.cfg.ctxFmt as typeof cb.ctxFmt;
    cb.stage1 = d.stage === "s1";
    cb.mem = d.allocator.mem;
    cb.ttbr0 = cb.ttbr1 = 0n;
    cb.ttbr0Base = cb.ttbr1Base = 0;
    if (!cb.stage1) {
      const s2 = cfg.armLpaeS2Cfg!;
      cb.tcr = s2.vtcr.tsz | (s2.vtcr.sl << 6) | (s2.vtcr.tg << 14) | (s2.vtcr.ps << 16);
      cb.ttbr0 = s2.vttbr;
      cb.ttbr0Base = Number(s2.vttbr);
      return;
    }
    if (cb.ctxFmt === "aarch32-s") {
      const v7s = cfg.armV7sCfg!;
      cb.tcr = v7s.tcr;
      cb.ttbr0 = BigInt(v7s.ttbr);
      cb.ttbr0Base = (v7s.ttbr & 0xffff_c000) >>> 0;
      return;
    }
    const s1 = cfg.armLpaeS1Cfg!;
    // arm_smmu_lpae_tcr: TG0/SH0/ORGN0/IRGN0/T0SZ; TTBR1 tables move them up 16 bits and set EPD0.
    let tcr = (s1.tcr.tg << 14) | (s1.tcr.sh << 12) | (s1.tcr.orgn << 10) | (s1.tcr.irgn << 8) | s1.tcr.tsz;
    const ttbr1 = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) !== 0;
    if (ttbr1) tcr = ((tcr << 16) & ~(1 << 22)) | (1 << 7);
    else tcr |= 1 << 23;
    if (cb.ctxFmt === "aarch32-l") tcr |= 1 << 31;
    cb.tcr = tcr >>> 0;
    cb.tcr2 = s1.tcr.ips;
    const asid = BigInt(d.cfg.asid) << 48n;
    cb.ttbr0 = asid;
    cb.ttbr1 = asid;
    if (ttbr1) {
      cb.ttbr1 |= s1.ttbr;
      cb.ttbr1Base = Number(s1.ttbr);
    } else {
      cb.ttbr0 |= s1.ttbr;
      cb.ttbr0Base = Number(s1.ttbr);
    }
  }

  /** @internal `arm_smmu_destroy_domain_context()` minus the table: disable the bank, free it. */
  destroyDomainContext(d: ArmSmmuDomain): void {
    const cb = this.hw.cbs[d.cfg.cbndx];
    if (cb) {
      cb.enabled = false;
      cb.mem = null;
    }
    if (this.contextMap[d.cfg.cbndx] === d) this.contextMap[d.cfg.cbndx] = null;
  }
}

/**
 * Model-only: a master device behind an {@link ArmSmmu}, as VFIO sees it. Its paging
 * domains come back attached (`iommu_paging_domain_alloc(dev)` then `iommu_attach_group()`:
 * the table, page sizes and geometry only exist after the attach). The device moves to each
 * new domain, as a group does.
 */
export class ArmSmmuMaster implements IommuDriver<ArmSmmuDomain> {
  /** The domain the device is attached to (null before the first). */
  current: ArmSmmuDomain | null = null;

  constructor(readonly smmu: ArmSmmu) {}

  get name(): string {
    return this.smmu.name;
  }

  get pgsizeBitmap(): number {
    return this.smmu.pgsizeBitmap;
  }

  capable(cap: IommuCap): boolean {
    return this.smmu.capable(cap);
  }

  domainAllocPagingFlags(flags: number, options?: IommuDomainAllocOptions): ArmSmmuDomain | number {
    const d = this.smmu.domainAllocPagingFlags(flags, options);
    if (typeof d === "number") return d;
    const ret = this.smmu.attachDev(d);
    if (ret < 0) {
      d.ops?.free?.(d);
      return ret;
    }
    this.current = d;
    return d;
  }
}
