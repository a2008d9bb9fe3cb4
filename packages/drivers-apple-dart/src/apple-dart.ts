/**
 * drivers/iommu/apple-dart.c: one DART instance (`struct apple_dart`, probed from its PARAMS
 * registers) as an {@link IommuDriver}; paging-domain allocation and the lazy
 * `apple_dart_finalize_domain()` (the io-pgtable is built for the first device's DART), attach
 * (`apple_dart_attach_dev_paging`: streams added, TTBRs and TCR programmed, TLB invalidated),
 * the identity and blocked attaches, and the stream-wide TLB invalidation of each register
 * layout. The per-stream TCR/TTBR registers are kept so tests can read what was programmed.
 */
import {
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  IommuError,
  iommuPagingDomainAllocFlags,
  negErrno,
  PAGE_SIZE,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { allocIoPgtableOps, type IoPgtableCfg } from "@iommu/io-pgtable";
import { type AppleDartDomain, createAppleDartDomainOps } from "./domain.js";
import {
  APPLE_DART_HW,
  type AppleDartCaps,
  type AppleDartHw,
  type AppleDartHwConfig,
  type AppleDartParams,
  encodeDartParams,
  probeDart,
} from "./hw.js";
import {
  DART_MAX_STREAMS,
  DART_T8020_STREAM_COMMAND_INVALIDATE,
  DART_T8110_TLB_CMD_OP_FLUSH_SID,
  DART_T8110_TLB_CMD_OP_SHIFT,
  MAX_DARTS_PER_DEVICE,
} from "./regs.js";

const EINVAL = negErrno("EINVAL");
const ENOMEM = negErrno("ENOMEM");
const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/** One stream map of a master: a DART and the stream IDs the device uses on it. */
export interface AppleDartStreams {
  readonly dart: AppleDart;
  readonly sids: readonly number[];
}

/**
 * `struct apple_dart_master_cfg`: the streams of one device (from its `iommus` DT property,
 * `apple_dart_of_xlate`), on up to {@link MAX_DARTS_PER_DEVICE} DARTs.
 */
export interface AppleDartMaster {
  readonly streams: readonly AppleDartStreams[];
}

/**
 * `apple_dart_of_xlate` over a device's `iommus` entries: its streams grouped per DART (at
 * most {@link MAX_DARTS_PER_DEVICE}), every DART with the first one's page size and ias.
 * Throws IommuError EINVAL where of_xlate refuses the device.
 */
export function appleDartMaster(streams: readonly AppleDartStreams[]): AppleDartMaster {
  const first = streams[0];
  if (!first || streams.length > MAX_DARTS_PER_DEVICE)
    throw new IommuError(
      "EINVAL",
      "apple_dart_of_xlate",
      { darts: streams.length },
      "1 to 3 DARTs per device",
    );
  for (const s of streams) {
    if (s.dart.pgsize !== first.dart.pgsize || s.dart.ias !== first.dart.ias)
      throw new IommuError(
        "EINVAL",
        "apple_dart_of_xlate",
        { dart: s.dart.name },
        "DARTs differ in page size or ias",
      );
    s.dart.master(s.sids);
  }
  if (new Set(streams.map((s) => s.dart)).size !== streams.length)
    throw new IommuError("EINVAL", "apple_dart_of_xlate", {}, "one stream map per DART");
  return { streams };
}

/** Model-only inputs of a DART paging-domain allocation. */
export interface AppleDartDomainAllocOptions extends IommuDomainAllocOptions {
  /**
   * The device the domain is allocated for (`domain_alloc_paging(dev)`): the domain is
   * finalized at once for its first DART. Default: stream 0 of this DART, as every caller
   * through `iommu_paging_domain_alloc(dev)` passes a device; `null` for the lazy path (the
   * table is built at the first attach).
   */
  readonly master?: AppleDartMaster | null;
}

/** A TLB invalidation command the DART received (the log kept for tests). */
export interface AppleDartTlbCommand {
  /** T8020/T6000: STREAM_COMMAND = INVALIDATE after the stream-select words; T8110: TLB_CMD. */
  readonly reg: "STREAM_COMMAND" | "TLB_CMD";
  /** The value written. */
  readonly value: number;
  /** The streams it covers (T8020: every selected stream; T8110: the one in the command). */
  readonly sids: readonly number[];
}

/** Model-only: the hardware description of an {@link AppleDart} and how the model instantiates it. */
export interface AppleDartOptions extends AppleDartHwConfig {
  /** Instance name (`apple-dart.<dev>`; default `apple-dart`). */
  name?: string;
  /** Raw PARAMS/lock register values, overriding what the description encodes. */
  regs?: Partial<AppleDartParams>;
  /**
   * The kernel's PAGE_SIZE (CONFIG_ARM64_4K/16K_PAGES). Default the model's (4 KiB). A DART
   * whose page size is larger refuses paging domains (-EINVAL) and defaults to identity.
   */
  pageSize?: number;
  /** Page-table memory shared by the domains (default: a fresh allocator per domain). */
  allocator?: TableAllocator;
  /** TLB commands kept in {@link AppleDart.tlbLog} (default 64; 0 disables it). */
  tlbLogCapacity?: number;
}

/**
 * `struct apple_dart` with `apple_dart_iommu_ops`: one DART, probed from its registers, as an
 * {@link IommuDriver} handing out paging domains. Its own `domainAllocPagingFlags` allocates
 * for a device on stream 0 (finalized, not attached); {@link device} gives a driver whose
 * domains come back attached, as VFIO's type1 gets them.
 */
export class AppleDart implements IommuDriver<AppleDartDomain> {
  readonly name: string;
  /** `dart->hw`: the variant's match data. */
  readonly hw: AppleDartHw;
  readonly regs: Readonly<AppleDartParams>;
  readonly caps: Readonly<AppleDartCaps>;
  /** The kernel PAGE_SIZE the instance is probed under. */
  readonly pageSize: number;
  /** `default_domain_ops` of this instance. */
  readonly ops: IommuDomainOps<AppleDartDomain>;
  /** `DART_TCR(dart, sid)` as last written, per stream. */
  readonly tcr: Uint32Array;
  /** `DART_TTBR(dart, sid, idx)` as last written: `ttbr[sid * hw.ttbrCount + idx]`. */
  readonly ttbr: Uint32Array;
  /** `hw->invalidate_tlb()` calls (reset included). */
  tlbFlushes = 0;
  /** TLB commands written (T8020/T6000: one per invalidate; T8110: one per stream). */
  tlbCommands = 0;
  private readonly log: AppleDartTlbCommand[] = [];
  private readonly logCapacity: number;
  private readonly sharedAllocator: TableAllocator | undefined;

  /** `apple_dart_probe()` + `apple_dart_hw_reset()`; throws IommuError EINVAL where they fail. */
  constructor(options: AppleDartOptions = {}) {
    this.name = options.name ?? "apple-dart";
    this.hw = APPLE_DART_HW[options.variant ?? "t8103"];
    if (!this.hw) throw new IommuError("EINVAL", "apple_dart_probe", { variant: options.variant });
    this.regs = { ...encodeDartParams(options), ...options.regs };
    this.caps = probeDart(this.hw, this.regs);
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this.ops = createAppleDartDomainOps(this.name);
    this.tcr = new Uint32Array(this.caps.numStreams);
    this.ttbr = new Uint32Array(this.caps.numStreams * this.hw.ttbrCount);
    this.logCapacity = options.tlbLogCapacity ?? 64;
    this.sharedAllocator = options.allocator;
    // apple_dart_hw_reset: translation off and TTBRs cleared on every stream, then a flush of all.
    this.tcr.fill(this.hw.tcrDisabled);
    const all = new Uint8Array(DART_MAX_STREAMS).fill(1, 0, this.caps.numStreams);
    this.invalidateTlb(all);
  }

  /** `dart->pgsize`: the DART's one page size. */
  get pgsize(): number {
    return this.caps.pgsize;
  }
  get ias(): number {
    return this.caps.ias;
  }
  get oas(): number {
    return this.caps.oas;
  }
  get numStreams(): number {
    return this.caps.numStreams;
  }
  get supportsBypass(): boolean {
    return this.caps.supportsBypass;
  }
  get fourLevel(): boolean {
    return this.caps.fourLevel;
  }

  /** The page sizes of its domains: the one DART page size. */
  get pgsizeBitmap(): number {
    return this.caps.pgsize;
  }

  /** apple-dart has no `capable` op: the core answers false for every capability. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /** The most recent TLB commands, oldest first. */
  get tlbLog(): readonly AppleDartTlbCommand[] {
    return this.log;
  }

  /** Model-only: a master on this DART using `sids` (default stream 0). */
  master(sids: readonly number[] = [0]): AppleDartMaster {
    for (const sid of sids)
      if (!Number.isInteger(sid) || sid < 0 || sid >= this.caps.numStreams)
        throw new IommuError("EINVAL", "apple_dart_of_xlate", { sid }, `stream out of range on ${this.name}`);
    return { streams: [{ dart: this, sids }] };
  }

  /**
   * `apple_dart_def_domain_type`: IDENTITY when the DART's page is larger than the kernel's,
   * DMA when it cannot bypass, else 0 (the core's choice).
   */
  defDomainType(master: AppleDartMaster = this.master()): number {
    const first = master.streams[0]!.dart;
    if (first.pgsize > first.pageSize) return IOMMU_DOMAIN_IDENTITY;
    if (!master.streams.every((s) => s.dart.supportsBypass)) return IOMMU_DOMAIN_DMA;
    return 0;
  }

  /** `iommu_paging_domain_alloc()` for stream 0: throws IommuError with the driver's errno. */
  domainAllocPaging(options?: AppleDartDomainAllocOptions): AppleDartDomain {
    return iommuPagingDomainAllocFlags(this, 0, options);
  }

  /**
   * `apple_dart_domain_alloc_paging(dev)` behind `__iommu_paging_domain_alloc_flags()`: the
   * driver has no flags variant, so any flag is -EOPNOTSUPP. With a device (the default) the
   * domain is finalized now (-EINVAL for a DART page larger than PAGE_SIZE, -ENOMEM when the
   * table cannot be allocated).
   */
  domainAllocPagingFlags(flags: number, options: AppleDartDomainAllocOptions = {}): AppleDartDomain | number {
    if (flags) return EOPNOTSUPP;
    const counters = options.counters ?? new IommuCounters();
    const allocator =
      options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters });
    const d: AppleDartDomain = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: 0,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      owner: this,
      finalized: false,
      streamMaps: [],
      pgtblOps: null,
      pgtblCfg: null,
      allocator,
    };
    const master = options.master === undefined ? this.master() : options.master;
    if (master) {
      const ret = finalizeDomain(d, master);
      if (ret) return ret;
    }
    return d;
  }

  /**
   * `apple_dart_attach_dev_paging`: finalize (first attach), add the master's streams to the
   * domain (-EINVAL when its DARTs are not the domain's), then per DART program the TTBRs
   * and the TCR and invalidate the TLB of those streams. 0 or -errno.
   */
  attachDev(d: AppleDartDomain, master: AppleDartMaster = this.master()): number {
    let ret = finalizeDomain(d, master);
    if (ret) return ret;
    ret = addStreams(d, master);
    if (ret) return ret;
    for (const s of master.streams) setupTranslation(d, s);
    return 0;
  }

  /** `apple_dart_attach_dev_identity`: bypass on every stream, -EINVAL if a DART cannot bypass. */
  attachIdentity(master: AppleDartMaster = this.master()): number {
    if (!master.streams.every((s) => s.dart.supportsBypass)) return EINVAL;
    for (const s of master.streams) for (const sid of s.sids) s.dart.tcr[sid] = s.dart.hw.tcrBypass;
    return 0;
  }

  /** `apple_dart_attach_dev_blocked`: translation off (`tcr_disabled`) on every stream. */
  attachBlocked(master: AppleDartMaster = this.master()): number {
    for (const s of master.streams) for (const sid of s.sids) s.dart.tcr[sid] = s.dart.hw.tcrDisabled;
    return 0;
  }

  /**
   * Model-only: the driver behind one device with streams `sids` on this DART, as VFIO sees it:
   * each paging domain comes back finalized and attached (`iommu_paging_domain_alloc` +
   * `iommu_attach_group`), and the device moves to the newest one.
   */
  device(sids: readonly number[] = [0]): IommuDriver<AppleDartDomain> {
    const master = this.master(sids);
    return {
      name: this.name,
      pgsizeBitmap: this.pgsize,
      capable: (cap) => this.capable(cap),
      domainAllocPagingFlags: (flags, options) => {
        const d = this.domainAllocPagingFlags(flags, { ...options, master });
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

  /**
   * `hw->invalidate_tlb(stream_map)`: T8020/T6000 select the streams and issue one
   * STREAM_COMMAND INVALIDATE; T8110 issues one TLB_CMD FLUSH_SID per stream.
   */
  invalidateTlb(sidmap: Uint8Array): void {
    this.tlbFlushes++;
    const n = this.caps.numStreams;
    if (this.hw.type === "T8110") {
      for (let sid = 0; sid < n; sid++) {
        if (!sidmap[sid]) continue;
        this.tlbCommands++;
        this.record({
          reg: "TLB_CMD",
          value: (DART_T8110_TLB_CMD_OP_FLUSH_SID << DART_T8110_TLB_CMD_OP_SHIFT) | sid,
          sids: [sid],
        });
      }
      return;
    }
    this.tlbCommands++;
    if (this.logCapacity === 0) return;
    const sids: number[] = [];
    for (let sid = 0; sid < n; sid++) if (sidmap[sid]) sids.push(sid);
    this.record({ reg: "STREAM_COMMAND", value: DART_T8020_STREAM_COMMAND_INVALIDATE, sids });
  }

  private record(c: AppleDartTlbCommand): void {
    if (this.logCapacity === 0) return;
    if (this.log.length === this.logCapacity) this.log.shift();
    this.log.push(c);
  }
}

/**
 * `apple_dart_finalize_domain`: refuse a DART page larger than PAGE_SIZE (-EINVAL, checked
 * even on a finalized domain), then once: copy the master's stream maps into the domain and
 * build the io-pgtable from the first DART's pgsize/ias/oas (coherent walk, no quirks, no
 * flush ops). Geometry: [0, 2^ias − 1], forced.
 */
function finalizeDomain(d: AppleDartDomain, master: AppleDartMaster): number {
  const first = master.streams[0];
  if (!first) return negErrno("ENODEV");
  const dart = first.dart;
  if (dart.pgsize > dart.pageSize) return EINVAL;
  if (d.finalized) return 0;
  // The stream maps are copied before the table is built (and stay on failure, as in the kernel).
  d.streamMaps = master.streams.slice(0, MAX_DARTS_PER_DEVICE).map((s) => ({
    dart: s.dart,
    sidmap: sidmapOf(s.sids),
  }));
  const cfg: IoPgtableCfg = {
    quirks: 0,
    pgsizeBitmap: dart.pgsize,
    ias: dart.ias,
    oas: dart.oas,
    coherentWalk: true,
    tlb: null,
    allocator: d.allocator,
    counters: d.counters,
  };
  const ops = allocIoPgtableOps(dart.hw.fmt, cfg, d);
  if (!ops) return ENOMEM;
  d.pgtblOps = ops;
  d.pgtblCfg = cfg;
  d.pgsizeBitmap = cfg.pgsizeBitmap;
  d.geometry.apertureStart = 0;
  d.geometry.apertureEnd = 2 ** cfg.ias - 1;
  d.geometry.forceAperture = true;
  d.finalized = true;
  return 0;
}

function sidmapOf(sids: readonly number[]): Uint8Array {
  const m = new Uint8Array(DART_MAX_STREAMS);
  for (const sid of sids) m[sid] = 1;
  return m;
}

/** `apple_dart_mod_streams(..., true)`: the same DART in every slot, then OR the streams in. */
function addStreams(d: AppleDartDomain, master: AppleDartMaster): number {
  for (let i = 0; i < MAX_DARTS_PER_DEVICE; i++)
    if (d.streamMaps[i]?.dart !== master.streams[i]?.dart) return EINVAL;
  for (let i = 0; i < master.streams.length; i++) {
    const map = d.streamMaps[i]!.sidmap;
    for (const sid of master.streams[i]!.sids) map[sid] = 1;
  }
  return 0;
}

/**
 * `apple_dart_setup_translation`: write the table's TTBRs (clearing the DART's others),
 * enable translation with the level count (FOUR_LEVEL on T8110), then invalidate.
 */
function setupTranslation(d: AppleDartDomain, s: AppleDartStreams): void {
  const dart = s.dart;
  const hw = dart.hw;
  const dc = d.pgtblCfg!.appleDartCfg!;
  for (const sid of s.sids) {
    const base = sid * hw.ttbrCount;
    for (let i = 0; i < hw.ttbrCount; i++) {
      if (i >= dc.nTtbrs) {
        dart.ttbr[base + i] = 0;
        continue;
      }
      const pa = dc.ttbr[i]!;
      // apple_dart_hw_set_ttbr
      if (pa % 2 ** hw.ttbrShift !== 0)
        d.counters.warn("apple_dart_hw_set_ttbr: WARN_ON(paddr & ((1 << ttbr_shift) - 1))");
      dart.ttbr[base + i] =
        (hw.ttbrValid | (Math.floor(pa / 2 ** hw.ttbrShift) * 2 ** hw.ttbrAddrFieldShift)) >>> 0;
    }
  }
  // apple_dart_hw_enable_translation
  const levels = dc.nLevels;
  let tcr = hw.tcrEnabled;
  if (levels === 4) tcr |= hw.tcr4level;
  if (levels !== 3 && levels !== 4)
    d.counters.warn("apple_dart_hw_enable_translation: WARN_ON(levels != 3 && levels != 4)");
  if (levels === 4 && !dart.fourLevel)
    d.counters.warn("apple_dart_hw_enable_translation: WARN_ON(levels == 4 && !dart->four_level)");
  for (const sid of s.sids) dart.tcr[sid] = tcr >>> 0;
  dart.invalidateTlb(sidmapOf(s.sids));
}
