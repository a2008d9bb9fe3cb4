/**
 * drivers/iommu/msm_iommu.c: one MSM IOMMU (`struct msm_iommu_dev`, paging side) as an
 * {@link IommuDriver} — `ncb` context banks, the one master (`struct msm_iommu_ctx_dev`: the
 * first device that named this IOMMU, with its MIDs), `msm_iommu_domain_alloc_paging()` (a
 * bitmap and a 32-bit aperture, no table), and `msm_iommu_attach_dev()`, which builds the
 * ARM_V7S cfg and table on **every** attach (`msm_iommu_domain_config`), takes a free
 * context bank and programs it (TTBR0, TTBCR, PRRR/NMRR, ASID, MMU on).
 */
import {
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  negErrno,
  PhysMem,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  TableAllocator,
} from "@iommu/core";
import { allocIoPgtableOps, freeIoPgtableOps, type IoPgtableCfg, IoPgtableFmt } from "@iommu/io-pgtable";
import { createMsmDomainOps, type MsmLengthMode, type MsmPriv } from "./msm-domain.js";
import { CONTEXTIDR_ASID_MASK, SCTLR_AFE, SCTLR_M, SCTLR_TRE, TLBIVA_VA } from "./regs.js";
import { msmIommuFlushOps } from "./tlb.js";
import { msmV2pTranslate } from "./v2p.js";

const EEXIST = negErrno("EEXIST");
const ENODEV = negErrno("ENODEV");
const ENOSPC = negErrno("ENOSPC");
const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/** `MSM_IOMMU_PGSIZES`: SZ_4K | SZ_64K | SZ_1M | SZ_16M. */
export const MSM_IOMMU_PGSIZES = SZ_4K | SZ_64K | SZ_1M | SZ_16M;

/** `struct msm_iommu_ctx_dev`: the master of an IOMMU — its MIDs and its context number. */
export interface MsmIommuMaster {
  /** `mids[]` from the `iommus` specifiers. */
  readonly mids: readonly number[];
  /** `num`: the context bank of the last attach (never reset; -ENOSPC after a failed allocation). */
  num: number;
}

/**
 * Model-only: one TLB maintenance event of an MSM IOMMU — a CTX_TLBIALL, a run of `count`
 * TLBIVA writes (`value` the first one: VA[31:12] | ASID, each next one `granule` further on,
 * wrapping at 2^32 as the kernel's `unsigned long` does), or `"done"`: the end of a
 * maintenance sequence on this IOMMU (`__disable_clocks()`; the driver has no TLBSYNC and
 * relies on the posted writes having landed by its next register access).
 */
export interface MsmTlbEvent {
  readonly kind: "TLBIALL" | "TLBIVA" | "done";
  /** The context bank (-1 for `"done"`). */
  readonly ctx: number;
  readonly value: number;
  readonly count: number;
  readonly granule: number;
}

/** Model-only: where a context bank reports its TLB writes (its IOMMU). */
export interface MsmTlbSink {
  recordTlb(kind: MsmTlbEvent["kind"], ctx: number, value: number, count: number, granule: number): void;
}

/** One context bank's registers, as the paging side programs and reads them. */
export class MsmContextBank {
  sctlr = 0;
  ttbr0 = 0;
  ttbcr = 0;
  contextidr = 0;
  prrr = 0;
  nmrr = 0;
  par = 0;
  /** The memory the context's table walker reads (the programmed domain's). */
  mem: PhysMem | null = null;
  /** Model statistics: CTX_TLBIALL and TLBIVA writes, V2P requests; the last TLBIVA value. */
  tlbiall = 0;
  tlbiva = 0;
  v2p = 0;
  lastTlbiva = 0;

  constructor(
    readonly index: number,
    /** The IOMMU whose TLB log records this bank's writes (null: none). */
    private readonly sink: MsmTlbSink | null = null,
  ) {}

  /** A write to CTX_TLBIALL: the context's whole TLB. */
  writeTlbiall(): void {
    this.tlbiall++;
    this.sink?.recordTlb("TLBIALL", this.index, 0, 1, 0);
  }

  /** `n` writes to TLBIVA: `first`, then `granule` further on each (VA wraps at 2^32). */
  writeTlbiva(first: number, n: number, granule: number): void {
    this.tlbiva += n;
    const va = first & TLBIVA_VA;
    this.lastTlbiva =
      ((((va + (n - 1) * granule) % 2 ** 32) & TLBIVA_VA) | (first & CONTEXTIDR_ASID_MASK)) >>> 0;
    this.sink?.recordTlb("TLBIVA", this.index, first >>> 0, n, granule);
  }

  /** A write to V2PPR: the hardware walks the tables at TTBR0 and latches PAR, which it returns. */
  v2ppr(va: number, counters: IommuCounters): number {
    this.v2p++;
    this.par = this.mem ? msmV2pTranslate(this.mem, this.ttbr0, this.sctlr, va, counters) : 0x3;
    return this.par;
  }

  /** `__reset_context()` */
  reset(): void {
    this.sctlr = 0;
    this.ttbr0 = 0;
    this.ttbcr = 0;
    this.par = 0;
    this.writeTlbiall();
  }
}

/** Model-only: the hardware description of an {@link MsmIommu}. */
export interface MsmIommuOptions {
  /** Instance name (ops table name, messages). Default `msm-iommu.<n>`. */
  name?: string;
  /** `qcom,ncb`: number of context banks (default 4; at most 64). */
  ncb?: number;
  /** The master's MIDs (default `[0]`). */
  mids?: readonly number[];
  /** Page-table memory (default: a fresh allocator per domain, reporting into its counters). */
  allocator?: TableAllocator;
  /** What domains' `iovaToPhysLength` does (default `"software"`). */
  lengthMode?: MsmLengthMode;
  /** Receives the driver's dev_err lines. */
  onMessage?: (line: string) => void;
  /**
   * Model-only: TLB events kept in {@link MsmIommu.tlbLog} for the IOTLB feed. Default 0: no
   * log, nothing allocated on the flush path.
   */
  tlbLogCapacity?: number;
}

/** Options of {@link MsmIommu.domainAllocPagingFlags}. */
export interface MsmDomainAllocOptions extends IommuDomainAllocOptions {
  /** Attach the master as `iommu_attach_group()` would (default); false: leave unattached. */
  readonly attach?: boolean;
  readonly lengthMode?: MsmLengthMode;
}

/** The io_pgtable_cfg `msm_iommu_domain_config()` builds (before the format narrows it). */
export const MSM_IOMMU_PGTABLE_CFG = {
  quirks: 0,
  pgsizeBitmap: MSM_IOMMU_PGSIZES,
  ias: 32,
  oas: 32,
  coherentWalk: false,
} as const;

let instances = 0;

/** `struct msm_iommu_dev` with `msm_iommu_ops`. */
export class MsmIommu implements IommuDriver<MsmPriv>, MsmTlbSink {
  readonly name: string;
  /** `iommu->ncb` */
  readonly ncb: number;
  /** The context banks. */
  readonly contexts: readonly MsmContextBank[];
  /** `iommu->context_map`: allocated context banks. */
  readonly contextMap: boolean[];
  /** The one master on `ctx_list`. */
  readonly master: MsmIommuMaster;
  /** This IOMMU's `default_domain_ops` (its identity names the instance). */
  readonly ops: IommuDomainOps<MsmPriv>;
  private readonly sharedAllocator: TableAllocator | undefined;
  private readonly lengthMode: MsmLengthMode;
  private readonly onMessage: ((line: string) => void) | undefined;
  /** Model-only: TLB events recorded so far (the log keeps the latest `tlbLogCapacity`). */
  tlbEvents = 0;
  private readonly tlbEventLog: MsmTlbEvent[] = [];
  private readonly tlbLogCapacity: number;

  constructor(options: MsmIommuOptions = {}) {
    this.name = options.name ?? `msm-iommu.${instances++}`;
    this.ncb = options.ncb ?? 4;
    this.tlbLogCapacity = options.tlbLogCapacity ?? 0;
    this.contexts = Array.from({ length: this.ncb }, (_, i) => new MsmContextBank(i, this));
    this.contextMap = new Array<boolean>(this.ncb).fill(false);
    this.master = { mids: options.mids ?? [0], num: 0 };
    this.sharedAllocator = options.allocator;
    this.lengthMode = options.lengthMode ?? "software";
    this.onMessage = options.onMessage;
    this.ops = createMsmDomainOps(this.name);
  }

  /** `msm_iommu_ops` has no pgsize_bitmap: the domains' `MSM_IOMMU_PGSIZES`. */
  get pgsizeBitmap(): number {
    return MSM_IOMMU_PGSIZES;
  }

  /** No `capable` callback: every capability is false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /** Context bank `n`, or undefined for a number the hardware does not have. */
  context(n: number): MsmContextBank | undefined {
    return n >= 0 ? this.contexts[n] : undefined;
  }

  /** Whether TLB events are logged (`tlbLogCapacity` > 0). */
  get tlbLogging(): boolean {
    return this.tlbLogCapacity > 0;
  }

  /** Model-only: the latest TLB events, oldest first. */
  get tlbLog(): readonly MsmTlbEvent[] {
    return this.tlbEventLog;
  }

  /** @internal A bank's TLB write, or the end of a maintenance sequence (`"done"`). */
  recordTlb(kind: MsmTlbEvent["kind"], ctx: number, value: number, count: number, granule: number): void {
    if (this.tlbLogCapacity === 0) return;
    this.tlbEvents++;
    if (this.tlbEventLog.length >= this.tlbLogCapacity) this.tlbEventLog.shift();
    this.tlbEventLog.push({ kind, ctx, value, count, granule });
  }

  /** Model-only: a maintenance sequence on this IOMMU ended (`__disable_clocks()`). */
  tlbDone(): void {
    this.recordTlb("done", -1, 0, 0, 0);
  }

  private message(line: string): void {
    this.onMessage?.(`${this.name}: ${line}`);
  }

  /**
   * `msm_iommu_domain_alloc_paging()` (aperture [0, 2^32 − 1], forced) and, unless
   * `attach: false`, `msm_iommu_attach_dev()`. Flags → -EOPNOTSUPP; a failed attach frees the
   * domain and returns its errno.
   */
  domainAllocPagingFlags(flags: number, options: MsmDomainAllocOptions = {}): MsmPriv | number {
    if (flags !== 0) return EOPNOTSUPP;
    const counters = options.counters ?? new IommuCounters();
    const d: MsmPriv = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      dirtyOps: null,
      pgsizeBitmap: MSM_IOMMU_PGSIZES,
      geometry: { apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true },
      counters,
      pgtblOps: null,
      listAttached: [],
      cfg: null,
      dev: null,
      allocator: options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters }),
      lengthMode: options.lengthMode ?? this.lengthMode,
      tlbCallbacks: { flushAll: 0, flushWalk: 0, addPage: 0 },
      leakedTables: 0,
      v2pMismatches: 0,
    };
    if (options.attach === false) return d;
    const ret = this.attach(d);
    if (ret < 0) {
      this.ops.free?.(d);
      return ret;
    }
    return d;
  }

  /**
   * `msm_iommu_domain_config()`: a new cfg and ARM_V7S table for the domain. The previous
   * table (an earlier attach's) is dropped without being freed, its mappings with it.
   * Returns -EINVAL when the table cannot be allocated (the caller ignores it).
   */
  private domainConfig(d: MsmPriv): number {
    if (d.pgtblOps) d.leakedTables++;
    const cfg: IoPgtableCfg = {
      ...MSM_IOMMU_PGTABLE_CFG,
      pgsizeBitmap: d.pgsizeBitmap,
      tlb: msmIommuFlushOps,
      allocator: d.allocator,
      counters: d.counters,
    };
    d.cfg = cfg;
    d.pgtblOps = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg, d);
    if (!d.pgtblOps) {
      this.message("Failed to allocate pgtable");
      return negErrno("EINVAL");
    }
    return 0;
  }

  /**
   * `msm_iommu_attach_dev()` for this IOMMU's master: (re)configure the domain's table — its
   * result is ignored, so a failed allocation still attaches with no table — then, unless the
   * master already holds a non-zero context (-EEXIST), allocate a context bank (-ENODEV when
   * all `ncb` are taken), program it and put this IOMMU at the head of `list_attached`.
   */
  attach(d: MsmPriv): number {
    d.dev = this.master;
    this.domainConfig(d);
    const m = this.master;
    if (m.num) {
      this.message("domain already attached");
      return EEXIST;
    }
    m.num = this.allocCtx();
    if (m.num < 0) return ENODEV;
    // config_mids(): the MIDs route to context m.num, whose ASID is its own number.
    const ctx = this.contexts[m.num]!;
    ctx.contextidr = m.num;
    this.programContext(ctx, d);
    d.listAttached.unshift(this);
    return 0;
  }

  /**
   * `msm_iommu_identity_attach()` with the paging domain as `old`: free its io-pgtable (a
   * tlb_flush_all first) and release and reset the context of every attached IOMMU's master.
   * `priv->iop` is left dangling: a later map through the domain is a use after free
   * (modelled as the EFAULT of a missing table).
   */
  detach(d: MsmPriv): void {
    if (d.pgtblOps) freeIoPgtableOps(d.pgtblOps);
    d.pgtblOps = null;
    for (const iommu of d.listAttached) {
      const n = iommu.master.num;
      if (n >= 0 && n < iommu.ncb) {
        iommu.contextMap[n] = false;
        iommu.contexts[n]!.reset();
        iommu.tlbDone();
      }
    }
  }

  /** `msm_iommu_alloc_ctx(map, 0, ncb)`: the lowest free context, or -ENOSPC. */
  private allocCtx(): number {
    const i = this.contextMap.indexOf(false);
    if (i < 0) return ENOSPC;
    this.contextMap[i] = true;
    return i;
  }

  /** `__program_context()` */
  private programContext(ctx: MsmContextBank, d: MsmPriv): void {
    ctx.reset();
    const v7s = d.cfg?.armV7sCfg;
    ctx.sctlr = SCTLR_TRE | SCTLR_AFE;
    ctx.ttbcr = v7s?.tcr ?? 0;
    ctx.ttbr0 = v7s?.ttbr ?? 0;
    ctx.prrr = v7s?.prrr ?? 0;
    ctx.nmrr = v7s?.nmrr ?? 0;
    ctx.mem = d.allocator.mem;
    ctx.writeTlbiall();
    ctx.sctlr |= SCTLR_M;
    this.tlbDone();
  }
}
