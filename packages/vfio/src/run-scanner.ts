import { type IommuCounters, type IommuDomain, PAGE_SIZE, PhysLength, type PhysRun } from "@iommu/core";
import type { UnmapMode } from "./context.js";
import type { IommuCalls } from "./iommu-calls.js";

/**
 * Reads a mapped IOVA range back from a domain to find its maximal physically contiguous
 * runs: the lookup loop shared by vfio_unmap_unpin, vfio_iommu_replay and the replay unwind.
 *
 * `legacy` reproduces today's loop exactly: one iommu_iova_to_phys() for the run's first
 * page, one per further page while the physical address keeps pace, and one more for the
 * page that breaks the run (none when the run reaches the end of the range). A hole costs
 * one lookup per page.
 *
 * The length modes step with iommu_iova_to_phys_length(): one lookup per leaf (the step is
 * never below PAGE_SIZE, so sub-page leaves cost no more than today), an empty span is
 * skipped in one step, and in `length` the lookup that broke a run starts the next one.
 *
 * `runs` asks the core for the runs themselves (`iommuIovaToPhysRuns`), up to
 * {@link RUNS_BATCH} per range lookup, from the position asked to the end of the range: one
 * lookup per region that holds at most that many runs. The batch is only read after the walk
 * returns, so the caller may unmap the runs it has been given. A position at or before the
 * previous one (the replay unwind's quirk of not advancing past an unmapped run) looks again.
 */
export class RunScanner {
  /** Result of {@link at}: a run [iova, iova + len) starting at physical `phys`... */
  phys = 0;
  len = 0;
  /** ...or, for a hole, how far to skip. */
  skip = 0;

  private domain: IommuDomain | null = null;
  private base = 0;
  private size = 0;
  private warnOnHole = true;
  private cur = new PhysLength();
  private probe = new PhysLength();
  /** iova whose lookup result sits in `cur` (the run-breaking probe), or -1. */
  private cachedIova = -1;

  // `runs` mode: the current batch (start iova, phys, length, mapped), reused arrays.
  private readonly rIova: number[] = [];
  private readonly rPhys: number[] = [];
  private readonly rLen: number[] = [];
  private readonly rMapped: boolean[] = [];
  private rCount = 0;
  private rIdx = 0;
  private lastPos = -1;
  private readonly collect: (run: PhysRun) => boolean;

  constructor(
    private readonly calls: IommuCalls,
    private readonly mode: UnmapMode,
    private readonly counters: IommuCounters,
  ) {
    this.collect = (run) => {
      const i = this.rCount++;
      this.rIova[i] = run.iovaPfn * PAGE_SIZE + run.iovaOffset;
      this.rPhys[i] = run.physPfn * PAGE_SIZE + run.physOffset;
      this.rLen[i] = run.size;
      this.rMapped[i] = run.mapped;
      return this.rCount < RUNS_BATCH;
    };
  }

  /** Start scanning [base, base + size) of `domain`. */
  begin(domain: IommuDomain, base: number, size: number, warnOnHole: boolean): void {
    this.domain = domain;
    this.base = base;
    this.size = size;
    this.warnOnHole = warnOnHole;
    this.cachedIova = -1;
    this.rCount = 0;
    this.rIdx = 0;
    this.lastPos = -1;
  }

  /** Look at offset `pos`: true = a run (phys, len), false = a hole (skip). */
  at(pos: number): boolean {
    if (this.mode === "runs") return this.atRuns(pos);
    return this.mode === "legacy" ? this.atLegacy(pos) : this.atLength(pos);
  }

  private atRuns(pos: number): boolean {
    const iova = this.base + pos;
    if (pos <= this.lastPos) this.rCount = 0;
    this.lastPos = pos;
    while (this.rIdx < this.rCount && this.rIova[this.rIdx]! + this.rLen[this.rIdx]! <= iova) this.rIdx++;
    if (this.rIdx >= this.rCount || this.rIova[this.rIdx]! > iova) {
      this.rCount = 0;
      this.rIdx = 0;
      this.calls.iovaToPhysRuns(this.domain!, iova, this.size - pos, this.collect);
      if (this.rCount === 0) {
        // Nothing reported (cannot happen for a valid range): step over the rest as a hole.
        this.skip = this.size - pos;
        return false;
      }
    }
    const i = this.rIdx;
    const end = this.rIova[i]! + this.rLen[i]!;
    if (!this.rMapped[i]) {
      if (this.warnOnHole) this.counters.warn("vfio: iova not mapped in the domain (WARN_ON(!phys))");
      this.skip = end - iova;
      return false;
    }
    this.phys = this.rPhys[i]! + (iova - this.rIova[i]!);
    this.len = end - iova;
    return true;
  }

  private atLegacy(pos: number): boolean {
    const domain = this.domain!;
    const iova = this.base + pos;
    const phys = this.calls.iovaToPhys(domain, iova);
    if (phys === 0) {
      if (this.warnOnHole) this.counters.warn("vfio: iova not mapped in the domain (WARN_ON(!phys))");
      this.skip = PAGE_SIZE;
      return false;
    }
    let len = PAGE_SIZE;
    while (pos + len < this.size && this.calls.iovaToPhys(domain, iova + len) === phys + len)
      len += PAGE_SIZE;
    this.phys = phys;
    this.len = len;
    return true;
  }

  private atLength(pos: number): boolean {
    const domain = this.domain!;
    const iova = this.base + pos;
    const remaining = this.size - pos;
    const r = this.cur;
    if (this.cachedIova !== iova) this.calls.iovaToPhysLength(domain, iova, r);
    this.cachedIova = -1;
    if (!r.mapped) {
      if (this.warnOnHole) this.counters.warn("vfio: iova not mapped in the domain (WARN_ON(!phys))");
      this.skip = Math.min(remaining, stepFrom(iova, r.length));
      return false;
    }
    const phys = r.physNumber;
    let len = Math.min(remaining, stepFrom(iova, r.length));
    while (len < remaining) {
      const next = this.calls.iovaToPhysLength(domain, iova + len, this.probe);
      if (!next.mapped || next.physNumber !== phys + len) {
        if (this.mode === "length") {
          // Keep the probe: it is the first lookup of whatever follows this run.
          this.probe = r;
          this.cur = next;
          this.cachedIova = iova + len;
        }
        break;
      }
      len += Math.min(remaining - len, stepFrom(iova + len, next.length));
    }
    this.phys = phys;
    this.len = len;
    return true;
  }
}

/** Runs kept per range lookup in `runs` mode (VFIO_IOMMU_TLB_SYNC_MAX: one sync batch). */
export const RUNS_BATCH = 512;

/** Bytes from `iova` to the end of the naturally aligned `length` unit holding it, at least a page. */
function stepFrom(iova: number, length: number): number {
  if (length <= PAGE_SIZE) return PAGE_SIZE;
  return length - (iova % length);
}
