import { type IommuCounters, type IommuDomain, PAGE_SIZE, PhysLength } from "@iommu/core";
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

  constructor(
    private readonly calls: IommuCalls,
    private readonly mode: UnmapMode,
    private readonly counters: IommuCounters,
  ) {}

  /** Start scanning [base, base + size) of `domain`. */
  begin(domain: IommuDomain, base: number, size: number, warnOnHole: boolean): void {
    this.domain = domain;
    this.base = base;
    this.size = size;
    this.warnOnHole = warnOnHole;
    this.cachedIova = -1;
  }

  /** Look at offset `pos`: true = a run (phys, len), false = a hole (skip). */
  at(pos: number): boolean {
    return this.mode === "legacy" ? this.atLegacy(pos) : this.atLength(pos);
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

/** Bytes from `iova` to the end of the naturally aligned `length` unit holding it, at least a page. */
function stepFrom(iova: number, length: number): number {
  if (length <= PAGE_SIZE) return PAGE_SIZE;
  return length - (iova % length);
}
