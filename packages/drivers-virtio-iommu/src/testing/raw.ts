// A raw driver for device tests: requests built byte by byte with the offsets of the spec's
// structs written out literally (not taken from the package), sent through a VirtQueue.

import type { IommuDomain } from "@iommu/core";
import { PhysMem } from "@iommu/core";
import { VirtioIommuDevice, type VirtioIommuDeviceOptions } from "../virtio-iommu-device.js";
import { VirtQueue } from "../virtqueue.js";
import { lpaeHosts } from "./setup.js";

export const REQ = 0x1000_0000;
export const RSP = 0x1000_1000;

export interface RawReply {
  /** Tail status, or undefined when the buffer came back unwritten. */
  status: number | undefined;
  len: number;
  /** The writable part as the device left it. */
  written: Uint8Array;
}

export class RawDriver {
  readonly mem: PhysMem;
  readonly vq: VirtQueue;
  readonly device: VirtioIommuDevice;
  readonly hosts = new Map<number, IommuDomain>();

  constructor(options: Partial<VirtioIommuDeviceOptions> = {}) {
    this.mem = new PhysMem();
    this.mem.addChunk(REQ, 0x2000);
    this.device = new VirtioIommuDevice({
      mem: this.mem,
      createHostDomain: lpaeHosts(this.hosts),
      ...options,
    });
    this.device.negotiated = this.device.offered;
    this.vq = new VirtQueue(16, this.mem);
    this.device.connect(this.vq);
  }

  /** Send `req` (device-readable) with a writable part of `writeLen` bytes. */
  send(req: Uint8Array, writeLen = 4, at = { out: REQ, in: RSP }): RawReply {
    if (this.mem.chunk(at.out)) this.mem.importRange(at.out, req);
    for (let i = 0; i < writeLen; i += 4)
      if (this.mem.chunk(at.in + i)) this.mem.write32(at.in + i, 0xeeeeeeee);
    expect0(this.vq.addSgs(at.out, req.length, at.in, writeLen, 1));
    this.vq.kick();
    expect0(this.vq.getBuf() === 1 ? 0 : 1);
    const len = this.vq.lastLen;
    const written = this.mem.exportRange(at.in, writeLen);
    return { status: len === 0 ? undefined : written[writeLen - 4], len, written };
  }

  attach(domain: number, endpoint: number, flags = 0, reserved = 0): number | undefined {
    const b = bytes(20);
    b.v.setUint8(0, 1);
    b.v.setUint32(4, domain, true);
    b.v.setUint32(8, endpoint, true);
    b.v.setUint32(12, flags, true);
    b.v.setUint32(16, reserved, true);
    return this.send(b.u).status;
  }

  detach(domain: number, endpoint: number): number | undefined {
    const b = bytes(20);
    b.v.setUint8(0, 2);
    b.v.setUint32(4, domain, true);
    b.v.setUint32(8, endpoint, true);
    return this.send(b.u).status;
  }

  /** MAP [start, last] → phys. */
  map(domain: number, start: bigint, last: bigint, phys: bigint, flags = 3): number | undefined {
    const b = bytes(36);
    b.v.setUint8(0, 3);
    b.v.setUint32(4, domain, true);
    b.v.setBigUint64(8, start, true);
    b.v.setBigUint64(16, last, true);
    b.v.setBigUint64(24, phys, true);
    b.v.setUint32(32, flags, true);
    return this.send(b.u).status;
  }

  /** UNMAP [start, last]. */
  unmap(domain: number, start: bigint, last: bigint, reserved = 0): number | undefined {
    const b = bytes(28);
    b.v.setUint8(0, 4);
    b.v.setUint32(4, domain, true);
    b.v.setBigUint64(8, start, true);
    b.v.setBigUint64(16, last, true);
    b.v.setUint32(24, reserved, true);
    return this.send(b.u).status;
  }

  probe(endpoint: number, probeSize: number): RawReply {
    const b = bytes(72);
    b.v.setUint8(0, 5);
    b.v.setUint32(4, endpoint, true);
    return this.send(b.u, probeSize + 4);
  }
}

export function bytes(n: number): { u: Uint8Array; v: DataView } {
  const u = new Uint8Array(n);
  return { u, v: new DataView(u.buffer) };
}

function expect0(v: number): void {
  if (v !== 0) throw new Error(`raw driver: queue error ${v}`);
}
