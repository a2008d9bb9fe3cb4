// The device side of virtio-iommu (virtio spec §5.13 "IOMMU device"; QEMU hw/virtio/virtio-iommu.c
// where it departs from the spec): it consumes the request queue — bytes in guest memory laid
// out as include/uapi/linux/virtio_iommu.h says — and keeps its translation per domain in a
// host IommuDomain (any @iommu page table the user picks), so a guest mapping can be checked
// end to end against a real table. One interval per MAP, as the device must never split one.

import {
  type Addr,
  IOMMU_MMIO,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  IommuError,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  offOf,
  type PhysLength,
  PhysMem,
  pfnOf,
  toBigInt,
  U64_LIMIT,
} from "@iommu/core";
import { IntervalTree } from "./interval-tree.js";
import { readLe64, readLe64End, writeLe64, writeLe64Last } from "./le64.js";
import {
  VIRTIO_IOMMU_ATTACH_F_BYPASS,
  VIRTIO_IOMMU_CONFIG_LAYOUT,
  VIRTIO_IOMMU_F_BYPASS_CONFIG,
  VIRTIO_IOMMU_F_DOMAIN_RANGE,
  VIRTIO_IOMMU_F_INPUT_RANGE,
  VIRTIO_IOMMU_F_MAP_UNMAP,
  VIRTIO_IOMMU_F_MMIO,
  VIRTIO_IOMMU_F_PROBE,
  VIRTIO_IOMMU_MAP_F_MASK,
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_PROBE_T_RESV_MEM,
  VIRTIO_IOMMU_REQ_LAYOUT,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
  VIRTIO_IOMMU_S_DEVERR,
  VIRTIO_IOMMU_S_FAULT,
  VIRTIO_IOMMU_S_INVAL,
  VIRTIO_IOMMU_S_IOERR,
  VIRTIO_IOMMU_S_NOENT,
  VIRTIO_IOMMU_S_NOMEM,
  VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_S_RANGE,
  VIRTIO_IOMMU_S_UNSUPP,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  VIRTIO_IOMMU_TAIL_SIZE,
} from "./virtio-iommu-uapi.js";
import type { VirtQueue } from "./virtqueue.js";

/**
 * Which reading of the device the model follows where QEMU departs from the spec
 * (virtio-iommu-device.md §8): `spec` checks alignment (RANGE), `input_range` and
 * `domain_range` (RANGE), reserved fields and RESV_MEM overlap (INVAL), returns unknown
 * request types unwritten and makes a splitting UNMAP atomic; `qemu` checks none of those,
 * answers unknown types with UNSUPP and removes the fully covered mappings before the one
 * that would split.
 */
export type VirtioIommuDeviceMode = "spec" | "qemu";

/** One `VIRTIO_IOMMU_PROBE_T_RESV_MEM` region of an endpoint: [start, end] inclusive. */
export interface VirtioIommuResvMem {
  readonly start: Addr;
  readonly end: Addr;
  /** `VIRTIO_IOMMU_RESV_MEM_T_RESERVED` (0, default) or `_MSI` (1). */
  readonly subtype?: number;
}

/** An endpoint behind the IOMMU (QEMU: a PCI BDF). */
export interface VirtioIommuEndpointDesc {
  readonly id: number;
  readonly resv?: readonly VirtioIommuResvMem[];
}

/** The device's configuration (`struct virtio_iommu_config` and the features it offers). */
export interface VirtioIommuDeviceOptions {
  /** Guest memory: where the driver's request buffers live. Default a fresh one. */
  readonly mem?: PhysMem;
  /**
   * A fresh host page table for device domain `id` (e.g. an ARM LPAE S2 domain from
   * @iommu/io-pgtable): MAP installs there. Freed (`ops.free`) when the domain ceases to exist.
   */
  createHostDomain(id: number): IommuDomain;
  /** `page_size_mask` (default all sizes ≥ 4 KiB, QEMU's). Must be exact as a number. */
  readonly pageSizeMask?: Addr;
  /** `input_range` [start, end] inclusive: offers VIRTIO_IOMMU_F_INPUT_RANGE. */
  readonly inputRange?: { readonly start: Addr; readonly end: Addr };
  /** `domain_range` [start, end] inclusive: offers VIRTIO_IOMMU_F_DOMAIN_RANGE. */
  readonly domainRange?: { readonly start: number; readonly end: number };
  /** `probe_size` (default 512, QEMU's); 0 does not offer VIRTIO_IOMMU_F_PROBE. */
  readonly probeSize?: number;
  /** Offer VIRTIO_IOMMU_F_BYPASS_CONFIG with this initial `bypass` (default: not offered). */
  readonly bypass?: boolean;
  /** Offer VIRTIO_IOMMU_F_MMIO (default true, as QEMU). */
  readonly mmio?: boolean;
  /** Offer VIRTIO_IOMMU_F_MAP_UNMAP (default true; Linux refuses a device without it). */
  readonly mapUnmap?: boolean;
  /** Offer VIRTIO_F_VERSION_1 (default true; Linux refuses a device without it). */
  readonly version1?: boolean;
  /** Endpoints (default one, id 0). */
  readonly endpoints?: readonly VirtioIommuEndpointDesc[];
  /** Device domains it can hold at once (default unlimited): ATTACH creating one more → NOMEM. */
  readonly maxDomains?: number;
  /** Default "spec". */
  readonly mode?: VirtioIommuDeviceMode;
}

/** A domain as the device knows it (created by the first ATTACH, gone with its last endpoint). */
export interface VirtioIommuDeviceDomain {
  readonly id: number;
  readonly bypass: boolean;
  /** One interval per MAP request. */
  readonly mappings: IntervalTree;
  /** The host translation (null for a bypass domain). */
  readonly host: IommuDomain | null;
  readonly endpoints: Set<number>;
}

interface Endpoint {
  readonly id: number;
  /** RESV_MEM regions as half-open [start, end) numbers. */
  readonly resv: ReadonlyArray<{ start: number; end: number; subtype: number }>;
  domain: VirtioIommuDeviceDomain | null;
}

const HOST_ERR_ENOMEM = 12;
const DEFAULT_MASK = U64_LIMIT - 4096;
const IOMMU_PROT_OF_FLAGS = (flags: number): number =>
  (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_READ : 0) |
  (flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_WRITE : 0) |
  (flags & VIRTIO_IOMMU_MAP_F_MMIO ? IOMMU_MMIO : 0);

function exactMask(m: Addr): number {
  const n = typeof m === "bigint" ? Number(m) : m;
  if (typeof m === "bigint" ? BigInt(n) !== m : !Number.isInteger(n) || n < 0 || n >= U64_LIMIT)
    throw new IommuError(
      "EINVAL",
      "virtio-iommu device",
      { pageSizeMask: String(m) },
      "not exact as a number",
    );
  return n;
}

/**
 * A virtio-iommu device (virtio device ID 23). Attach it to the driver's request queue with
 * {@link connect}; every kick consumes the queue. Counts the requests it received by type and
 * the statuses it wrote.
 */
export class VirtioIommuDevice {
  readonly mem: PhysMem;
  readonly mode: VirtioIommuDeviceMode;
  /** `page_size_mask` as a number (bit n = 2^n bytes). */
  readonly pageSizeMask: number;
  /** Smallest granule (`1 << __ffs(page_size_mask)`). */
  readonly granule: number;
  /** `input_range` as exact bigints (the defaults when the feature is not offered). */
  readonly inputStart: bigint;
  readonly inputEnd: bigint;
  readonly domainStart: number;
  readonly domainEnd: number;
  readonly probeSize: number;
  /** Feature bits 0..6 offered (bit n = VIRTIO_IOMMU_F_* n). */
  readonly offered: number;
  readonly version1: boolean;
  /** The `bypass` config byte. */
  bypass: number;
  /** Features the driver accepted (bits 0..6). */
  negotiated = 0;
  private readonly createHost: (id: number) => IommuDomain;
  private readonly maxDomains: number;
  private readonly endpointsById = new Map<number, Endpoint>();
  readonly domains = new Map<number, VirtioIommuDeviceDomain>();
  /** Requests received, by `VIRTIO_IOMMU_T_*` (index 0: any other type). */
  readonly requests = new Uint32Array(6);
  /** Tails written, by `VIRTIO_IOMMU_S_*`. */
  readonly statuses = new Uint32Array(9);
  /** Buffers returned unwritten (used length 0). */
  unwritten = 0;
  private readonly inputLo: number;
  private readonly inputHi: number;

  constructor(options: VirtioIommuDeviceOptions) {
    this.mem = options.mem ?? new PhysMem();
    this.mode = options.mode ?? "spec";
    this.createHost = options.createHostDomain;
    this.pageSizeMask = exactMask(options.pageSizeMask ?? DEFAULT_MASK);
    let g = 1;
    while (this.pageSizeMask !== 0 && Math.floor(this.pageSizeMask / g) % 2 === 0) g *= 2;
    this.granule = g;
    this.inputStart = options.inputRange ? toBigInt(options.inputRange.start) : 0n;
    this.inputEnd = options.inputRange ? toBigInt(options.inputRange.end) : (1n << 64n) - 1n;
    this.inputLo = Number(this.inputStart);
    this.inputHi = Number(this.inputEnd + 1n);
    this.domainStart = options.domainRange?.start ?? 0;
    this.domainEnd = options.domainRange?.end ?? 0xffffffff;
    this.probeSize = options.probeSize ?? 512;
    this.version1 = options.version1 ?? true;
    this.bypass = options.bypass ? 1 : 0;
    this.maxDomains = options.maxDomains ?? Number.POSITIVE_INFINITY;
    let f = 0;
    if (options.inputRange) f |= 1 << VIRTIO_IOMMU_F_INPUT_RANGE;
    if (options.domainRange) f |= 1 << VIRTIO_IOMMU_F_DOMAIN_RANGE;
    if (options.mapUnmap ?? true) f |= 1 << VIRTIO_IOMMU_F_MAP_UNMAP;
    if (this.probeSize > 0) f |= 1 << VIRTIO_IOMMU_F_PROBE;
    if (options.mmio ?? true) f |= 1 << VIRTIO_IOMMU_F_MMIO;
    if (options.bypass !== undefined) f |= 1 << VIRTIO_IOMMU_F_BYPASS_CONFIG;
    this.offered = f;
    for (const e of options.endpoints ?? [{ id: 0 }]) {
      this.endpointsById.set(e.id, {
        id: e.id,
        resv: (e.resv ?? []).map((r) => ({
          start: Number(toBigInt(r.start)),
          end: Number(toBigInt(r.end) + 1n),
          subtype: r.subtype ?? 0,
        })),
        domain: null,
      });
    }
  }

  /** `struct virtio_iommu_config` as the driver reads it: 40 little-endian bytes. */
  configBytes(): Uint8Array {
    const L = VIRTIO_IOMMU_CONFIG_LAYOUT;
    const b = new Uint8Array(L.size);
    const v = new DataView(b.buffer);
    v.setBigUint64(L.pageSizeMask, BigInt(this.pageSizeMask), true);
    v.setBigUint64(L.inputRangeStart, this.inputStart, true);
    v.setBigUint64(L.inputRangeEnd, this.inputEnd, true);
    v.setUint32(L.domainRangeStart, this.domainStart, true);
    v.setUint32(L.domainRangeEnd, this.domainEnd, true);
    v.setUint32(L.probeSize, this.probeSize, true);
    v.setUint8(L.bypass, this.bypass);
    return b;
  }

  /** Make this device the handler of the driver's request queue. */
  connect(vq: VirtQueue): void {
    vq.handler = (q) => this.handleQueue(q);
  }

  /** Whether a feature was negotiated. */
  has(feature: number): boolean {
    return (this.negotiated & (1 << feature)) !== 0;
  }

  /** The device domain `id`, if it exists. */
  domain(id: number): VirtioIommuDeviceDomain | undefined {
    return this.domains.get(id);
  }

  /** The domain endpoint `id` is attached to, or null. */
  endpointDomain(id: number): VirtioIommuDeviceDomain | null {
    return this.endpointsById.get(id)?.domain ?? null;
  }

  /**
   * What a DMA of endpoint `id` at `iova` reaches (§5.7, without faults): bypass → identity,
   * attached → the host table's answer, otherwise unmapped (length 2^64).
   */
  translate(id: number, iova: Addr, out: PhysLength): PhysLength {
    const ep = this.endpointsById.get(id);
    const d = ep?.domain ?? null;
    const bypassing =
      ep !== undefined &&
      (d ? d.bypass : (this.offered & (1 << VIRTIO_IOMMU_F_BYPASS_CONFIG)) !== 0 && this.bypass === 1);
    if (bypassing) out.setMapped(pfnOf(iova), offOf(iova), U64_LIMIT);
    else if (d?.host) iommuIovaToPhysLength(d.host, iova, out);
    else out.setUnmapped(U64_LIMIT);
    return out;
  }

  /** Consume every available request (the request queue's notify handler). */
  handleQueue(vq: VirtQueue): void {
    while (vq.popAvail()) {
      const inLen = vq.curInLen;
      if (inLen < VIRTIO_IOMMU_TAIL_SIZE || vq.curOutLen < 4) {
        // Cannot find the head or the tail: returned unwritten.
        this.unwritten++;
        vq.pushUsed(0);
        continue;
      }
      const out = vq.curOutAddr;
      const outLen = vq.curOutLen;
      const inAddr = vq.curInAddr;
      const tail = inAddr + inLen - VIRTIO_IOMMU_TAIL_SIZE;
      if (!this.present(tail, VIRTIO_IOMMU_TAIL_SIZE)) {
        this.unwritten++;
        vq.pushUsed(0);
        continue;
      }
      let status: number;
      let type = 0;
      if (!this.present(out, outLen)) status = VIRTIO_IOMMU_S_FAULT;
      else {
        type = this.mem.read32(out) & 0xff;
        status = this.dispatch(type, out, outLen, inAddr, inLen);
      }
      this.requests[type >= 1 && type <= 5 ? type : 0]!++;
      if (status < 0) {
        // Unknown type (spec) or PROBE without the feature: nothing written.
        this.unwritten++;
        vq.pushUsed(0);
        continue;
      }
      this.mem.write32(tail, status);
      this.statuses[status]!++;
      vq.pushUsed(type === VIRTIO_IOMMU_T_PROBE ? inLen : VIRTIO_IOMMU_TAIL_SIZE);
    }
  }

  private present(pa: number, len: number): boolean {
    return this.mem.chunk(pa) !== undefined && this.mem.chunk(pa + len - 1) !== undefined;
  }

  /** One request: its status, or -1 to return it unwritten. */
  private dispatch(type: number, out: number, outLen: number, inAddr: number, inLen: number): number {
    const R = VIRTIO_IOMMU_REQ_LAYOUT;
    switch (type) {
      case VIRTIO_IOMMU_T_ATTACH:
        if (outLen < R.attach.tail) return VIRTIO_IOMMU_S_INVAL;
        if (inLen !== VIRTIO_IOMMU_TAIL_SIZE) return VIRTIO_IOMMU_S_IOERR;
        return this.attach(out);
      case VIRTIO_IOMMU_T_DETACH:
        if (outLen < R.detach.tail) return VIRTIO_IOMMU_S_INVAL;
        if (inLen !== VIRTIO_IOMMU_TAIL_SIZE) return VIRTIO_IOMMU_S_IOERR;
        return this.detach(out);
      case VIRTIO_IOMMU_T_MAP:
        if (outLen < R.map.tail) return VIRTIO_IOMMU_S_INVAL;
        if (inLen !== VIRTIO_IOMMU_TAIL_SIZE) return VIRTIO_IOMMU_S_IOERR;
        return this.map(out);
      case VIRTIO_IOMMU_T_UNMAP:
        if (outLen < R.unmap.tail) return VIRTIO_IOMMU_S_INVAL;
        if (inLen !== VIRTIO_IOMMU_TAIL_SIZE) return VIRTIO_IOMMU_S_IOERR;
        return this.unmap(out);
      case VIRTIO_IOMMU_T_PROBE:
        if (!this.has(VIRTIO_IOMMU_F_PROBE)) return -1;
        if (outLen < R.probe.properties) return VIRTIO_IOMMU_S_INVAL;
        if (inLen !== this.probeSize + VIRTIO_IOMMU_TAIL_SIZE) return VIRTIO_IOMMU_S_IOERR;
        return this.probe(out, inAddr);
      default:
        return this.mode === "spec" ? -1 : VIRTIO_IOMMU_S_UNSUPP;
    }
  }

  private attach(req: number): number {
    const L = VIRTIO_IOMMU_REQ_LAYOUT.attach;
    const m = this.mem;
    const id = m.read32(req + L.domain);
    const epId = m.read32(req + L.endpoint);
    const flags = m.read32(req + L.flags);
    const allowed = this.has(VIRTIO_IOMMU_F_BYPASS_CONFIG) ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0;
    if (flags & ~allowed) return VIRTIO_IOMMU_S_INVAL;
    if (this.mode === "spec" && m.read32(req + L.reserved) !== 0) return VIRTIO_IOMMU_S_INVAL;
    const ep = this.endpointsById.get(epId);
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    if (this.mode === "spec" && (id < this.domainStart || id > this.domainEnd)) return VIRTIO_IOMMU_S_RANGE;
    const bypass = (flags & VIRTIO_IOMMU_ATTACH_F_BYPASS) !== 0;
    const existing = this.domains.get(id);
    if (ep.domain === existing && existing) return VIRTIO_IOMMU_S_OK;
    // QEMU detaches from the old domain before checking the new one; the spec rejects first.
    if (this.mode === "qemu") this.detachEndpoint(ep);
    if (existing && existing.bypass !== bypass) return VIRTIO_IOMMU_S_INVAL;
    if (!existing && this.domains.size >= this.maxDomains) return VIRTIO_IOMMU_S_NOMEM;
    this.detachEndpoint(ep);
    let d = existing;
    if (!d) {
      d = {
        id,
        bypass,
        mappings: new IntervalTree(),
        host: bypass ? null : this.createHost(id),
        endpoints: new Set(),
      };
      this.domains.set(id, d);
    }
    d.endpoints.add(epId);
    ep.domain = d;
    return VIRTIO_IOMMU_S_OK;
  }

  private detach(req: number): number {
    const L = VIRTIO_IOMMU_REQ_LAYOUT.detach;
    const id = this.mem.read32(req + L.domain);
    const ep = this.endpointsById.get(this.mem.read32(req + L.endpoint));
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    if (!ep.domain || ep.domain.id !== id) return VIRTIO_IOMMU_S_INVAL;
    this.detachEndpoint(ep);
    return VIRTIO_IOMMU_S_OK;
  }

  /** The endpoint leaves its domain; a domain left without endpoints ceases to exist. */
  private detachEndpoint(ep: Endpoint): void {
    const d = ep.domain;
    if (!d) return;
    ep.domain = null;
    d.endpoints.delete(ep.id);
    if (d.endpoints.size > 0) return;
    this.domains.delete(d.id);
    const host = d.host;
    if (host) {
      d.mappings.visit((n) => {
        const s = d.mappings.startOf(n);
        iommuUnmap(host, s, d.mappings.endOf(n) - s);
      });
      host.ops?.free?.(host);
    }
    d.mappings.clear();
  }

  private map(req: number): number {
    const L = VIRTIO_IOMMU_REQ_LAYOUT.map;
    const m = this.mem;
    const id = m.read32(req + L.domain);
    const flags = m.read32(req + L.flags);
    const allowed =
      VIRTIO_IOMMU_MAP_F_READ |
      VIRTIO_IOMMU_MAP_F_WRITE |
      (this.has(VIRTIO_IOMMU_F_MMIO) ? VIRTIO_IOMMU_MAP_F_MMIO : 0);
    if (flags & ~(this.mode === "spec" ? allowed : VIRTIO_IOMMU_MAP_F_MASK)) return VIRTIO_IOMMU_S_INVAL;
    const d = this.domains.get(id);
    if (!d) return VIRTIO_IOMMU_S_NOENT;
    if (d.bypass) return VIRTIO_IOMMU_S_INVAL;
    const startLo = m.read32(req + L.virtStart);
    const endLo = m.read32(req + L.virtEnd);
    const physLo = m.read32(req + L.physStart);
    const start = readLe64(m, req + L.virtStart);
    const end = readLe64End(m, req + L.virtEnd);
    const phys = readLe64(m, req + L.physStart);
    if (this.mode === "spec") {
      const g = this.granule;
      // Alignment from the low words (exact whatever the value).
      if (startLo % g !== 0 || physLo % g !== 0 || (endLo + 1) % g !== 0) return VIRTIO_IOMMU_S_RANGE;
      if (end <= start) return VIRTIO_IOMMU_S_INVAL;
      if (start < this.inputLo || end > this.inputHi) return VIRTIO_IOMMU_S_RANGE;
      if (this.overlapsResv(d, start, end)) return VIRTIO_IOMMU_S_INVAL;
    }
    if (d.mappings.first(start, end) !== -1) return VIRTIO_IOMMU_S_INVAL;
    try {
      iommuMap(d.host!, start, phys, end - start, IOMMU_PROT_OF_FLAGS(flags));
    } catch (e) {
      if (e instanceof IommuError)
        return e.errno === HOST_ERR_ENOMEM ? VIRTIO_IOMMU_S_NOMEM : VIRTIO_IOMMU_S_DEVERR;
      throw e;
    }
    d.mappings.insert(start, end, phys, flags);
    return VIRTIO_IOMMU_S_OK;
  }

  private overlapsResv(d: VirtioIommuDeviceDomain, start: number, end: number): boolean {
    for (const epId of d.endpoints)
      for (const r of this.endpointsById.get(epId)!.resv) if (r.start < end && r.end > start) return true;
    return false;
  }

  private unmap(req: number): number {
    const L = VIRTIO_IOMMU_REQ_LAYOUT.unmap;
    const m = this.mem;
    const d = this.domains.get(m.read32(req + L.domain));
    if (!d) return VIRTIO_IOMMU_S_NOENT;
    if (d.bypass) return VIRTIO_IOMMU_S_INVAL;
    if (this.mode === "spec" && m.read32(req + L.reserved) !== 0) return VIRTIO_IOMMU_S_INVAL;
    const start = readLe64(m, req + L.virtStart);
    const end = readLe64End(m, req + L.virtEnd);
    const t = d.mappings;
    if (this.mode === "spec") {
      // Atomic: refuse before removing anything if a mapping would be split.
      const f = t.first(start, end);
      if (f !== -1 && t.startOf(f) < start) return VIRTIO_IOMMU_S_RANGE;
      // A mapping running past the end contains the last byte of the range.
      const last = t.lookup(end - 1);
      if (last !== -1 && t.endOf(last) > end) return VIRTIO_IOMMU_S_RANGE;
    }
    for (;;) {
      const n = t.first(start, end);
      if (n === -1) return VIRTIO_IOMMU_S_OK;
      const s = t.startOf(n);
      const e = t.endOf(n);
      if (s < start || e > end) return VIRTIO_IOMMU_S_RANGE;
      iommuUnmap(d.host!, s, e - s);
      t.remove(n);
    }
  }

  private probe(req: number, props: number): number {
    const ep = this.endpointsById.get(this.mem.read32(req + VIRTIO_IOMMU_REQ_LAYOUT.probe.endpoint));
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    const m = this.mem;
    if (ep.resv.length * 24 > this.probeSize) return VIRTIO_IOMMU_S_INVAL;
    for (let i = 0; i < this.probeSize; i += 4) m.write32(props + i, 0);
    let at = props;
    for (const r of ep.resv) {
      m.write32(at, VIRTIO_IOMMU_PROBE_T_RESV_MEM | (20 << 16));
      m.write32(at + 4, r.subtype === VIRTIO_IOMMU_RESV_MEM_T_MSI ? 1 : r.subtype & 0xff);
      writeLe64(m, at + 8, r.start);
      writeLe64Last(m, at + 16, r.end);
      at += 24;
    }
    return VIRTIO_IOMMU_S_OK;
  }
}
