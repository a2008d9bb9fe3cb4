/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: an SMMUv3 instance (`struct arm_smmu_device`,
 * paging side) as an {@link IommuDriver}, and its paging-domain allocation:
 * `arm_smmu_domain_alloc_paging_flags()` → `arm_smmu_domain_finalise()`, which builds the
 * io_pgtable_cfg the kernel builds and allocates the ASID (stage 1) or VMID (stage 2).
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_NOEXEC,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  iommuIotlbSync,
  iommuPagingDomainAllocFlags,
  negErrno,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  freeIoPgtableOps,
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "@iommu/io-pgtable";
import { ArmSmmuCmdq } from "./cmdq.js";
import {
  type ArmSmmuDomain,
  type ArmSmmuDomainStage,
  armSmmuDirtyOps,
  createArmSmmuDomainOps,
} from "./domain.js";
import {
  type ArmSmmuV3Caps,
  type ArmSmmuV3HwConfig,
  type ArmSmmuV3Regs,
  encodeIdRegs,
  probeHw,
} from "./hw.js";
import { IdAllocator } from "./id-alloc.js";
import {
  ARM_SMMU_FEAT_COHERENCY,
  ARM_SMMU_FEAT_HD,
  ARM_SMMU_FEAT_NESTING,
  ARM_SMMU_FEAT_S2FWB,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  ARM_SMMU_FEAT_VAX,
  ARM_SMMU_OPT_CMDQ_FORCE_SYNC,
  ARM_SMMU_OPT_MSIPOLL,
} from "./regs.js";
import { armSmmuFlushOps } from "./tlb.js";

const PAGING_FLAGS = IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT;
const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/** Model-only: the hardware description of an {@link ArmSmmuV3} and how the model instantiates it. */
export interface ArmSmmuV3Options extends ArmSmmuV3HwConfig {
  /** Instance name (ops table name, messages). Default `arm-smmu-v3.<n>`. */
  name?: string;
  /** Raw ID register values, overriding what the hardware description encodes. */
  regs?: Partial<ArmSmmuV3Regs>;
  /**
   * The ASID space. The kernel's is one global xarray shared by every SMMUv3; pass the same
   * allocator to several instances to model that. Default: one per instance.
   */
  asids?: IdAllocator;
  /**
   * Page-table memory. Default: a fresh allocator per domain (reporting into the domain's
   * counters), so domains never share table pages.
   */
  allocator?: TableAllocator;
  /** Command-queue entries kept for inspection (default 4096; 0 disables the log). */
  cmdqLogCapacity?: number;
  /** DMA address of the command queue, used for the MSI address of polled CMD_SYNCs. */
  cmdqBaseDma?: number;
}

/**
 * `struct arm_smmu_device` (paging side) with `arm_smmu_ops`: one SMMUv3 instance, probed
 * from its ID registers, as an {@link IommuDriver} handing out paging domains.
 */
export class ArmSmmuV3 implements IommuDriver<ArmSmmuDomain> {
  /** `dev_name()` of the SMMU (default `arm-smmu-v3`; give instances distinct names). */
  readonly name: string;
  readonly regs: Readonly<ArmSmmuV3Regs>;
  readonly caps: Readonly<ArmSmmuV3Caps>;
  /** `smmu->features` / `smmu->options` (ARM_SMMU_FEAT_* / ARM_SMMU_OPT_*). */
  readonly features: number;
  readonly options: number;
  /** This instance's `default_domain_ops` (its identity names the instance). */
  readonly ops: IommuDomainOps<ArmSmmuDomain>;
  readonly cmdq: ArmSmmuCmdq;
  readonly asids: IdAllocator;
  readonly vmids = new IdAllocator();
  private readonly sharedAllocator: TableAllocator | undefined;

  /** Probe an SMMU; throws IommuError ENXIO where `arm_smmu_device_hw_probe()` refuses it. */
  constructor(options: ArmSmmuV3Options = {}) {
    this.name = options.name ?? "arm-smmu-v3";
    this.regs = { ...encodeIdRegs(options), ...options.regs };
    this.caps = probeHw(this.regs, {
      coherent: options.coherent ?? true,
      vaBits: options.vaBits,
      hostVhe: options.hostVhe,
      disableMsiPolling: options.disableMsiPolling,
    });
    this.features = this.caps.features;
    this.options = this.caps.options;
    this.ops = createArmSmmuDomainOps(this.name);
    this.cmdq = new ArmSmmuCmdq({
      shift: this.caps.cmdqShift,
      msiPoll: (this.options & ARM_SMMU_OPT_MSIPOLL) !== 0,
      forceSync: (this.options & ARM_SMMU_OPT_CMDQ_FORCE_SYNC) !== 0,
      baseDma: options.cmdqBaseDma,
      logCapacity: options.cmdqLogCapacity,
    });
    this.asids = options.asids ?? new IdAllocator();
    this.sharedAllocator = options.allocator;
  }

  /** `smmu->oas`: output address size in bits. */
  get oas(): number {
    return this.caps.oas;
  }

  /** `smmu->pgsize_bitmap`: every page size of every supported granule. */
  get pgsizeBitmap(): number {
    return this.caps.pgsizeBitmap;
  }

  /** `arm_smmu_dbm_capable`: IOMMU_CAP_DIRTY_TRACKING (hardware dirty state + coherent walks). */
  get dirtyTrackingCapable(): boolean {
    const need = ARM_SMMU_FEAT_HD | ARM_SMMU_FEAT_COHERENCY;
    return (this.features & need) === need;
  }

  /** `arm_smmu_capable()` for a master behind this SMMU (`IOMMU_CAP_*` from @iommu/core). */
  capable(cap: IommuCap): boolean {
    switch (cap) {
      case IOMMU_CAP_CACHE_COHERENCY:
        // A coherent TCU is taken to imply coherent TBUs.
        return (this.features & ARM_SMMU_FEAT_COHERENCY) !== 0;
      case IOMMU_CAP_NOEXEC:
      case IOMMU_CAP_DEFERRED_FLUSH:
        return true;
      case IOMMU_CAP_DIRTY_TRACKING:
        return this.dirtyTrackingCapable;
      default:
        return false;
    }
  }

  /**
   * `iommu_paging_domain_alloc()` on a device behind this SMMU: the default paging domain
   * (stage 1 when available) through the core's iommuPagingDomainAllocFlags(), so a refusal
   * throws an IommuError with the driver's errno.
   */
  domainAllocPaging(options?: IommuDomainAllocOptions): ArmSmmuDomain {
    return iommuPagingDomainAllocFlags(this, 0, options);
  }

  /**
   * `arm_smmu_domain_alloc_paging_flags()`: choose the stage from the iommufd flags, then
   * finalise. Returns the domain or the kernel's negative errno (-EOPNOTSUPP, -ENOMEM,
   * -EBUSY, -ENOSPC).
   *
   * Like the kernel, this does not check IOMMU_CAP_DIRTY_TRACKING: iommufd does that before
   * asking (see {@link dirtyTrackingCapable}).
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): ArmSmmuDomain | number {
    if (flags & ~PAGING_FLAGS) return EOPNOTSUPP;
    let stage: ArmSmmuDomainStage;
    let nestParent = false;
    switch (flags) {
      case 0:
        stage = this.features & ARM_SMMU_FEAT_TRANS_S1 ? "s1" : "s2";
        break;
      case IOMMU_HWPT_ALLOC_NEST_PARENT:
        if (!(this.features & ARM_SMMU_FEAT_NESTING)) return EOPNOTSUPP;
        stage = "s2";
        nestParent = true;
        break;
      case IOMMU_HWPT_ALLOC_DIRTY_TRACKING:
      case IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID:
      case IOMMU_HWPT_ALLOC_PASID:
        if (!(this.features & ARM_SMMU_FEAT_TRANS_S1)) return EOPNOTSUPP;
        stage = "s1";
        break;
      default:
        return EOPNOTSUPP;
    }

    const counters = options.counters ?? new IommuCounters();
    const allocator =
      options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters });
    // Filled in by finalise (stage-specific sizes and quirks) and then by the format.
    const cfg: IoPgtableCfg = {
      quirks: 0,
      pgsizeBitmap: this.caps.pgsizeBitmap,
      ias: 0,
      oas: 0,
      coherentWalk: (this.features & ARM_SMMU_FEAT_COHERENCY) !== 0,
      tlb: armSmmuFlushOps,
      allocator,
      counters,
    };
    const d: ArmSmmuDomain = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      dirtyOps: null,
      pgsizeBitmap: 0,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      smmu: this,
      stage,
      nestParent,
      asid: 0,
      vmid: 0,
      pgtblOps: null,
      pgtblCfg: cfg,
      allocator,
      syncGather: (g: IotlbGather) => iommuIotlbSync(d, g),
    };
    const ret = this.finalise(d, cfg, flags);
    return ret ? ret : d;
  }

  /** `arm_smmu_domain_finalise()`: build the io_pgtable_cfg, allocate the table, then the ASID/VMID. */
  private finalise(d: ArmSmmuDomain, cfg: IoPgtableCfg, flags: number): number {
    const enableDirty = (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) !== 0;
    // Restrict the stage to what the SMMU can actually do.
    if (!(this.features & ARM_SMMU_FEAT_TRANS_S1)) d.stage = "s2";
    if (!(this.features & ARM_SMMU_FEAT_TRANS_S2)) d.stage = "s1";

    let fmt: IoPgtableFmt;
    if (d.stage === "s1") {
      cfg.ias = Math.min(this.features & ARM_SMMU_FEAT_VAX ? 52 : 48, this.caps.vaBits);
      cfg.oas = this.caps.oas;
      if (enableDirty) cfg.quirks |= IO_PGTABLE_QUIRK_ARM_HD;
      fmt = IoPgtableFmt.ARM_64_LPAE_S1;
    } else {
      if (enableDirty) return negErrno("EOPNOTSUPP");
      // The IPA space of a stage-2 table is the PA space.
      cfg.ias = this.caps.oas;
      cfg.oas = this.caps.oas;
      if (this.features & ARM_SMMU_FEAT_S2FWB && flags & IOMMU_HWPT_ALLOC_NEST_PARENT)
        cfg.quirks |= IO_PGTABLE_QUIRK_ARM_S2FWB;
      fmt = IoPgtableFmt.ARM_64_LPAE_S2;
    }

    const ops = allocIoPgtableOps(fmt, cfg, d);
    if (!ops) return negErrno("ENOMEM");

    // The format narrowed pgsize_bitmap to one granule and may have adjusted ias.
    d.pgsizeBitmap = cfg.pgsizeBitmap;
    d.geometry.apertureEnd = 2 ** cfg.ias - 1;
    d.geometry.forceAperture = true;
    if (enableDirty && d.stage === "s1") d.dirtyOps = armSmmuDirtyOps;

    // arm_smmu_domain_finalise_s1 / _s2
    if (d.stage === "s1") {
      const asid = this.asids.alloc(1, 2 ** this.caps.asidBits - 1);
      if (asid < 0) {
        freeIoPgtableOps(ops);
        return negErrno("EBUSY"); // xa_alloc with the limit exhausted
      }
      d.asid = asid;
    } else {
      // VMID 0 is reserved for stage-2 bypass STEs.
      const vmid = this.vmids.alloc(1, 2 ** this.caps.vmidBits - 1);
      if (vmid < 0) {
        freeIoPgtableOps(ops);
        return negErrno("ENOSPC");
      }
      d.vmid = vmid;
    }
    d.pgtblOps = ops;
    return 0;
  }
}
