// drivers/iommu/iommu.c (issue 17, beyond the series): a range lookup that reports physically
// contiguous runs, the unit VFIO unmaps and iommufd batches, from one descent of the table.
//
// Hot path: a format reports every leaf and empty slot to a PhysRunCollector that clips and
// merges them in frame numbers (< 2^52, exact doubles) and hands the caller one reused PhysRun
// record per run: nothing is allocated per run or per PTE, no bigint is created.
import { type Addr, checkAddr, fromPfn, hex, isExactNumber, offOf, PAGE_SIZE, pfnOf } from "./addr.js";
import type { IommuDomain } from "./domain.js";
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY } from "./domain.js";
import { IommuError, negErrno } from "./errno.js";
import { iommuIovaToPhysLength } from "./iommu.js";
import { PhysLength } from "./phys-length.js";

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
const PFN_LIMIT = 2 ** 52;
const EINVAL = negErrno("EINVAL");

/**
 * `prot` of a run whose permissions the lookup cannot see: the core's fallback through
 * `iova_to_phys_length`, and identity domains. Such runs never split on permissions.
 */
export const PHYS_RUN_PROT_UNKNOWN = -1;

/**
 * One run of {@link iommuIovaToPhysRuns}: a maximal stretch of the asked range that is
 * IOVA-contiguous and either unmapped (a hole) or mapped PA-contiguous with one `prot`. The
 * record is reused for every run of a lookup: copy what you keep. See
 * docs/iova-to-phys-runs.md.
 */
export class PhysRun {
  mapped = false;
  /** First IOVA of the run >> 12. */
  iovaPfn = 0;
  /** First IOVA of the run & 0xfff (non-zero only for a first run that starts mid-page). */
  iovaOffset = 0;
  /** Physical address of the run's first byte >> 12 (0 for a hole). */
  physPfn = 0;
  /** Physical address of the run's first byte & 0xfff (equal to `iovaOffset`; 0 for a hole). */
  physOffset = 0;
  /** Bytes in the run: exact when below 2^53 or a multiple of 4 KiB (always, for page-aligned ranges). */
  size = 0;
  /** `IOMMU_READ | IOMMU_WRITE | …` of every leaf in the run; 0 for a hole, or {@link PHYS_RUN_PROT_UNKNOWN}. */
  prot = 0;
  /** The smallest translation unit (leaf or contiguous block) of the run; for a hole the smallest empty slot. */
  leafSize = 0;

  constructor() {
    // Double representation from the start (see PhysLength).
    this.iovaPfn = 0.5;
    this.physPfn = 0.5;
    this.size = 0.5;
    this.leafSize = 0.5;
    this.iovaPfn = this.physPfn = this.size = this.leafSize = 0;
  }

  /** First IOVA: a number when it is a safe integer, else a bigint. */
  get iova(): Addr {
    return fromPfn(this.iovaPfn, this.iovaOffset);
  }

  /** Physical address of the first byte (0 for a hole). */
  get phys(): Addr {
    return fromPfn(this.physPfn, this.physOffset);
  }

  /** `mapped iova=0x… phys=0x… size=0x… prot=0x3 leaf=0x200000` or `hole iova=0x… size=0x…`. */
  toString(): string {
    return this.mapped
      ? `mapped iova=${hex(this.iova)} phys=${hex(this.phys)} size=${hex(this.size)} prot=${
          this.prot < 0 ? "?" : hex(this.prot)
        } leaf=${hex(this.leafSize)}`
      : `hole iova=${hex(this.iova)} size=${hex(this.size)}`;
  }

  /** Hex strings, exact at any width. */
  toJSON(): { mapped: boolean; iova: string; phys: string; size: string; prot: number; leafSize: string } {
    return {
      mapped: this.mapped,
      iova: hex(this.iova),
      phys: hex(this.phys),
      size: hex(this.size),
      prot: this.prot,
      leafSize: hex(this.leafSize),
    };
  }

  [INSPECT](): string {
    return `PhysRun { ${this.toString()} }`;
  }
}

/** Receives each run; return exactly `false` to stop the lookup after this run. */
export type PhysRunVisitor = (run: PhysRun) => unknown;

/**
 * Model-only: what a driver's `iovaToPhysRuns` op reports to. The driver walks its table once
 * over the frames `[startPfn, endPfn)`, in ascending IOVA order, and reports each leaf
 * ({@link leaf}) and each empty slot or untranslatable span ({@link hole}); pieces may reach
 * beyond the range on either side (the collector clips them). Both return `false` once the
 * range is covered or the caller stopped: the driver returns at once. Consecutive pieces are
 * merged into runs here, so every driver gets clipping and merging right the same way.
 */
export class PhysRunCollector {
  /** First frame of the range. */
  startPfn = 0;
  /** One past the last frame the range touches (a partial last page counts). */
  endPfn = 0;
  /** Offset of the range's first byte in its frame. */
  startOffset = 0;
  /** Bytes of the range in its last frame (0 = the whole frame). */
  private endOff = 0;
  private visit: PhysRunVisitor | null = null;
  private readonly run = new PhysRun();
  private count = 0;
  private stopped = false;
  // The pending (not yet reported) run, in frames.
  private pending = false;
  private pMapped = false;
  private pStart = 0;
  private pEnd = 0;
  private pPhys = 0;
  private pProt = 0;
  private pLeaf = 0;

  constructor() {
    this.startPfn = this.endPfn = this.pStart = this.pEnd = this.pPhys = this.pLeaf = 0.5;
    this.startPfn = this.endPfn = this.pStart = this.pEnd = this.pPhys = this.pLeaf = 0;
  }

  /**
   * Start a lookup of [iova, iova + size): 0, or -EINVAL when the range passes 2^64 (a size
   * of 0 is an empty range: nothing is reported).
   */
  begin(iova: Addr, size: Addr, visit: PhysRunVisitor): number {
    const sp = pfnOf(iova);
    const so = offOf(iova);
    let ep = sp + pfnOf(size);
    let eo = so + offOf(size);
    if (eo >= PAGE_SIZE) {
      eo -= PAGE_SIZE;
      ep++;
    }
    if (ep > PFN_LIMIT || (ep === PFN_LIMIT && eo > 0)) return EINVAL;
    this.startPfn = sp;
    this.startOffset = so;
    this.endPfn = eo > 0 ? ep + 1 : ep;
    this.endOff = eo;
    this.visit = visit;
    this.count = 0;
    this.pending = false;
    this.stopped = this.endPfn === sp && eo === 0;
    return 0;
  }

  /** True while the driver should go on reporting. */
  get wanted(): boolean {
    return !this.stopped && (!this.pending || this.pEnd < this.endPfn);
  }

  /**
   * A leaf (or contiguous block) translating frames [iovaPfn, iovaPfn + pfns) to
   * [physPfn, physPfn + pfns) with `prot`; `leafSize` is its translation unit in bytes.
   */
  leaf(iovaPfn: number, pfns: number, physPfn: number, prot: number, leafSize: number): boolean {
    if (this.stopped) return false;
    const s = Math.max(iovaPfn, this.startPfn);
    const end = iovaPfn + pfns;
    const e = Math.min(end, this.endPfn);
    if (e <= s) return end < this.endPfn;
    const phys = physPfn + (s - iovaPfn);
    if (
      this.pending &&
      this.pMapped &&
      this.pEnd === s &&
      this.pProt === prot &&
      this.pPhys + (s - this.pStart) === phys
    ) {
      this.pEnd = e;
      if (leafSize < this.pLeaf) this.pLeaf = leafSize;
    } else {
      if (this.pending && !this.emit()) return false;
      this.pending = true;
      this.pMapped = true;
      this.pStart = s;
      this.pEnd = e;
      this.pPhys = phys;
      this.pProt = prot;
      this.pLeaf = leafSize;
    }
    return e < this.endPfn;
  }

  /** An empty slot (or untranslatable span) of `slotSize` bytes covering frames [iovaPfn, iovaPfn + pfns). */
  hole(iovaPfn: number, pfns: number, slotSize: number): boolean {
    if (this.stopped) return false;
    const s = Math.max(iovaPfn, this.startPfn);
    const end = iovaPfn + pfns;
    const e = Math.min(end, this.endPfn);
    if (e <= s) return end < this.endPfn;
    if (this.pending && !this.pMapped && this.pEnd === s) {
      this.pEnd = e;
      if (slotSize < this.pLeaf) this.pLeaf = slotSize;
    } else {
      if (this.pending && !this.emit()) return false;
      this.pending = true;
      this.pMapped = false;
      this.pStart = s;
      this.pEnd = e;
      this.pPhys = 0;
      this.pProt = 0;
      this.pLeaf = slotSize;
    }
    return e < this.endPfn;
  }

  /** Report the last run; returns the number of runs reported. */
  finish(): number {
    if (this.pending && !this.stopped) this.emit();
    this.pending = false;
    this.stopped = true;
    this.visit = null;
    return this.count;
  }

  private emit(): boolean {
    const r = this.run;
    const s = this.pStart;
    const e = this.pEnd;
    const off = s === this.startPfn ? this.startOffset : 0;
    r.mapped = this.pMapped;
    r.iovaPfn = s;
    r.iovaOffset = off;
    r.physPfn = this.pPhys;
    r.physOffset = this.pMapped ? off : 0;
    r.size = (e - s) * PAGE_SIZE - off - (e === this.endPfn && this.endOff > 0 ? PAGE_SIZE - this.endOff : 0);
    r.prot = this.pProt;
    r.leafSize = this.pLeaf;
    this.pending = false;
    this.count++;
    if (this.visit?.(r) === false) this.stopped = true;
    return !this.stopped;
  }
}

const collector = new PhysRunCollector();
const step = new PhysLength();
/** Nesting depth of {@link iommuIovaToPhysRuns} (a visitor may look up runs again). */
let depth = 0;

/**
 * Model-only (issue 17; the kernel's callers loop over `iommu_iova_to_phys()`): report the
 * physically contiguous runs of [iova, iova + size) in ascending order, holes included, to
 * `visit` (one reused {@link PhysRun}; `false` stops). Returns the number of runs reported, or
 * -EINVAL when the range passes 2^64.
 *
 * A driver with the `iovaToPhysRuns` op answers in one descent: one `walks`. Otherwise the
 * core steps with `iommu_iova_to_phys_length()` (one `walks` each) and merges the answers;
 * such runs carry `prot` {@link PHYS_RUN_PROT_UNKNOWN}. Identity and blocked domains answer in
 * one walk. A malformed `iova` or `size` (negative, fractional, unsafe number not a multiple of
 * 4 KiB, beyond 2^64) throws an `IommuError` EINVAL, as the map/unmap entry points do.
 */
export function iommuIovaToPhysRuns(
  domain: IommuDomain,
  iova: Addr,
  size: Addr,
  visit: PhysRunVisitor,
): number {
  checkAddr(iova);
  checkSize(size);
  // The shared collector, unless a visitor is looking up runs from inside another lookup.
  const runs = depth === 0 ? collector : new PhysRunCollector();
  const ret = runs.begin(iova, size, visit);
  if (ret) return ret;
  if (!runs.wanted) return runs.finish();
  depth++;
  try {
    lookupRuns(domain, runs);
    return runs.finish();
  } finally {
    depth--;
  }
}

function lookupRuns(domain: IommuDomain, runs: PhysRunCollector): void {
  const ops = domain.ops;
  if (domain.type === IOMMU_DOMAIN_IDENTITY) {
    domain.counters.walks++;
    runs.leaf(0, PFN_LIMIT, 0, PHYS_RUN_PROT_UNKNOWN, 2 ** 64);
  } else if (domain.type === IOMMU_DOMAIN_BLOCKED || !ops) {
    domain.counters.walks++;
    runs.hole(0, PFN_LIMIT, 2 ** 64);
  } else if (ops.iovaToPhysRuns) {
    domain.counters.walks++;
    ops.iovaToPhysRuns(domain, runs);
  } else {
    fallback(domain, runs);
  }
}

/** A size: like an address, but 2^64 itself (the whole space) is allowed. */
function checkSize(size: Addr): void {
  const ok =
    typeof size === "bigint"
      ? size >= 0n && size <= 1n << 64n
      : typeof size === "number" && (isExactNumber(size) || size === 2 ** 64);
  if (!ok)
    throw new IommuError("EINVAL", "iommu_iova_to_phys_runs", { size: String(size) }, "a size is 0..2^64");
}

/** `iova_to_phys_length` steps merged into runs (drivers without the op). */
function fallback(domain: IommuDomain, runs: PhysRunCollector): void {
  let pfn = runs.startPfn;
  let first = true;
  for (;;) {
    // The first step asks for the range's own first byte; later ones start at a frame.
    const at = first ? fromPfn(pfn, runs.startOffset) : fromPfn(pfn);
    first = false;
    iommuIovaToPhysLength(domain, at, step);
    // Units below a page (legacy drivers with sub-page sizes) are taken page by page.
    const pfns = step.length >= PAGE_SIZE ? step.length / PAGE_SIZE : 1;
    const unit = Math.floor(pfn / pfns) * pfns;
    const more = step.mapped
      ? runs.leaf(unit, pfns, step.physPfn - (pfn - unit), PHYS_RUN_PROT_UNKNOWN, step.length)
      : runs.hole(unit, pfns, step.length);
    if (!more) return;
    pfn = unit + pfns;
  }
}
