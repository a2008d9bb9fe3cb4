// drivers/iommu/virtio-iommu.c, the device side of the guest driver: `struct viommu_dev` —
// viommu_probe()'s feature negotiation, the request queue (add, sync, the status of
// synchronous requests), domain allocation, endpoint probe/attach/detach and the replay of a
// domain's intervals when its first endpoint attaches. Requests are written as bytes into
// guest memory slots and go to the device through the VirtQueue.

import {
  type Addr,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomainAllocOptions,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IommuDriver,
  PAGE_SIZE,
  type PhysMem,
} from "@iommu/core";
import { readLe64, writeLe64, writeLe64Last } from "./le64.js";
import { type ViommuLoggedRequest, ViommuRequestLog } from "./request-log.js";
import { ViommuDomain, viommuAddMapping, viommuDomainOps } from "./viommu-domain.js";
import type { VirtioIommuDevice } from "./virtio-iommu-device.js";
import {
  VIRTIO_IOMMU_ATTACH_F_BYPASS,
  VIRTIO_IOMMU_CONFIG_LAYOUT,
  VIRTIO_IOMMU_F_BYPASS_CONFIG,
  VIRTIO_IOMMU_F_DOMAIN_RANGE,
  VIRTIO_IOMMU_F_INPUT_RANGE,
  VIRTIO_IOMMU_F_MAP_UNMAP,
  VIRTIO_IOMMU_F_MMIO,
  VIRTIO_IOMMU_F_PROBE,
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_PROBE_T_MASK,
  VIRTIO_IOMMU_PROBE_T_NONE,
  VIRTIO_IOMMU_PROBE_T_RESV_MEM,
  VIRTIO_IOMMU_REQ_LAYOUT,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
  VIRTIO_IOMMU_S_IOERR,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  VIRTIO_IOMMU_TAIL_SIZE,
  viommuGetReqErrno,
} from "./virtio-iommu-uapi.js";
import { VirtQueue } from "./virtqueue.js";

const EINVAL = -22;
const ENODEV = -19;
const ENOSPC = -28;
const EOPNOTSUPP = -95;

/** Features the Linux driver accepts (`features[]`): not VIRTIO_IOMMU_F_BYPASS. */
const DRIVER_FEATURES =
  (1 << VIRTIO_IOMMU_F_MAP_UNMAP) |
  (1 << VIRTIO_IOMMU_F_INPUT_RANGE) |
  (1 << VIRTIO_IOMMU_F_DOMAIN_RANGE) |
  (1 << VIRTIO_IOMMU_F_PROBE) |
  (1 << VIRTIO_IOMMU_F_MMIO) |
  (1 << VIRTIO_IOMMU_F_BYPASS_CONFIG);

/** `MSI_IOVA_BASE`, `MSI_IOVA_LENGTH`: the software MSI window added when the device reports none. */
export const MSI_IOVA_BASE = 0x8000000;
export const MSI_IOVA_LENGTH = 0x100000;

/** `IOMMU_RESV_*` kinds of the regions an endpoint reports. */
export type ViommuResvType = "reserved" | "msi" | "sw-msi";

/** `struct iommu_resv_region`, as far as the driver uses it. */
export interface ViommuResvRegion {
  readonly start: number;
  readonly length: number;
  readonly type: ViommuResvType;
}

/** `struct viommu_endpoint`: one device behind the IOMMU (`fwspec->ids`). */
export interface ViommuEndpoint {
  readonly ids: readonly number[];
  /** `vdev->resv_regions`, sorted by start (from PROBE). */
  readonly resvRegions: ViommuResvRegion[];
  /** `vdev->vdomain` */
  vdomain: ViommuDomain | null;
}

/** Model-only inputs of {@link VirtioIommu.probe}. */
export interface VirtioIommuOptions {
  /** Instance name (`dev_name()`), default `"virtio-iommu"`. */
  readonly name?: string;
  /** Guest PA of the request-buffer slots (default 0x7f00_0000; must be free in `device.mem`). */
  readonly bufferBase?: number;
  /** Request queue size (default 256, QEMU's). */
  readonly queueSize?: number;
  /** Default counters of new domains. */
  readonly counters?: IommuCounters;
  /**
   * Model-only: keep a log of the requests added and the syncs that completed them (the
   * IOTLB feed reads it), this many entries at most. Default 0: no log.
   */
  readonly logCapacity?: number;
}

/** Bytes of one request slot (the largest non-PROBE request is 40). */
const SLOT = 64;

/**
 * `struct viommu_dev` + `viommu_ops`: the guest driver of one virtio-iommu device. Build it
 * with {@link VirtioIommu.probe} (viommu_probe). Domains have no page table: each one is an
 * interval tree whose changes reach the device as MAP/UNMAP requests once an endpoint is
 * attached.
 */
export class VirtioIommu implements IommuDriver<ViommuDomain> {
  readonly name: string;
  readonly device: VirtioIommuDevice;
  readonly vq: VirtQueue;
  /** `viommu->pgsize_bitmap` = `page_size_mask`. */
  readonly pgsizeBitmap: number;
  /** `viommu->geometry`: from `input_range`, force_aperture. */
  readonly geometry: IommuDomainGeometry;
  /** `viommu->map_flags` */
  readonly mapFlags: number;
  /** `viommu->first_domain`, `last_domain` */
  readonly firstDomain: number;
  readonly lastDomain: number;
  /** `viommu->identity_domain_id` (BYPASS_CONFIG only, else -1). */
  readonly identityDomainId: number;
  readonly probeSize: number;
  /** Negotiated feature bits (0..6). */
  readonly features: number;
  /** The ops table of this instance's domains (its identity names this IOMMU unit). */
  readonly domainOps: IommuDomainOps<ViommuDomain>;
  /** Requests this driver added to the queue, by `VIRTIO_IOMMU_T_*`. */
  readonly sent = new Uint32Array(6);
  /** `viommu_sync_req()` calls. */
  syncs = 0;
  /** Model-only: the request log (`logCapacity` > 0), else null. */
  readonly log: ViommuRequestLog | null;
  /** Per slot: its log entry until the device's status is collected. */
  private readonly slotLog: (ViommuLoggedRequest | null)[];
  private readonly counters: IommuCounters | undefined;
  private readonly mem: PhysMem;
  private readonly bufferBase: number;
  private readonly freeSlots: number[] = [];
  /** Per slot: request length and where the writable part starts (`req->len`, `write_offset`). */
  private readonly slotLen: Uint32Array;
  private readonly slotWriteOff: Uint32Array;
  private readonly slotWriteback: Uint8Array;
  /** `viommu->requests`: in flight. */
  private pending = 0;
  /** Status the last synchronous request's caller buffer ends up with. */
  private writebackStatus = 0;
  private readonly ids = new Set<number>();
  private readonly identity: ViommuDomain | null;

  private constructor(device: VirtioIommuDevice, features: number, options: VirtioIommuOptions) {
    this.name = options.name ?? "virtio-iommu";
    this.device = device;
    this.features = features;
    this.counters = options.counters;
    const cfg = new DataView(device.configBytes().buffer);
    const L = VIRTIO_IOMMU_CONFIG_LAYOUT;
    const lo = cfg.getUint32(L.pageSizeMask, true);
    const hi = cfg.getUint32(L.pageSizeMask + 4, true);
    this.pgsizeBitmap = hi * 2 ** 32 + lo;
    this.mapFlags =
      VIRTIO_IOMMU_MAP_F_READ |
      VIRTIO_IOMMU_MAP_F_WRITE |
      (features & (1 << VIRTIO_IOMMU_F_MMIO) ? VIRTIO_IOMMU_MAP_F_MMIO : 0);
    let first = 0;
    let last = 0xffffffff;
    if (features & (1 << VIRTIO_IOMMU_F_DOMAIN_RANGE)) {
      first = cfg.getUint32(L.domainRangeStart, true);
      last = cfg.getUint32(L.domainRangeEnd, true);
    }
    let start: Addr = 0;
    let end: Addr = (1n << 64n) - 1n;
    if (features & (1 << VIRTIO_IOMMU_F_INPUT_RANGE)) {
      start = norm(cfg.getBigUint64(L.inputRangeStart, true));
      end = norm(cfg.getBigUint64(L.inputRangeEnd, true));
    }
    this.geometry = { apertureStart: start, apertureEnd: end, forceAperture: true };
    this.probeSize = features & (1 << VIRTIO_IOMMU_F_PROBE) ? cfg.getUint32(L.probeSize, true) : 0;
    if (features & (1 << VIRTIO_IOMMU_F_BYPASS_CONFIG)) {
      this.identityDomainId = first;
      first++;
    } else this.identityDomainId = -1;
    this.firstDomain = first;
    this.lastDomain = last;
    this.domainOps = { ...viommuDomainOps };
    // Sub-page granules make sub-page intervals, which the frame-based run collector cannot
    // take: the core then steps with iova_to_phys_length (page by page below 4 KiB).
    if (device.granule < PAGE_SIZE) delete this.domainOps.iovaToPhysRuns;

    const num = options.queueSize ?? 256;
    this.mem = device.mem;
    this.vq = new VirtQueue(num, device.mem);
    device.connect(this.vq);
    this.bufferBase = options.bufferBase ?? 0x7f00_0000;
    const bytes =
      Math.ceil((num * SLOT + 72 + this.probeSize + VIRTIO_IOMMU_TAIL_SIZE) / PAGE_SIZE) * PAGE_SIZE;
    device.mem.addChunk(this.bufferBase, bytes);
    this.slotLen = new Uint32Array(num + 1);
    this.slotWriteOff = new Uint32Array(num + 1);
    this.slotWriteback = new Uint8Array(num + 1);
    this.log = (options.logCapacity ?? 0) > 0 ? new ViommuRequestLog(options.logCapacity!) : null;
    this.slotLog = this.log ? new Array(num + 1).fill(null) : [];
    // Slot `num` is the PROBE buffer; 0..num-1 the others.
    for (let i = num - 1; i >= 0; i--) this.freeSlots.push(i);
    this.identity =
      this.identityDomainId >= 0
        ? new ViommuDomain(this, this.identityDomainId, IOMMU_DOMAIN_IDENTITY, new IommuCounters(), true)
        : null;
    if (this.identity) this.identity.ops = this.domainOps;
  }

  /**
   * `viommu_probe()`: negotiate features with `device` and read its config. -ENODEV without
   * VIRTIO_F_VERSION_1 or VIRTIO_IOMMU_F_MAP_UNMAP, -EINVAL for a zero `page_size_mask`.
   */
  static probe(device: VirtioIommuDevice, options: VirtioIommuOptions = {}): VirtioIommu | number {
    if (!device.version1) return ENODEV;
    const features = device.offered & DRIVER_FEATURES;
    if (!(features & (1 << VIRTIO_IOMMU_F_MAP_UNMAP))) return ENODEV;
    device.negotiated = features;
    if (device.pageSizeMask === 0) return EINVAL;
    return new VirtioIommu(device, features, options);
  }

  /** Smallest granule of `page_size_mask`. */
  get granule(): number {
    return this.device.granule;
  }

  /** `viommu_capable()` */
  capable(cap: IommuCap): boolean {
    return cap === IOMMU_CAP_CACHE_COHERENCY || cap === IOMMU_CAP_DEFERRED_FLUSH;
  }

  /**
   * `viommu_domain_alloc_paging()` (through domain_alloc_paging_flags with no flags): -ENODEV
   * when the device granule exceeds PAGE_SIZE, -ENOSPC when the domain ids are used up. No
   * request is sent: the device learns of the domain at its first ATTACH.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): ViommuDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    if (this.device.granule > PAGE_SIZE) return ENODEV;
    const id = this.allocId();
    if (id < 0) return id;
    const d = new ViommuDomain(
      this,
      id,
      options.type ?? IOMMU_DOMAIN_UNMANAGED,
      options.counters ?? this.counters ?? new IommuCounters(),
    );
    d.ops = this.domainOps;
    return d;
  }

  /**
   * `viommu_domain_alloc_identity()`: the static bypass domain with BYPASS_CONFIG, otherwise a
   * paging domain filled with identity intervals over the aperture that skip the endpoint's
   * reserved regions (`viommu_domain_map_identity()`).
   */
  domainAllocIdentity(ep: ViommuEndpoint): ViommuDomain | number {
    if (this.identity) return this.identity;
    const d = this.domainAllocPagingFlags(0, { type: IOMMU_DOMAIN_IDENTITY });
    if (typeof d === "number") return d;
    const g = this.device.granule;
    const flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
    let iova = Math.ceil(d.apLo / g) * g;
    const limit = Math.floor(d.apHi / g) * g; // exclusive
    for (const r of ep.resvRegions) {
      const rs = Math.floor(r.start / g) * g;
      const re = Math.ceil((r.start + r.length) / g) * g; // exclusive
      if (re <= iova || rs >= limit) continue;
      if (rs > iova) viommuAddMapping(d, iova, rs, iova, flags);
      if (re >= limit) return d;
      iova = re;
    }
    viommuAddMapping(d, iova, limit, iova, flags);
    return d;
  }

  /**
   * `viommu_probe_device()` + `viommu_probe_endpoint()`: a device with firmware ids `ids`;
   * sends PROBE for ids[0] when the device has F_PROBE and records its RESV_MEM regions.
   */
  probeDevice(ids: readonly number[]): ViommuEndpoint | number {
    const ep: ViommuEndpoint = { ids: [...ids], resvRegions: [], vdomain: null };
    if (this.probeSize === 0) return ep;
    if (ids.length === 0) return EINVAL;
    const num = this.vq.num;
    const pa = this.slotPa(num);
    const len = VIRTIO_IOMMU_REQ_LAYOUT.probe.properties + this.probeSize + VIRTIO_IOMMU_TAIL_SIZE;
    for (let i = 0; i < len; i += 4) this.mem.write32(pa + i, 0);
    this.mem.write32(pa, VIRTIO_IOMMU_T_PROBE);
    this.mem.write32(pa + VIRTIO_IOMMU_REQ_LAYOUT.probe.endpoint, ids[0]! >>> 0);
    const ret = this.sendReqSync(num, len, VIRTIO_IOMMU_REQ_LAYOUT.probe.properties);
    if (ret) return ret;
    const props = pa + VIRTIO_IOMMU_REQ_LAYOUT.probe.properties;
    let cur = 0;
    let type = this.mem.read32(props) & VIRTIO_IOMMU_PROBE_T_MASK;
    while (type !== VIRTIO_IOMMU_PROBE_T_NONE && cur < this.probeSize) {
      const at = props + cur;
      const plen = (this.mem.read32(at) >>> 16) + 4;
      if (type === VIRTIO_IOMMU_PROBE_T_RESV_MEM && plen >= 24) {
        const subtype = this.mem.read32(at + 4) & 0xff;
        const start = readLe64(this.mem, at + 8);
        const end = readLe64(this.mem, at + 16);
        const region: ViommuResvRegion = {
          start,
          length: end - start + 1,
          type: subtype === VIRTIO_IOMMU_RESV_MEM_T_MSI ? "msi" : "reserved",
        };
        let i = 0;
        while (i < ep.resvRegions.length && ep.resvRegions[i]!.start <= start) i++;
        ep.resvRegions.splice(i, 0, region);
      }
      cur += plen;
      if (cur >= this.probeSize) break;
      type = this.mem.read32(props + cur) & VIRTIO_IOMMU_PROBE_T_MASK;
    }
    return ep;
  }

  /** `viommu_get_resv_regions()`: the endpoint's regions, plus the SW MSI window when it has no MSI one. */
  getResvRegions(ep: ViommuEndpoint): ViommuResvRegion[] {
    const out = [...ep.resvRegions];
    if (!out.some((r) => r.type === "msi"))
      out.push({ start: MSI_IOVA_BASE, length: MSI_IOVA_LENGTH, type: "sw-msi" });
    return out;
  }

  /**
   * `viommu_attach_dev()` (and `viommu_attach_identity_domain()` for the bypass domain): one
   * synchronous ATTACH per endpoint id, then, for the domain's first endpoint, the replay of
   * its intervals as synchronous MAPs. 0 or -errno from the device's status.
   */
  attachDev(d: ViommuDomain, ep: ViommuEndpoint): number {
    if (d.viommu !== this) return EINVAL;
    if (!d.bypass && ep.vdomain === d) return 0; // the core never re-attaches the same domain
    // The device detaches the endpoint from its old domain: the count drops before the
    // ATTACH is even sent (and stays dropped if it fails), as in the kernel.
    if (ep.vdomain) ep.vdomain.nrEndpoints--;
    for (const id of ep.ids) {
      const slot = this.takeSlot();
      const pa = this.slotPa(slot);
      const L = VIRTIO_IOMMU_REQ_LAYOUT.attach;
      this.zero(pa, L.size);
      this.mem.write32(pa, VIRTIO_IOMMU_T_ATTACH);
      this.mem.write32(pa + L.domain, d.id >>> 0);
      this.mem.write32(pa + L.endpoint, id >>> 0);
      this.mem.write32(pa + L.flags, d.bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0);
      const ret = this.sendReqSync(slot, L.size, L.tail);
      if (ret) return ret;
    }
    if (!d.bypass && !d.nrEndpoints) {
      const ret = this.replayMappings(d);
      if (ret) return ret;
    }
    d.nrEndpoints++;
    ep.vdomain = d;
    return 0;
  }

  /** `viommu_detach_dev()`: DETACH per id (failures only WARN). */
  detachDev(ep: ViommuEndpoint): void {
    const d = ep.vdomain;
    if (!d) return;
    for (const id of ep.ids) {
      const slot = this.takeSlot();
      const pa = this.slotPa(slot);
      const L = VIRTIO_IOMMU_REQ_LAYOUT.detach;
      this.zero(pa, L.size);
      this.mem.write32(pa, VIRTIO_IOMMU_T_DETACH);
      this.mem.write32(pa + L.domain, d.id >>> 0);
      this.mem.write32(pa + L.endpoint, id >>> 0);
      if (this.sendReqSync(slot, L.size, L.tail)) d.counters.warn("viommu_detach_dev: DETACH failed");
    }
    d.nrEndpoints--;
    ep.vdomain = null;
  }

  /** `viommu_replay_mappings()`: every interval as a synchronous MAP, in order. */
  private replayMappings(d: ViommuDomain): number {
    const t = d.mappings;
    let ret = 0;
    t.visit((n) => {
      ret = this.queueMap(d.id, t.startOf(n), t.endOf(n), t.paddrOf(n), t.flagsAt(n), true);
      return ret === 0;
    });
    return ret;
  }

  /**
   * A MAP of [start, end) → phys for device domain `domain`: queued (`viommu_add_req()`, the
   * status is never read) or, with `sync`, sent and waited for (`viommu_send_req_sync()`).
   */
  queueMap(domain: number, start: number, end: number, phys: number, flags: number, sync: boolean): number {
    const slot = this.takeSlot();
    const pa = this.slotPa(slot);
    const L = VIRTIO_IOMMU_REQ_LAYOUT.map;
    const m = this.mem;
    m.write32(pa, VIRTIO_IOMMU_T_MAP);
    m.write32(pa + L.domain, domain >>> 0);
    writeLe64(m, pa + L.virtStart, start);
    writeLe64Last(m, pa + L.virtEnd, end);
    writeLe64(m, pa + L.physStart, phys);
    m.write32(pa + L.flags, flags);
    m.write32(pa + L.tail, 0);
    return sync ? this.sendReqSync(slot, L.size, L.tail) : this.addReq(slot, L.size, L.tail, false);
  }

  /** An UNMAP of [start, end), queued. */
  queueUnmap(domain: number, start: number, end: number): number {
    const slot = this.takeSlot();
    const pa = this.slotPa(slot);
    const L = VIRTIO_IOMMU_REQ_LAYOUT.unmap;
    const m = this.mem;
    m.write32(pa, VIRTIO_IOMMU_T_UNMAP);
    m.write32(pa + L.domain, domain >>> 0);
    writeLe64(m, pa + L.virtStart, start);
    writeLe64Last(m, pa + L.virtEnd, end);
    m.write32(pa + L.reserved, 0);
    m.write32(pa + L.tail, 0);
    return this.addReq(slot, L.size, L.tail, false);
  }

  /** `viommu_sync_req()`: kick and wait until every queued request came back. */
  syncReq(): number {
    this.syncs++;
    this.vq.kick();
    while (this.pending > 0) {
      const slot = this.vq.getBuf();
      if (slot < 0) {
        // The kernel would spin forever on a device that never answers.
        throw new Error("virtio-iommu: device did not return every request");
      }
      const len = this.vq.lastLen;
      const pa = this.slotPa(slot);
      const tail = pa + this.slotLen[slot]! - VIRTIO_IOMMU_TAIL_SIZE;
      if (len === 0) this.mem.write32(tail, VIRTIO_IOMMU_S_IOERR);
      // Only a complete write is copied back to a synchronous caller (`len == write_len`).
      if (this.slotWriteback[slot] && len === this.slotLen[slot]! - this.slotWriteOff[slot]!)
        this.writebackStatus = this.mem.read32(tail) & 0xff;
      if (this.log) {
        const r = this.slotLog[slot];
        if (r) r.status = this.mem.read32(tail) & 0xff;
        this.slotLog[slot] = null;
      }
      if (slot < this.vq.num) this.freeSlots.push(slot);
      this.pending--;
    }
    this.log?.sync();
    return 0;
  }

  /** Free the id of a domain (`ida_free`). */
  releaseDomainId(d: ViommuDomain): void {
    this.ids.delete(d.id);
  }

  /** Domain ids in use. */
  get domainIds(): number {
    return this.ids.size;
  }

  /** `__viommu_add_req()`: one two-part buffer into the queue; a full queue is synced once and retried. */
  private addReq(slot: number, len: number, writeOffset: number, writeback: boolean): number {
    if (writeOffset <= 0) {
      this.releaseSlot(slot);
      return EINVAL;
    }
    this.slotLen[slot] = len;
    this.slotWriteOff[slot] = writeOffset;
    this.slotWriteback[slot] = writeback ? 1 : 0;
    const pa = this.slotPa(slot);
    let ret = this.vq.addSgs(pa, writeOffset, pa + writeOffset, len - writeOffset, slot);
    if (ret === ENOSPC && this.syncReq() === 0)
      ret = this.vq.addSgs(pa, writeOffset, pa + writeOffset, len - writeOffset, slot);
    if (ret) {
      this.releaseSlot(slot);
      return ret;
    }
    this.sent[this.mem.read32(pa) & 0xff]!++;
    if (this.log) this.slotLog[slot] = this.log.request(this.mem, pa);
    this.pending++;
    return 0;
  }

  /**
   * `viommu_send_req_sync()`: add, sync, and the status the caller's buffer holds afterwards —
   * 0 unless the device wrote the whole writable part (see README, known quirks).
   */
  private sendReqSync(slot: number, len: number, writeOffset: number): number {
    this.writebackStatus = 0;
    const ret = this.addReq(slot, len, writeOffset, true);
    if (ret) return ret;
    this.syncReq();
    return viommuGetReqErrno(this.writebackStatus);
  }

  private takeSlot(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    // Every slot is in flight: the queue is full too; sync frees them all.
    this.syncReq();
    return this.freeSlots.pop()!;
  }

  private releaseSlot(slot: number): void {
    if (slot < this.vq.num) this.freeSlots.push(slot);
  }

  private slotPa(slot: number): number {
    return this.bufferBase + slot * SLOT;
  }

  private zero(pa: number, len: number): void {
    for (let i = 0; i < len; i += 4) this.mem.write32(pa + i, 0);
  }

  /** `ida_alloc_range(first_domain, last_domain)`: the lowest free id, or -ENOSPC. */
  private allocId(): number {
    for (let id = this.firstDomain; id <= this.lastDomain; id++) {
      if (!this.ids.has(id)) {
        this.ids.add(id);
        return id;
      }
    }
    return ENOSPC;
  }
}

function norm(v: bigint): Addr {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
