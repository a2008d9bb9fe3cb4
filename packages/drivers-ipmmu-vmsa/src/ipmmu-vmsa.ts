/**
 * drivers/iommu/ipmmu-vmsa.c: one IPMMU instance (`struct ipmmu_vmsa_device`: its features,
 * root, contexts and micro-TLBs, `ipmmu_probe()`) as an {@link IommuDriver}; paging-domain
 * allocation (`ipmmu_domain_alloc_paging`: page sizes only — the table comes at the first
 * attach), `ipmmu_attach_device`, the identity attach, `ipmmu_of_xlate`'s device filter, and
 * a register file of the context/micro-TLB registers it writes (counted, readable by tests).
 */
import {
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  iommuPagingDomainAllocFlags,
  negErrno,
  PhysMem,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { ipmmuDomainInitContext } from "./context.js";
import { createIpmmuDomainOps, type IpmmuVmsaDomain } from "./domain.js";
import {
  IPMMU_FEATURES_DEFAULT,
  IPMMU_OF_IDS,
  IPMMU_SOCS,
  type IpmmuFeatures,
  type IpmmuSocInfo,
  ipmmuDeviceIsAllowed,
} from "./features.js";
import {
  IM_NS_ALIAS_OFFSET,
  IMCTR,
  IMCTR_FLUSH,
  IMUASID,
  IMUCTR,
  IMUCTR_FLUSH,
  IMUCTR_MMUEN,
  IMUCTR_TTSEL_MMU,
  IPMMU_CTX_INVALID,
  IPMMU_CTX_MAX,
} from "./regs.js";

/** `SZ_1G | SZ_2M | SZ_4K`: what `ipmmu_domain_alloc_paging` gives every domain. */
export const IPMMU_PGSIZE_BITMAP = SZ_1G + SZ_2M + SZ_4K;

/** Model-only: a device behind the IPMMU (its `iommus` specifiers and what of_xlate checks). */
export interface IpmmuMasterOptions {
  /** Micro-TLB numbers (the fwspec ids; default [0]). */
  readonly utlbs?: readonly number[];
  /** `dev_name()` (default `0000:00:00.0`). */
  readonly name?: string;
  /** A PCI device (default true: what VFIO passes through). */
  readonly pci?: boolean;
}

/** A device that passed `ipmmu_of_xlate`: its micro-TLBs on one IPMMU. */
export interface IpmmuMaster {
  readonly mmu: IpmmuVmsa;
  readonly utlbs: readonly number[];
  readonly name: string;
}

/** Model-only: the hardware description of an {@link IpmmuVmsa}. */
export interface IpmmuVmsaOptions {
  /** The SoC (`soc_id`, e.g. `r8a7795`; default `r8a7790`, an R-Car Gen2). */
  soc?: string;
  /** The SoC revision `soc_device_match` sees (default `ES3.0`). */
  revision?: string;
  /** Instance name (default `ipmmu-vmsa`). */
  name?: string;
  /**
   * Gen3/Gen4: the main IPMMU-MM (`renesas,ipmmu-main`) this cache IPMMU sits in front of; it
   * owns the contexts, so leaves sharing one compete for them. Default: a fresh one.
   */
  root?: IpmmuVmsa;
  /** Gen3/Gen4: this instance is the IPMMU-MM itself (never registered: it has no devices). */
  main?: boolean;
  /** Page-table memory shared by the domains (default: a fresh allocator per domain). */
  allocator?: TableAllocator;
  /**
   * Model-only fix of the missing NULL checks: map/unmap/iova_to_phys_length before the first attach
   * answer -ENODEV / 0 / unmapped instead of oopsing (default false: the kernel's behaviour).
   */
  fixNullIop?: boolean;
  /**
   * Model-only: TLB events kept in {@link IpmmuVmsa.tlbLog} (IMCTR writes with FLUSH and the
   * completions `ipmmu_tlb_sync` observes), for the IOTLB feed. Default 0: no log, nothing
   * allocated on the flush path.
   */
  tlbLogCapacity?: number;
}

/**
 * Model-only: one TLB event of a context — an IMCTR write with FLUSH set (`"flush"`, the value
 * written), or `ipmmu_tlb_sync` reading IMCTR with FLUSH clear (`"done"`: the flush completed).
 */
export interface IpmmuTlbEvent {
  readonly kind: "flush" | "done";
  readonly ctx: number;
  readonly value: number;
}

/**
 * `struct ipmmu_vmsa_device` with `ipmmu_ops`: one IPMMU as an {@link IommuDriver}. Its own
 * `domainAllocPagingFlags` returns the kernel's unattached domain; {@link device} gives a
 * driver whose domains come back attached (context and table allocated), as VFIO gets them.
 */
export class IpmmuVmsa implements IommuDriver<IpmmuVmsaDomain> {
  readonly name: string;
  readonly soc: IpmmuSocInfo;
  readonly revision: string;
  readonly compatible: string;
  /** `mmu->features` */
  readonly features: IpmmuFeatures;
  /** `mmu->root`: the IPMMU that owns the contexts (this one on Gen2). */
  readonly root: IpmmuVmsa;
  /** `mmu->num_ctx` */
  readonly numCtx: number;
  /**
   * `mmu->domains[]` with the `ctx` bitmap (root only): each context's domain, `"reserved"` for
   * the firmware's context 0 (Gen3/Gen4), or null when free.
   */
  readonly contexts: (IpmmuVmsaDomain | "reserved" | null)[];
  /** `mmu->utlb_ctx[]`: the context each micro-TLB translates through (-1: none). */
  readonly utlbCtx: Int8Array;
  /** Registered with the IOMMU core (false for a Gen3/Gen4 IPMMU-MM). */
  readonly registered: boolean;
  readonly ops: IommuDomainOps<IpmmuVmsaDomain>;
  /** MMIO accesses, and IMCTR writes with FLUSH set (hardware TLB flushes), on this instance. */
  mmioReads = 0;
  mmioWrites = 0;
  tlbFlushes = 0;
  /** dev_err messages (TLB sync timeouts), for tests. */
  readonly messages: string[] = [];
  /** Model-only: TLB events recorded so far (the log keeps the latest `tlbLogCapacity`). */
  tlbEvents = 0;
  private readonly tlbEventLog: IpmmuTlbEvent[] = [];
  private readonly tlbLogCapacity: number;
  private readonly regs = new Map<number, number>();
  private readonly aliasOffset: number;
  private readonly sharedAllocator: TableAllocator | undefined;

  /** `ipmmu_probe()`; throws IommuError ENODEV for an unknown SoC. */
  constructor(options: IpmmuVmsaOptions = {}) {
    const soc = IPMMU_SOCS[options.soc ?? "r8a7790"];
    if (!soc) throw new IommuError("ENODEV", "ipmmu_probe", { soc: options.soc }, "no matching compatible");
    this.soc = soc;
    this.revision = options.revision ?? "ES3.0";
    this.compatible = soc.compatible;
    this.features = IPMMU_OF_IDS[soc.compatible] ?? IPMMU_FEATURES_DEFAULT;
    this.name = options.name ?? "ipmmu-vmsa";
    this.aliasOffset = this.features.useNsAliasOffset ? IM_NS_ALIAS_OFFSET : 0;
    this.numCtx = Math.min(IPMMU_CTX_MAX, this.features.numberOfContexts);
    this.utlbCtx = new Int8Array(this.features.numUtlbs).fill(IPMMU_CTX_INVALID);
    this.contexts = [];
    this.sharedAllocator = options.allocator;
    this.tlbLogCapacity = options.tlbLogCapacity ?? 0;
    // Root: no cache-leaf nodes, or no `renesas,ipmmu-main` link.
    if (!this.features.hasCacheLeafNodes || options.main) this.root = this;
    else {
      const root =
        options.root ?? new IpmmuVmsa({ ...options, main: true, name: `${this.name}-mm`, root: undefined });
      if (root.root !== root || root.compatible !== this.compatible)
        throw new IommuError("EINVAL", "ipmmu_probe", {}, "root must be an IPMMU-MM of the same SoC");
      this.root = root;
    }
    if (this.root === this) {
      this.contexts.length = this.numCtx;
      this.contexts.fill(null);
      // ipmmu_device_reset: every context disabled.
      for (let i = 0; i < this.numCtx; i++) this.ctxWrite(i, IMCTR, 0);
      // The reserved context is marked used for good.
      if (this.features.reservedContext) this.contexts[0] = "reserved";
    }
    this.registered = !(this.features.hasCacheLeafNodes && this.root === this);
    this.ops = createIpmmuDomainOps(this.name, options.fixNullIop ?? false);
  }

  /** The page sizes of every domain: 4K | 2M | 1G. */
  get pgsizeBitmap(): number {
    return IPMMU_PGSIZE_BITMAP;
  }

  /** ipmmu-vmsa has no `capable` op: the core answers false for every capability. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /** Contexts still free in the root. */
  get freeContexts(): number {
    return this.root.contexts.filter((c) => c === null).length;
  }

  // -------------------------------------------------------------------------------------------
  // registers

  /** `ipmmu_read` */
  read(offset: number): number {
    this.mmioReads++;
    return this.regs.get(this.aliasOffset + offset) ?? 0;
  }

  /** `ipmmu_write`: the IMCTR FLUSH bit self-clears once the flush is done (instantly here). */
  write(offset: number, value: number, isImctr = false): void {
    this.mmioWrites++;
    let v = value >>> 0;
    if (isImctr && v & IMCTR_FLUSH) {
      this.tlbFlushes++;
      v &= ~IMCTR_FLUSH;
    }
    this.regs.set(this.aliasOffset + offset, v >>> 0);
  }

  /** `ipmmu_ctx_reg`: contexts 8..15 sit 0x800 further on. */
  ctxReg(ctx: number, reg: number): number {
    let base = this.features.ctxOffsetBase;
    if (ctx > 7) base += 0x800 - 8 * 0x40;
    return base + ctx * this.features.ctxOffsetStride + reg;
  }

  /** `ipmmu_ctx_read` */
  ctxRead(ctx: number, reg: number): number {
    return this.read(this.ctxReg(ctx, reg));
  }

  /** `ipmmu_ctx_write` */
  ctxWrite(ctx: number, reg: number, value: number): void {
    if (reg === IMCTR && value & IMCTR_FLUSH && this.tlbLogCapacity > 0)
      this.recordTlb({ kind: "flush", ctx, value: value >>> 0 });
    this.write(this.ctxReg(ctx, reg), value, reg === IMCTR);
  }

  /** Model-only: `ipmmu_tlb_sync` saw the context's flush complete (IMCTR.FLUSH clear). */
  tlbDone(ctx: number): void {
    if (this.tlbLogCapacity > 0) this.recordTlb({ kind: "done", ctx, value: 0 });
  }

  /** Whether TLB events are logged (`tlbLogCapacity` > 0). */
  get tlbLogging(): boolean {
    return this.tlbLogCapacity > 0;
  }

  /** Model-only: the latest TLB events, oldest first. */
  get tlbLog(): readonly IpmmuTlbEvent[] {
    return this.tlbEventLog;
  }

  private recordTlb(e: IpmmuTlbEvent): void {
    this.tlbEvents++;
    if (this.tlbEventLog.length >= this.tlbLogCapacity) this.tlbEventLog.shift();
    this.tlbEventLog.push(e);
  }

  /** Model-only: a register's value without counting an access (tests). */
  peek(offset: number): number {
    return this.regs.get(this.aliasOffset + offset) ?? 0;
  }

  /** Model-only: a context register's value without counting an access. */
  peekCtx(ctx: number, reg: number): number {
    return this.peek(this.ctxReg(ctx, reg));
  }

  /** `IMUCTR(utlb)` without counting an access. */
  peekUtlbCtr(utlb: number): number {
    return this.peek(this.features.utlbOffsetBase + IMUCTR(utlb));
  }

  /** dev_err text. */
  log(message: string): void {
    this.messages.push(message);
  }

  // -------------------------------------------------------------------------------------------
  // devices and domains

  /**
   * `ipmmu_of_xlate` → `ipmmu_probe_device`: a device on this IPMMU. Throws IommuError ENODEV
   * where the kernel leaves the device without an IOMMU (`ipmmu_device_is_allowed()` refuses
   * it, or this instance is an unregistered IPMMU-MM).
   */
  master(options: IpmmuMasterOptions = {}): IpmmuMaster {
    const name = options.name ?? "0000:00:00.0";
    const pci = options.pci ?? true;
    if (!ipmmuDeviceIsAllowed(this.soc, this.revision, { name, pci }))
      throw new IommuError("ENODEV", "ipmmu_of_xlate", { name }, `${this.soc.socId} does not allow ${name}`);
    if (!this.registered)
      throw new IommuError("ENODEV", "ipmmu_probe_device", { name }, "the IPMMU-MM is not registered");
    const utlbs = options.utlbs ?? [0];
    for (const u of utlbs)
      if (!Number.isInteger(u) || u < 0 || u >= this.features.numUtlbs)
        throw new IommuError(
          "EINVAL",
          "ipmmu_of_xlate",
          { utlb: u },
          `micro-TLB beyond ${this.features.numUtlbs}`,
        );
    return { mmu: this, utlbs, name };
  }

  /** `iommu_paging_domain_alloc()`: throws IommuError with the driver's errno. */
  domainAllocPaging(options?: IommuDomainAllocOptions): IpmmuVmsaDomain {
    return iommuPagingDomainAllocFlags(this, 0, options);
  }

  /**
   * `ipmmu_domain_alloc_paging`: a domain with pgsize_bitmap 4K|2M|1G and nothing else — no
   * context, no table, no geometry until the first attach. No flags variant: -EOPNOTSUPP.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): IpmmuVmsaDomain | number {
    if (flags) return negErrno("EOPNOTSUPP");
    const counters = options.counters ?? new IommuCounters();
    const allocator =
      options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters });
    return {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: IPMMU_PGSIZE_BITMAP,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      owner: this,
      mmu: null,
      contextId: 0,
      pgtblOps: null,
      pgtblCfg: null,
      allocator,
    };
  }

  /**
   * `ipmmu_attach_device`: the first attach initializes the context (-EBUSY with no free
   * context, -EINVAL when the table cannot be allocated; the domain stays unused), a domain
   * of another IPMMU is -EINVAL; then every micro-TLB of the device is pointed at the
   * context. 0 or -errno.
   */
  attachDev(d: IpmmuVmsaDomain, master: IpmmuMaster = this.master()): number {
    const mmu = master.mmu;
    let ret = 0;
    if (!d.mmu) {
      d.mmu = mmu;
      ret = ipmmuDomainInitContext(d);
      if (ret < 0) d.mmu = null;
    } else if (d.mmu !== mmu) ret = negErrno("EINVAL");
    if (ret < 0) return ret;
    for (const u of master.utlbs) utlbEnable(d, u);
    return 0;
  }

  /** `ipmmu_iommu_identity_attach`: the device's micro-TLBs leave the old paging domain's context. */
  attachIdentity(master: IpmmuMaster, old: IpmmuVmsaDomain | null): number {
    if (!old) return 0;
    for (const u of master.utlbs) utlbDisable(master.mmu, u);
    return 0;
  }

  /**
   * Model-only: the driver behind one device (`master` options) as VFIO's type1 sees it: each
   * paging domain comes back attached (`iommu_paging_domain_alloc` + `iommu_attach_group`:
   * context and table allocated); an attach failure frees the domain and returns its errno.
   */
  device(options: IpmmuMasterOptions = {}): IommuDriver<IpmmuVmsaDomain> {
    const master = this.master(options);
    return {
      name: this.name,
      pgsizeBitmap: IPMMU_PGSIZE_BITMAP,
      capable: (cap) => this.capable(cap),
      domainAllocPagingFlags: (flags, opts) => {
        const d = this.domainAllocPagingFlags(flags, opts);
        if (typeof d === "number") return d;
        const ret = this.attachDev(d, master);
        if (ret) {
          d.ops?.free?.(d);
          return ret;
        }
        return d;
      },
    };
  }
}

/** `ipmmu_utlb_enable`: ASID 0, then TTSEL = the context | FLUSH | MMUEN. */
function utlbEnable(d: IpmmuVmsaDomain, utlb: number): void {
  const mmu = d.mmu!;
  const base = mmu.features.utlbOffsetBase;
  mmu.write(base + IMUASID(utlb), 0);
  mmu.write(base + IMUCTR(utlb), IMUCTR_TTSEL_MMU(d.contextId) | IMUCTR_FLUSH | IMUCTR_MMUEN);
  mmu.utlbCtx[utlb] = d.contextId;
}

/** `ipmmu_utlb_disable` */
function utlbDisable(mmu: IpmmuVmsa, utlb: number): void {
  mmu.write(mmu.features.utlbOffsetBase + IMUCTR(utlb), 0);
  mmu.utlbCtx[utlb] = IPMMU_CTX_INVALID;
}
