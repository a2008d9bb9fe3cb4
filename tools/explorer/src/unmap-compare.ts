// drivers/vfio/vfio_iommu_type1.c: vfio_unmap_unpin's lookup-and-unmap loop, as @iommu/vfio's
// RunScanner and unmap-unpin.ts model it, run on the explorer's own table so the series'
// saving shows on the table you built. "today" finds each physically contiguous run with one
// iommu_iova_to_phys() per 4 KiB page; "length" steps leaf by leaf with
// iommu_iova_to_phys_length(). Runs are unmapped with iommu_unmap_fast() into one gather,
// synced every VFIO_IOMMU_TLB_SYNC_MAX runs and at the end. Every counter is the table
// domain's IommuCounters (the walks, PTE reads, unmap calls and syncs the core and the format
// counted); the events are for stepping through the loop in the view.
import {
  type IommuDomain,
  IotlbGather,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuUnmap,
  iommuUnmapFast,
  PAGE_SIZE,
  PhysLength,
} from "@iommu/core";

export type CompareMode = "legacy" | "length";

/** VFIO_IOMMU_TLB_SYNC_MAX */
const TLB_SYNC_MAX = 512;

/** One step of the loop. */
export type UnmapEvent =
  | {
      readonly kind: "lookup";
      readonly iova: number;
      readonly mapped: boolean;
      readonly phys: number;
      readonly length: number;
    }
  | { readonly kind: "unmap"; readonly iova: number; readonly size: number; readonly unmapped: number }
  | { readonly kind: "sync" };

export interface UnmapCounts {
  readonly walks: number;
  readonly pteReads: number;
  readonly unmapCalls: number;
  readonly iotlbSyncs: number;
}

export interface UnmapRun {
  readonly mode: CompareMode;
  readonly counts: UnmapCounts;
  readonly unmapped: number;
  /** The first {@link MAX_EVENTS} events. */
  readonly events: readonly UnmapEvent[];
  readonly truncated: boolean;
}

export const MAX_EVENTS = 4096;

/** Bytes from `iova` to the end of the naturally aligned `length` unit holding it, at least a page. */
function stepFrom(iova: number, length: number): number {
  if (length <= PAGE_SIZE) return PAGE_SIZE;
  return length - (iova % length);
}

/** Run VFIO's unmap loop over [iova, iova + size) of `domain` (which it modifies). */
export function vfioUnmapRange(domain: IommuDomain, iova: number, size: number, mode: CompareMode): UnmapRun {
  const c = domain.counters;
  const before = { walks: c.walks, pteReads: c.pteReads, unmapCalls: c.unmapCalls, syncs: c.syncs };
  const events: UnmapEvent[] = [];
  let truncated = false;
  const log = (e: UnmapEvent) => {
    if (events.length < MAX_EVENTS) events.push(e);
    else truncated = true;
  };
  const gather = new IotlbGather();
  let queued = 0;
  const sync = () => {
    iommuIotlbSync(domain, gather);
    log({ kind: "sync" });
    queued = 0;
  };
  let cur = new PhysLength();
  let probe = new PhysLength();
  let cachedIova = -1;
  const lookupLength = (at: number, out: PhysLength): PhysLength => {
    iommuIovaToPhysLength(domain, at, out);
    log({
      kind: "lookup",
      iova: at,
      mapped: out.mapped,
      phys: out.mapped ? out.physNumber : 0,
      length: out.length,
    });
    return out;
  };
  const lookupLegacy = (at: number): number => {
    const phys = Number(iommuIovaToPhys(domain, at));
    log({ kind: "lookup", iova: at, mapped: phys !== 0, phys, length: PAGE_SIZE });
    return phys;
  };
  let total = 0;
  let pos = 0;
  while (pos < size) {
    const at = iova + pos;
    const remaining = size - pos;
    let phys: number;
    let len: number;
    if (mode === "legacy") {
      phys = lookupLegacy(at);
      if (phys === 0) {
        pos += PAGE_SIZE;
        continue;
      }
      len = PAGE_SIZE;
      while (pos + len < size && lookupLegacy(at + len) === phys + len) len += PAGE_SIZE;
    } else {
      const r = cachedIova === at ? cur : lookupLength(at, cur);
      cachedIova = -1;
      if (!r.mapped) {
        pos += Math.min(remaining, stepFrom(at, r.length));
        continue;
      }
      phys = r.physNumber;
      len = Math.min(remaining, stepFrom(at, r.length));
      while (len < remaining) {
        const next = lookupLength(at + len, probe);
        if (!next.mapped || next.physNumber !== phys + len) {
          // The probe that broke the run is the first lookup of what follows.
          probe = cur;
          cur = next;
          cachedIova = at + len;
          break;
        }
        len += Math.min(remaining - len, stepFrom(at + len, next.length));
      }
    }
    // unmap_unpin_fast, then unmap_unpin_slow when the fast path made no progress
    let unmapped = iommuUnmapFast(domain, at, len, gather);
    log({ kind: "unmap", iova: at, size: len, unmapped });
    if (unmapped > 0) queued++;
    if (queued >= TLB_SYNC_MAX || !unmapped) sync();
    if (!unmapped) {
      unmapped = iommuUnmap(domain, at, len);
      log({ kind: "unmap", iova: at, size: len, unmapped });
      if (!unmapped) break;
    }
    total += unmapped;
    pos += unmapped;
  }
  if (queued) sync();
  return {
    mode,
    counts: {
      walks: c.walks - before.walks,
      pteReads: c.pteReads - before.pteReads,
      unmapCalls: c.unmapCalls - before.unmapCalls,
      iotlbSyncs: c.syncs - before.syncs,
    },
    unmapped: total,
    events,
    truncated,
  };
}
