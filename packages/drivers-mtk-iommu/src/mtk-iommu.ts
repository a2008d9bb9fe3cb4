/**
 * drivers/iommu/mtk_iommu.c: one M4U (`struct mtk_iommu_data`, paging side) as an
 * {@link IommuDriver}: probe from the SoC's plat data, `mtk_iommu_domain_alloc_paging()`
 * (a page-size bitmap and nothing else), and `mtk_iommu_attach_device()`, where the domain
 * is finalised — its io_pgtable_cfg built and its ARM_V7S table allocated, or, once the
 * hardware list has a `share_dom`, that domain's table and cfg reused — and the domain's
 * geometry set to the IOVA region of the attaching device's larb/ports.
 */
import {
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  negErrno,
  PhysMem,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "@iommu/io-pgtable";
import { createMtkIommuDomainOps, type MtkIommuDomain } from "./mtk-iommu-domain.js";
import {
  HAS_4GB_MODE,
  IOVA_34_EN,
  MTK_IOMMU_BANK_MAX,
  MTK_IOMMU_PLAT_DATA,
  MTK_IOMMU_TYPE_MM,
  MTK_LARB_NR_MAX,
  type MtkIommuPlatData,
  type MtkIommuSoc,
  mtkIommuHasFlag,
  mtkIommuIsType,
  PGTABLE_PA_35_EN,
  PM_CLK_AO,
  SHARE_PGTABLE,
} from "./plat-data.js";
import { MtkIommuBank } from "./tlb.js";

const EINVAL = negErrno("EINVAL");
const ENOMEM = negErrno("ENOMEM");
const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/** `mtk_iommu_domain_alloc_paging()`'s `pgsize_bitmap`: SZ_4K | SZ_64K | SZ_1M | SZ_16M. */
export const MTK_IOMMU_PGSIZES = SZ_4K | SZ_64K | SZ_1M | SZ_16M;

/**
 * A client device as its `iommus` fwspec ids describe it: one larb (`MTK_M4U_TO_LARB`) and
 * the ports (`MTK_M4U_TO_PORT`, 0..31) it uses. Region and bank follow from them.
 */
export interface MtkIommuMaster {
  readonly larb: number;
  readonly ports: readonly number[];
}

/**
 * A kernel hardware list (`m4ulist`, `infralist`, `apulist`): the M4Us that share one page
 * table when their SoC sets SHARE_PGTABLE. Pass one list to the instances that share.
 */
export class MtkM4uList {
  /** In probe order; the first is `mtk_iommu_get_frst_data()`. */
  readonly members: MtkIommu[] = [];
}

/** Model-only: the hardware description of an {@link MtkIommu} and how the model builds it. */
export interface MtkIommuOptions {
  /** Which `mtk_iommu_of_ids[]` entry the M4U matched (default `mt8192`). */
  soc?: MtkIommuSoc;
  /** Instance name (ops table name, messages). Default `mtk-iommu.<soc>`. */
  name?: string;
  /**
   * infracfg `F_DDR_4GB_SUPPORT_EN` (read at probe on HAS_4GB_MODE SoCs; ignored elsewhere):
   * `data->enable_4GB`. Default false.
   */
  enable4GB?: boolean;
  /**
   * The global list a SHARE_PGTABLE M4U joins (the plat data's `hw_list`); default a new
   * list. M4Us without SHARE_PGTABLE always get a list of their own.
   */
  hwList?: MtkM4uList;
  /** Page-table memory (default: a fresh allocator per domain, reporting into its counters). */
  allocator?: TableAllocator;
  /** The client device `domainAllocPagingFlags` attaches (default larb 0, port 0). */
  master?: MtkIommuMaster;
  /** `pm_runtime_get_if_in_use() > 0` for range flushes (default true). */
  runtimeActive?: boolean;
  /** Receives the driver's dev_err/dev_warn lines. */
  onMessage?: (line: string) => void;
  /**
   * Model-only: TLB register accesses kept in {@link MtkIommu.tlbLog} for the IOTLB feed.
   * Default 0: no log, nothing allocated on the flush path.
   */
  tlbLogCapacity?: number;
}

/**
 * Model-only: one TLB register access of a bank — a write of REG_MMU_INVLD_START_A / _END_A /
 * REG_MMU_INVALIDATE (the value written), or the CPE_DONE poll's outcome (`REG_MMU_CPE_DONE`,
 * value 1 when the range flush completed, 0 when the poll timed out).
 */
export interface MtkIommuTlbWrite {
  readonly bank: number;
  readonly reg: number;
  readonly value: number;
}

/** Options of {@link MtkIommu.domainAllocPagingFlags}. */
export interface MtkIommuDomainAllocOptions extends IommuDomainAllocOptions {
  /** Attach `master` (default the instance's) as `iommu_attach_group()` would; false: leave unattached. */
  readonly attach?: boolean;
  readonly master?: MtkIommuMaster;
}

/** What `mtk_iommu_domain_finalise()` puts in io_pgtable_cfg for a plat data (before the format narrows it). */
export interface MtkIommuPgtableCfg {
  readonly quirks: number;
  readonly ias: number;
  readonly oas: number;
  readonly pgsizeBitmap: number;
}

/**
 * The cfg rules of `mtk_iommu_domain_finalise()`: quirks ARM_NS | NO_PERMS | ARM_MTK_EXT
 * (+ ARM_MTK_TTBR_EXT with PGTABLE_PA_35_EN); ias 34 with IOVA_34_EN else 32; oas 33/32 on
 * HAS_4GB_MODE SoCs (4GB mode on/off), else 35. `enable4GB` is `data->enable_4GB`.
 */
export function mtkIommuPgtableCfg(plat: MtkIommuPlatData, enable4GB: boolean): MtkIommuPgtableCfg {
  let quirks = IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS | IO_PGTABLE_QUIRK_ARM_MTK_EXT;
  if (mtkIommuHasFlag(plat, PGTABLE_PA_35_EN)) quirks |= IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
  const ias = mtkIommuHasFlag(plat, IOVA_34_EN) ? 34 : 32;
  const oas = mtkIommuHasFlag(plat, HAS_4GB_MODE) ? (enable4GB ? 33 : 32) : 35;
  return { quirks, ias, oas, pgsizeBitmap: MTK_IOMMU_PGSIZES };
}

/** Bitmask of a master's ports (`BIT(MTK_M4U_TO_PORT(id))` OR-ed), as an unsigned 32-bit value. */
function portMask(master: MtkIommuMaster): number {
  let m = 0;
  for (const p of master.ports) m |= 1 << (p & 31);
  return m >>> 0;
}

/**
 * `mtk_iommu_get_iova_region_id()`: region 0 on single-region SoCs, else the first region
 * whose mask for the master's larb covers all its ports; -EINVAL when none does.
 */
export function mtkIommuGetIovaRegionId(plat: MtkIommuPlatData, master: MtkIommuMaster): number {
  if (plat.iovaRegions.length === 1) return 0;
  const ports = portMask(master);
  const masks = plat.iovaRegionLarbMsk;
  for (let i = 0; i < plat.iovaRegions.length; i++) {
    const rgn = masks?.[i];
    if (!rgn) continue;
    if (((rgn[master.larb] ?? 0) & ports) >>> 0 === ports) return i;
  }
  return EINVAL;
}

/** `mtk_iommu_get_bank_id()`: the first enabled bank whose port mask meets the master's; default 0. */
export function mtkIommuGetBankId(plat: MtkIommuPlatData, master: MtkIommuMaster): number {
  if (plat.banksNum === 1) return 0;
  const ports = portMask(master);
  for (let i = 0; i < plat.banksNum && i < MTK_IOMMU_BANK_MAX; i++) {
    if (!plat.banksEnable[i]) continue;
    if ((ports & (plat.banksPortmsk?.[i] ?? 0)) !== 0) return i;
  }
  return 0;
}

/** `struct mtk_smi_larb_iommu`: what `mtk_iommu_config()` programs per larb. */
export interface MtkLarbIommu {
  /** Ports translated by the M4U (`larb_mmu->mmu`). */
  mmu: number;
  /** Per port: the IOVA "bank" (bits 63:32 of the region base). */
  readonly bank: number[];
}

let instances = 0;

/**
 * `struct mtk_iommu_data` with `mtk_iommu_ops`: one M4U probed from its SoC's plat data.
 * All paging domains attached through it share one ARM_V7S table (`share_dom`), created by
 * the first attach and never freed.
 */
export class MtkIommu implements IommuDriver<MtkIommuDomain> {
  readonly name: string;
  readonly soc: MtkIommuSoc;
  /** `data->plat_data` */
  readonly plat: MtkIommuPlatData;
  /** `data->enable_4GB` */
  readonly enable4GB: boolean;
  /** `data->hw_list` */
  readonly hwList: MtkM4uList;
  /** `data->bank[]`: enabled banks only (the kernel leaves the others uninitialised). */
  readonly banks: readonly (MtkIommuBank | undefined)[];
  /** `data->share_dom`: the domain whose table every later domain of the list reuses. */
  shareDom: MtkIommuDomain | null = null;
  /** `data->larb_imu[]` as `mtk_iommu_config()` left it. */
  readonly larbs = new Map<number, MtkLarbIommu>();
  /** This M4U's `default_domain_ops` (its identity names the instance). */
  readonly ops: IommuDomainOps<MtkIommuDomain>;
  /** Runtime PM in use (`pm_runtime_get_if_in_use() > 0`): range flushes are skipped otherwise. */
  runtimeActive: boolean;
  /** Model-only: the next n CPE_DONE polls time out (hardware fault injection). */
  cpeDoneTimeouts = 0;
  /** Model-only: TLB register accesses recorded so far (the log keeps the latest `tlbLogCapacity`). */
  tlbWrites = 0;
  private readonly tlbWriteLog: MtkIommuTlbWrite[] = [];
  private readonly tlbLogCapacity: number;
  /** PM_CLK_AO: range flushes never check runtime PM. */
  readonly pmClkAlwaysOn: boolean;
  private readonly sharedAllocator: TableAllocator | undefined;
  private readonly defaultMaster: MtkIommuMaster;
  private readonly onMessage: ((line: string) => void) | undefined;

  /**
   * `mtk_iommu_probe()`, paging side. Throws IommuError EFAULT for the plat data the kernel
   * cannot probe (mt6893: SHARE_PGTABLE with no `hw_list`, a NULL list_add_tail).
   */
  constructor(options: MtkIommuOptions = {}) {
    this.soc = options.soc ?? "mt8192";
    const plat: MtkIommuPlatData | undefined = MTK_IOMMU_PLAT_DATA[this.soc];
    if (!plat) throw new IommuError("ENODEV", "mtk_iommu_probe", { soc: this.soc }, "unknown SoC");
    this.plat = plat;
    this.name = options.name ?? `mtk-iommu.${this.soc}.${instances++}`;
    this.enable4GB = mtkIommuHasFlag(plat, HAS_4GB_MODE) && options.enable4GB === true;
    const banks: (MtkIommuBank | undefined)[] = [];
    for (let i = 0; i < plat.banksNum; i++)
      banks.push(plat.banksEnable[i] ? new MtkIommuBank(i, this) : undefined);
    this.banks = banks;
    if (mtkIommuHasFlag(plat, SHARE_PGTABLE)) {
      if (!plat.hwList)
        throw new IommuError(
          "EFAULT",
          "mtk_iommu_probe",
          { soc: this.soc },
          "SHARE_PGTABLE with a NULL plat_data->hw_list: list_add_tail() dereferences NULL (kernel oops)",
        );
      this.hwList = options.hwList ?? new MtkM4uList();
    } else {
      this.hwList = new MtkM4uList();
    }
    this.hwList.members.push(this);
    this.pmClkAlwaysOn = mtkIommuHasFlag(plat, PM_CLK_AO);
    this.runtimeActive = options.runtimeActive ?? true;
    this.sharedAllocator = options.allocator;
    this.defaultMaster = options.master ?? { larb: 0, ports: [0] };
    this.onMessage = options.onMessage;
    this.tlbLogCapacity = options.tlbLogCapacity ?? 0;
    this.ops = createMtkIommuDomainOps(this.name);
  }

  /** `mtk_iommu_ops` has no `pgsize_bitmap`: the domains' (4K | 64K | 1M | 16M). */
  get pgsizeBitmap(): number {
    return MTK_IOMMU_PGSIZES;
  }

  /** `mtk_iommu_ops` has no `capable` callback: every capability is false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /** The io_pgtable_cfg this M4U's finalise builds (before the format narrows it). */
  get pgtableCfg(): MtkIommuPgtableCfg {
    return mtkIommuPgtableCfg(this.plat, this.enable4GB);
  }

  /** Model-only: one CPE_DONE poll of a range flush; false when it timed out (1000 µs). */
  /** Whether TLB register accesses are logged (`tlbLogCapacity` > 0). */
  get tlbLogging(): boolean {
    return this.tlbLogCapacity > 0;
  }

  /** Model-only: the latest TLB register accesses, oldest first. */
  get tlbLog(): readonly MtkIommuTlbWrite[] {
    return this.tlbWriteLog;
  }

  /** @internal Record a TLB register access of bank `bank`. */
  recordTlb(bank: number, reg: number, value: number): void {
    if (this.tlbLogCapacity === 0) return;
    this.tlbWrites++;
    if (this.tlbWriteLog.length >= this.tlbLogCapacity) this.tlbWriteLog.shift();
    this.tlbWriteLog.push({ bank, reg, value });
  }

  pollCpeDone(): boolean {
    if (this.cpeDoneTimeouts <= 0) return true;
    this.cpeDoneTimeouts--;
    return false;
  }

  /** A dev_err/dev_warn line. */
  message(line: string): void {
    this.onMessage?.(`${this.name}: ${line}`);
  }

  /**
   * `mtk_iommu_domain_alloc_paging()` then, unless `attach: false`, `mtk_iommu_attach_device()`
   * for `options.master`. Flags other than 0 → -EOPNOTSUPP (the driver has no
   * `domain_alloc_paging_flags`); a failed attach frees the domain and returns its errno.
   */
  domainAllocPagingFlags(flags: number, options: MtkIommuDomainAllocOptions = {}): MtkIommuDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const counters = options.counters ?? new IommuCounters();
    const d: MtkIommuDomain = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      dirtyOps: null,
      pgsizeBitmap: MTK_IOMMU_PGSIZES,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      pgtblOps: null,
      cfg: null,
      bank: null,
      m4u: this,
      allocator: options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters }),
      freed: false,
    };
    if (options.attach === false) return d;
    const ret = this.attachDevice(d, options.master ?? this.defaultMaster);
    if (ret < 0) {
      this.ops.free?.(d);
      return ret;
    }
    return d;
  }

  /**
   * `mtk_iommu_attach_device()`: find the master's IOVA region (-EINVAL when none) and bank;
   * on the domain's first attach finalise it through the list's first M4U (-ENOMEM when the
   * table cannot be allocated); initialise the bank's hardware for its first domain
   * (programming the TTBR); enable the master's ports in its larb. 0 or -errno.
   */
  attachDevice(dom: MtkIommuDomain, master: MtkIommuMaster = this.defaultMaster): number {
    // mtk_iommu_probe_device(): a larb id beyond MTK_LARB_NR_MAX is refused.
    if (master.larb < 0 || master.larb >= MTK_LARB_NR_MAX) return EINVAL;
    const regionId = mtkIommuGetIovaRegionId(this.plat, master);
    if (regionId < 0) {
      this.message(`Can NOT find the region for larb(${master.larb}-${portMask(master).toString(16)}).`);
      return regionId;
    }
    const bankId = mtkIommuGetBankId(this.plat, master);
    if (!dom.bank) {
      const frst = this.hwList.members[0]!;
      const ret = frst.finalise(dom, regionId);
      if (ret) return ret;
      dom.bank = this.banks[bankId]!;
    }
    const bank = this.banks[bankId]!;
    if (!bank.m4uDom) {
      // mtk_iommu_hw_init(): global control in bank 0, interrupts per bank (never fails here).
      bank.hwInitDone = true;
      bank.m4uDom = dom;
      bank.ptBaseAddr = dom.cfg!.armV7sCfg!.ttbr;
    }
    // region_id > 0: dma_set_mask_and_coherent(dev, DMA_BIT_MASK(34)) — the model's devices accept it.
    this.config(master, true, regionId);
    return 0;
  }

  /** `mtk_iommu_identity_attach()` from a paging domain: disable the master's ports (tables stay). */
  detachDevice(master: MtkIommuMaster = this.defaultMaster): void {
    this.config(master, false, 0);
  }

  /**
   * `mtk_iommu_domain_finalise()` on this (the list's first) M4U: reuse `share_dom`'s table,
   * cfg and bitmap, or build the cfg and allocate the table (which becomes `share_dom`); then
   * set the domain's aperture to the region.
   */
  private finalise(dom: MtkIommuDomain, regionId: number): number {
    const share = this.shareDom;
    if (share) {
      dom.pgtblOps = share.pgtblOps;
      dom.cfg = share.cfg;
      dom.pgsizeBitmap = share.pgsizeBitmap;
    } else {
      const c = mtkIommuPgtableCfg(this.plat, this.enable4GB);
      const cfg: IoPgtableCfg = {
        quirks: c.quirks,
        pgsizeBitmap: dom.pgsizeBitmap,
        ias: c.ias,
        oas: c.oas,
        coherentWalk: false,
        tlb: null,
        allocator: dom.allocator,
        counters: dom.counters,
      };
      const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg, this);
      if (!ops) {
        this.message("Failed to alloc io pgtable");
        return ENOMEM;
      }
      dom.pgtblOps = ops;
      dom.cfg = cfg;
      this.shareDom = dom;
      dom.pgsizeBitmap = cfg.pgsizeBitmap;
    }
    const region = this.plat.iovaRegions[regionId]!;
    dom.geometry.apertureStart = region.iovaBase;
    dom.geometry.apertureEnd = region.iovaBase + region.size - 1;
    dom.geometry.forceAperture = true;
    return 0;
  }

  /** `mtk_iommu_config()`: MM M4Us (un)set the ports in their larb and record the region's bank. */
  private config(master: MtkIommuMaster, enable: boolean, regionId: number): void {
    if (!mtkIommuIsType(this.plat, MTK_IOMMU_TYPE_MM)) return; // infra: pericfg / ATF, nothing paging-visible
    let larb = this.larbs.get(master.larb);
    if (!larb) {
      larb = { mmu: 0, bank: new Array<number>(32).fill(0) };
      this.larbs.set(master.larb, larb);
    }
    const base = this.plat.iovaRegions[regionId]!.iovaBase;
    const ports = portMask(master);
    for (const p of master.ports) larb.bank[p & 31] = Math.floor(base / 2 ** 32);
    larb.mmu = (enable ? larb.mmu | ports : larb.mmu & ~ports) >>> 0;
  }
}
