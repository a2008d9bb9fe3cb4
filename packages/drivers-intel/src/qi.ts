// drivers/iommu/intel/dmar.c (qi_flush_iotlb, qi_flush_piotlb, qi_submit_sync) and
// drivers/iommu/intel/iommu.h (QI_* descriptor fields): the invalidation queue as the cache
// code fills it — descriptors encoded as the hardware reads them, counted, and the latest
// kept for inspection.

/** `QI_IOTLB_TYPE`: IOTLB invalidate descriptor. */
export const QI_IOTLB_TYPE = 0x2;
/** `QI_IWD_TYPE`: invalidation wait descriptor (each submission ends with one). */
export const QI_IWD_TYPE = 0x5;
/** `QI_EIOTLB_TYPE`: PASID-based IOTLB invalidate descriptor. */
export const QI_EIOTLB_TYPE = 0x6;
/** `DMA_TLB_DSI_FLUSH` >> 60: domain-selective granularity. */
export const QI_GRAN_DSI = 2;
/** `DMA_TLB_PSI_FLUSH` >> 60: page-selective-within-domain granularity. */
export const QI_GRAN_PSI = 3;
/** `QI_GRAN_NONG_PASID`: every non-global mapping of one PASID. */
export const QI_GRAN_NONG_PASID = 2;
/** `QI_GRAN_PSI_PASID`: page-selective within one PASID. */
export const QI_GRAN_PSI_PASID = 3;
/** `QI_MAX_BATCHED_DESC_COUNT`: descriptors a `qi_batch` holds before it is submitted. */
export const QI_MAX_BATCHED_DESC_COUNT = 16;

/** One decoded descriptor (`struct qi_desc` qw0/qw1 plus their fields). */
export interface QiDesc {
  /** `QI_IOTLB_TYPE`, `QI_EIOTLB_TYPE` or `QI_IWD_TYPE`. */
  readonly type: number;
  readonly qw0: bigint;
  readonly qw1: bigint;
  /** Granularity field (`QI_GRAN_*`). */
  readonly gran: number;
  readonly did: number;
  readonly pasid: number;
  /** Address field (4 KiB aligned). */
  readonly addr: bigint;
  /** Address mask: 2^am pages. */
  readonly am: number;
  /** Invalidation hint: only leaves changed. */
  readonly ih: number;
}

const LOG = 256;

/**
 * The queued-invalidation interface of one unit: descriptor counts by kind and the latest
 * {@link LOG} descriptors (a ring).
 */
export class IntelQi {
  /** IOTLB descriptors, page-selective (PSI) and domain-selective (DSI). */
  iotlbPsi = 0;
  iotlbDsi = 0;
  /** PASID-based IOTLB descriptors, page-selective and PASID-selective. */
  piotlbPsi = 0;
  piotlbPasid = 0;
  /** `qi_submit_sync` calls (each adds a wait descriptor). */
  submits = 0;
  /** `iommu_flush_write_buffer` executions (register based, not queued). */
  writeBufferFlushes = 0;
  /** Descriptors of the open batch (`struct qi_batch`). */
  private batched = 0;
  private readonly ring: QiDesc[] = [];
  private head = 0;
  /** Descriptors issued so far (waits included): a mark for {@link log}. */
  issued = 0;

  constructor(
    /** `cap_read_drain` / `cap_write_drain`: the DR/DW bits of IOTLB descriptors. */
    private readonly drain: { read: boolean; write: boolean },
  ) {}

  private push(d: QiDesc): void {
    this.issued++;
    if (this.ring.length < LOG) this.ring.push(d);
    else {
      this.ring[this.head] = d;
      this.head = (this.head + 1) % LOG;
    }
  }

  /** The descriptors issued since `mark` (at most the last 256), oldest first. */
  log(mark = 0): QiDesc[] {
    const all = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    const n = Math.min(all.length, this.issued - mark);
    return n <= 0 ? [] : all.slice(all.length - n);
  }

  /** `qi_batch_add_iotlb` → `qi_desc_iotlb`: IOTLB invalidate, PSI or DSI. */
  addIotlb(did: number, addr: bigint, ih: number, am: number, gran: number): void {
    const dw = this.drain.write ? 1n : 0n;
    const dr = this.drain.read ? 1n : 0n;
    const qw0 = BigInt(QI_IOTLB_TYPE) | (BigInt(gran) << 4n) | (dw << 6n) | (dr << 7n) | (BigInt(did) << 16n);
    const a = addr & ~0xfffn;
    const qw1 = a | (BigInt(ih) << 6n) | BigInt(am);
    if (gran === QI_GRAN_PSI) this.iotlbPsi++;
    else this.iotlbDsi++;
    this.push({ type: QI_IOTLB_TYPE, qw0, qw1, gran, did, pasid: 0, addr: a, am, ih });
    this.batch();
  }

  /**
   * `qi_batch_add_piotlb` → `qi_desc_piotlb`: page-selective-within-PASID invalidation of
   * 2^`am` pages at `addr`; `qi_batch_add_piotlb_all`: PASID-selective (`all`).
   */
  addPiotlb(did: number, pasid: number, addr: bigint, am: number, ih: number, all = false): void {
    const gran = all ? QI_GRAN_NONG_PASID : QI_GRAN_PSI_PASID;
    const qw0 = BigInt(QI_EIOTLB_TYPE) | (BigInt(gran) << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n);
    if (all) {
      this.piotlbPasid++;
      this.push({ type: QI_EIOTLB_TYPE, qw0, qw1: 0n, gran, did, pasid, addr: 0n, am: 0, ih: 0 });
    } else {
      const a = addr & ~0xfffn;
      const qw1 = a | (BigInt(ih) << 6n) | BigInt(am);
      this.piotlbPsi++;
      this.push({ type: QI_EIOTLB_TYPE, qw0, qw1, gran, did, pasid, addr: a, am, ih });
    }
    this.batch();
  }

  private batch(): void {
    if (++this.batched === QI_MAX_BATCHED_DESC_COUNT) this.flushBatch();
  }

  /** `qi_batch_flush_descs`: submit the open batch (`qi_submit_sync` + its wait descriptor). */
  flushBatch(): void {
    if (this.batched === 0) return;
    this.batched = 0;
    this.submits++;
    this.push({
      type: QI_IWD_TYPE,
      qw0: BigInt(QI_IWD_TYPE),
      qw1: 0n,
      gran: 0,
      did: 0,
      pasid: 0,
      addr: 0n,
      am: 0,
      ih: 0,
    });
  }
}
