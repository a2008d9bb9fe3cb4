/**
 * drivers/iommu/arm/arm-smmu/qcom_iommu.c: the Qualcomm "secure" SMMU whose context banks are
 * owned by the firmware and handed to devices by ASID. Every domain is ARM_32_LPAE_S1 with
 * ias 32, oas 40 and 4 KiB pages only, built at the first attach (`qcom_iommu_init_domain`)
 * and programmed into every context bank the device names. Lookups are the io-pgtable walk.
 *
 * TLB maintenance (`qcom_flush_ops`): leaves are invalidated on the spot (TLBIVAL) on every
 * bank of the device; `iotlb_sync` and `flush_iotlb_all` only wait (TLBSYNC per bank).
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_NOEXEC,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  negErrno,
  PhysMem,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  freeIoPgtableOps,
  type IommuFlushOps,
  type IoPgtableCfg,
  type IoPgtableDomain,
  IoPgtableFmt,
  ioPgtableDomainOps,
} from "@iommu/io-pgtable";
import { ArmSmmuHw } from "./context-bank.js";
import { ARM_SMMU_CB_S1_TLBIASID, ARM_SMMU_CB_S1_TLBIVA, ARM_SMMU_CB_S1_TLBIVAL } from "./regs.js";

const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/** `struct qcom_iommu_domain`; `pgtblOps` is null until the first attach. */
export interface QcomIommuDomain extends IoPgtableDomain {
  readonly owner: QcomIommu;
  /** `qcom_domain->iommu`: set at the first attach. */
  iommu: QcomIommu | null;
  /** `qcom_domain->fwspec->ids`: the context banks (ASIDs) of the device it was finalised for. */
  asids: readonly number[];
  pgtblCfg: Readonly<IoPgtableCfg> | null;
  readonly allocator: TableAllocator;
}

/** Model-only: a qcom_iommu instance. */
export interface QcomIommuOptions {
  /** Instance name (default `qcom-iommu`). */
  name?: string;
  /** Context banks (`ctxs[]`, indexed by ASID; default 8: ASIDs 0–7). */
  contexts?: number;
  /** ASIDs whose bank is `qcom,msm-iommu-v2-sec`: left for the firmware, never programmed. */
  securedContexts?: readonly number[];
  /** Page-table memory shared by every domain (default: one allocator per domain). */
  allocator?: TableAllocator;
  /** Register writes kept for inspection (default 0). */
  logCapacity?: number;
}

function banks(d: QcomIommuDomain) {
  return d.iommu!.hw.cbs;
}

/** `qcom_iommu_tlb_sync`: TLBSYNC (and TLBSTATUS polling) on every bank of the device. */
function tlbSync(d: QcomIommuDomain): void {
  const cbs = banks(d);
  for (const asid of d.asids) cbs[asid]!.tlbSync();
}

/**
 * `qcom_iommu_tlb_inv_range_nosync`: per bank, one TLBIVA(L) of `VA[31:12] | ASID` per
 * granule. The kernel reuses its `iova` argument across banks, so each bank after the first
 * starts where the previous one stopped: the values logged reproduce that (README quirks).
 */
function tlbInvRangeNosync(
  d: QcomIommuDomain,
  iova: number,
  size: number,
  granule: number,
  leaf: boolean,
): void {
  const reg = leaf ? ARM_SMMU_CB_S1_TLBIVAL : ARM_SMMU_CB_S1_TLBIVA;
  const cbs = banks(d);
  const logging = d.iommu!.hw.logging;
  const n = Math.max(1, Math.round(size / granule));
  let va = iova;
  for (const asid of d.asids) {
    const cb = cbs[asid]!;
    va = va - (va % 0x1000) + asid;
    if (!logging) {
      cb.tlbiWriteN(reg, n);
      va += n * granule;
      continue;
    }
    for (let i = 0; i < n; i++) {
      cb.tlbiWrite(reg, va % 2 ** 32, false);
      va += granule;
    }
  }
}

/** `qcom_flush_ops` */
export const qcomFlushOps: IommuFlushOps = {
  /** `qcom_iommu_tlb_inv_context`: TLBIASID on every bank, then the syncs. */
  tlbFlushAll(cookie) {
    const d = cookie as QcomIommuDomain;
    d.counters.flushAll++;
    const cbs = banks(d);
    for (const asid of d.asids) cbs[asid]!.tlbiWrite(ARM_SMMU_CB_S1_TLBIASID, asid, false);
    tlbSync(d);
  },
  tlbFlushWalk(iova, size, granule, cookie) {
    const d = cookie as QcomIommuDomain;
    d.counters.flushWalk++;
    tlbInvRangeNosync(d, iova, size, granule, false);
    tlbSync(d);
  },
  tlbAddPage(_gather, iova, granule, cookie) {
    const d = cookie as QcomIommuDomain;
    d.counters.flushPage++;
    tlbInvRangeNosync(d, iova, granule, granule, true);
  },
};

/** `qcom_iommu_flush_iotlb_all` (also `iotlb_sync`): only the TLB syncs — no invalidation. */
function flushIotlbAll(d: QcomIommuDomain): void {
  if (!d.pgtblOps) return;
  tlbSync(d);
}

/** `qcom_iommu_domain_free`: the table goes if one was built. */
function domainFree(d: QcomIommuDomain): void {
  if (d.iommu && d.pgtblOps) freeIoPgtableOps(d.pgtblOps);
  d.pgtblOps = null;
}

/** `struct qcom_iommu_dev` with `qcom_iommu_ops`. */
export class QcomIommu implements IommuDriver<QcomIommuDomain> {
  readonly name: string;
  readonly ops: IommuDomainOps<QcomIommuDomain>;
  readonly hw: ArmSmmuHw;
  /** `ctx->domain` per ASID. */
  readonly ctxDomain: Array<QcomIommuDomain | null>;
  private readonly secured: ReadonlySet<number>;
  private readonly sharedAllocator: TableAllocator | undefined;

  constructor(options: QcomIommuOptions = {}) {
    this.name = options.name ?? "qcom-iommu";
    const n = options.contexts ?? 8;
    this.hw = new ArmSmmuHw(n, options.logCapacity ?? 0);
    this.ctxDomain = new Array<QcomIommuDomain | null>(n).fill(null);
    this.secured = new Set(options.securedContexts ?? []);
    this.sharedAllocator = options.allocator;
    this.ops = ioPgtableDomainOps<QcomIommuDomain>(this.name, {
      iotlbSync: (d: QcomIommuDomain, _g: IotlbGather) => flushIotlbAll(d),
      flushIotlbAll,
      free: domainFree,
    });
  }

  /** The domain page sizes: 4 KiB only. */
  get pgsizeBitmap(): number {
    return SZ_4K;
  }

  /** `qcom_iommu_capable`: always coherent, NOEXEC; nothing else. */
  capable(cap: IommuCap): boolean {
    return cap === IOMMU_CAP_CACHE_COHERENCY || cap === IOMMU_CAP_NOEXEC;
  }

  /** `qcom_iommu_domain_alloc_paging`: pgsize_bitmap = SZ_4K, no table, no geometry. */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): QcomIommuDomain | number {
    if (flags) return EOPNOTSUPP;
    const counters = options.counters ?? new IommuCounters();
    return {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: SZ_4K,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      owner: this,
      iommu: null,
      asids: [],
      pgtblCfg: null,
      pgtblOps: null,
      allocator: options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem(), { counters }),
    };
  }

  /**
   * `qcom_iommu_attach_dev` for a device whose fwspec names context banks `asids`: finalise
   * the domain on the first attach (`qcom_iommu_init_domain`), -EINVAL for a domain of
   * another IOMMU, -ENODEV for an ASID without a bank (of_xlate would have refused it).
   */
  attachDev(d: QcomIommuDomain, asids: readonly number[]): number {
    for (const a of asids)
      if (!Number.isInteger(a) || a < 0 || a >= this.hw.cbs.length) return negErrno("ENODEV");
    if (!d.iommu) {
      const cfg: IoPgtableCfg = {
        quirks: 0,
        pgsizeBitmap: d.pgsizeBitmap,
        ias: 32,
        oas: 40,
        coherentWalk: false,
        tlb: qcomFlushOps,
        allocator: d.allocator,
        counters: d.counters,
      };
      d.iommu = this;
      d.asids = [...asids];
      const ops = allocIoPgtableOps(IoPgtableFmt.ARM_32_LPAE_S1, cfg, d);
      if (!ops) {
        d.iommu = null;
        d.asids = [];
        return negErrno("ENOMEM");
      }
      // domain->pgsize_bitmap is left as allocated (SZ_4K): the format's answer is not copied back.
      d.geometry.apertureEnd = 2 ** cfg.ias - 1;
      d.geometry.forceAperture = true;
      d.pgtblCfg = cfg;
      const s1 = cfg.armLpaeS1Cfg!;
      for (const asid of d.asids) {
        if (!this.secured.has(asid)) {
          const cb = this.hw.cbs[asid]!;
          cb.enabled = true;
          cb.ctxFmt = "aarch32-l";
          cb.mem = d.allocator.mem;
          cb.ttbr0 = s1.ttbr | (BigInt(asid) << 48n);
          cb.ttbr0Base = Number(s1.ttbr);
          cb.ttbr1 = 0n;
          cb.tcr =
            ((s1.tcr.tg << 14) |
              (s1.tcr.sh << 12) |
              (s1.tcr.orgn << 10) |
              (s1.tcr.irgn << 8) |
              s1.tcr.tsz |
              (1 << 23) |
              (1 << 31)) >>>
            0;
        }
        this.ctxDomain[asid] = d;
      }
      d.pgtblOps = ops;
    }
    if (d.iommu !== this) return negErrno("EINVAL");
    return 0;
  }
}

/** Model-only: a device behind a {@link QcomIommu} with its context banks; domains come back attached. */
export class QcomIommuMaster implements IommuDriver<QcomIommuDomain> {
  constructor(
    readonly iommu: QcomIommu,
    readonly asids: readonly number[] = [0],
  ) {}

  get name(): string {
    return this.iommu.name;
  }

  get pgsizeBitmap(): number {
    return this.iommu.pgsizeBitmap;
  }

  capable(cap: IommuCap): boolean {
    return this.iommu.capable(cap);
  }

  domainAllocPagingFlags(flags: number, options?: IommuDomainAllocOptions): QcomIommuDomain | number {
    const d = this.iommu.domainAllocPagingFlags(flags, options);
    if (typeof d === "number") return d;
    const ret = this.iommu.attachDev(d, this.asids);
    if (ret < 0) {
      d.ops?.free?.(d);
      return ret;
    }
    return d;
  }
}
