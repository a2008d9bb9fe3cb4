// drivers/virtio/virtio_ring.c: the request virtqueue as both sides use it — the driver adds
// a two-part buffer (device-readable request, device-writable tail) and kicks; the device
// consumes the available entries, writes the tail in guest memory and returns each buffer
// with the number of bytes it wrote (`used.len`). Descriptors are records of addresses into
// simulated guest memory (@iommu/core PhysMem); the requests themselves are bytes there.

import { PhysMem } from "@iommu/core";

const ENOSPC = -28;
const ENOMEM = -12;

/** The device side of a queue: called by `virtqueue_kick()` (`virtqueue_notify`). */
export type VirtQueueHandler = (vq: VirtQueue) => void;

/**
 * `struct virtqueue` with indirect descriptors (QEMU offers VIRTIO_RING_F_INDIRECT_DESC): one
 * ring slot per request whatever its sg count. Entries are kept in typed rings; nothing is
 * allocated per request.
 */
export class VirtQueue {
  /** Ring size (`num`). */
  readonly num: number;
  /** The guest memory the buffers live in. */
  readonly mem: PhysMem;
  private readonly outAddr: Float64Array;
  private readonly outLen: Uint32Array;
  private readonly inAddr: Float64Array;
  private readonly inLen: Uint32Array;
  private readonly token: Int32Array;
  private availHead = 0;
  private availCount = 0;
  private readonly usedToken: Int32Array;
  private readonly usedLen: Uint32Array;
  private usedHead = 0;
  private usedCount = 0;
  /** Buffers added and not yet returned to the driver by getBuf(). */
  private inFlight = 0;
  private failAt = 0;
  /** The device's notify handler. */
  handler: VirtQueueHandler | null = null;
  /** `virtqueue_kick()` calls. */
  kicks = 0;
  /** Length written by the device for the buffer last returned by {@link getBuf}. */
  lastLen = 0;
  // Device-side cursor: the entry popAvail() returned.
  private cur = 0;

  constructor(num = 256, mem: PhysMem = new PhysMem()) {
    this.num = num;
    this.mem = mem;
    this.outAddr = new Float64Array(num);
    this.outLen = new Uint32Array(num);
    this.inAddr = new Float64Array(num);
    this.inLen = new Uint32Array(num);
    this.token = new Int32Array(num);
    this.usedToken = new Int32Array(num);
    this.usedLen = new Uint32Array(num);
  }

  /**
   * Model-only fault injection: the n-th next add (1 = the next one) fails with -ENOMEM, as the
   * GFP_ATOMIC allocation in `__viommu_add_req()` can. 0 disarms.
   */
  failNth(n: number): void {
    this.failAt = n;
  }

  /** Entries free for virtqueue_add_sgs(). */
  get free(): number {
    return this.num - this.inFlight;
  }

  /**
   * `virtqueue_add_sgs(vq, sgs, 1, 1, token)`: a readable part [outAddr, +outLen) and a
   * writable part [inAddr, +inLen). 0, -ENOSPC when the ring is full, -ENOMEM when injected.
   */
  addSgs(outAddr: number, outLen: number, inAddr: number, inLen: number, token: number): number {
    if (this.failAt > 0 && --this.failAt === 0) return ENOMEM;
    if (this.inFlight === this.num) return ENOSPC;
    const i = (this.availHead + this.availCount) % this.num;
    this.outAddr[i] = outAddr;
    this.outLen[i] = outLen;
    this.inAddr[i] = inAddr;
    this.inLen[i] = inLen;
    this.token[i] = token;
    this.availCount++;
    this.inFlight++;
    return 0;
  }

  /** `virtqueue_kick()`: notify the device, which consumes what is available. */
  kick(): void {
    this.kicks++;
    if (this.availCount > 0) this.handler?.(this);
  }

  /** `virtqueue_get_buf()`: the token of the next returned buffer (length in {@link lastLen}), or -1. */
  getBuf(): number {
    if (this.usedCount === 0) return -1;
    const i = this.usedHead;
    this.usedHead = (i + 1) % this.num;
    this.usedCount--;
    this.inFlight--;
    this.lastLen = this.usedLen[i]!;
    return this.usedToken[i]!;
  }

  // Device side.

  /** `virtqueue_pop()`: take the next available entry; false when none. Read it with the accessors. */
  popAvail(): boolean {
    if (this.availCount === 0) return false;
    this.cur = this.availHead;
    this.availHead = (this.availHead + 1) % this.num;
    this.availCount--;
    return true;
  }
  get curOutAddr(): number {
    return this.outAddr[this.cur]!;
  }
  get curOutLen(): number {
    return this.outLen[this.cur]!;
  }
  get curInAddr(): number {
    return this.inAddr[this.cur]!;
  }
  get curInLen(): number {
    return this.inLen[this.cur]!;
  }

  /** `virtqueue_push()`: return the current entry with `len` bytes written. */
  pushUsed(len: number): void {
    const i = (this.usedHead + this.usedCount) % this.num;
    this.usedToken[i] = this.token[this.cur]!;
    this.usedLen[i] = len;
    this.usedCount++;
  }
}
