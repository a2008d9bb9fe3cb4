import { type Addr, fromPfn, hex, PAGE_SIZE } from "./addr.js";

/** Node's `util.inspect` hook, by its registered symbol (no `node:` import: browser-safe). */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * The result of one `iova_to_phys_length` walk, written into a record the caller reuses so
 * the hot path allocates nothing. See docs/iova-to-phys-length.md for the contract.
 *
 * - mapped: `physPfn`/`physOffset` give the physical address of the IOVA (offset kept), and
 *   `length` the size of the translation unit that maps it — a power of two, naturally
 *   aligned in IOVA space: [alignDown(iova, length), +length) is translated linearly.
 * - unmapped: `length` is the size of the naturally aligned empty span the walk stopped at,
 *   so a caller can skip the hole in one step.
 */
export class PhysLength {
  mapped = false;
  /** Physical address >> 12. */
  physPfn = 0;
  /** Physical address & 0xfff. */
  physOffset = 0;
  /** Bytes covered by the leaf (mapped) or the empty slot (unmapped); a power of two ≥ 1. */
  length = 0;

  constructor() {
    // Double field representation from the start (frames and lengths exceed 2^31): avoids a
    // representation change, and the deoptimisations it causes, on the first large value.
    this.physPfn = 0.5;
    this.length = 0.5;
    this.setUnmapped(0);
  }

  setMapped(physPfn: number, physOffset: number, length: number): void {
    this.mapped = true;
    this.physPfn = physPfn;
    this.physOffset = physOffset;
    this.length = length;
  }

  setUnmapped(length: number): void {
    this.mapped = false;
    this.physPfn = 0;
    this.physOffset = 0;
    this.length = length;
  }

  /** The physical address: a number when it is a safe integer, else a bigint. 0 when unmapped. */
  get phys(): Addr {
    return fromPfn(this.physPfn, this.physOffset);
  }

  /** The physical address as a bigint (exact, allocates). */
  get physBigInt(): bigint {
    return (BigInt(this.physPfn) << 12n) | BigInt(this.physOffset);
  }

  /** Physical address as a number; exact below 2^53 (and for 4 KiB aligned values below 2^65). */
  get physNumber(): number {
    return this.physPfn * PAGE_SIZE + this.physOffset;
  }

  /**
   * `mapped phys=0x80001234 length=0x200000`, or `unmapped length=0x40000000`: what a log
   * line or `console.log` shows (never the internal frame/offset split).
   */
  toString(): string {
    return this.mapped
      ? `mapped phys=${hex(this.phys)} length=${hex(this.length)}`
      : `unmapped length=${hex(this.length)}`;
  }

  /** `{ mapped, phys, length }` with hex strings, exact at any width (JSON has no 64-bit integers). */
  toJSON(): { mapped: boolean; phys: string; length: string } {
    return { mapped: this.mapped, phys: hex(this.phys), length: hex(this.length) };
  }

  [INSPECT](): string {
    return `PhysLength { ${this.toString()} }`;
  }
}

/**
 * Model-only (what `iommu_iova_to_phys()` makes of one lookup): the address `out` holds, 0 when
 * unmapped. Below 2^52 the number is built from the frame and offset directly — callers' lookup
 * loops measured ≈ 7 ns per call slower through the `phys` getter, which also builds bigints.
 */
export function physOrZero(out: PhysLength): Addr {
  if (!out.mapped) return 0;
  return out.physPfn < 2 ** 40 ? out.physPfn * PAGE_SIZE + out.physOffset : out.phys;
}
