/**
 * `vfio_iommu_replay`: a new domain joins a container that already has mappings. Mapped
 * dmas are read back from the current first domain ({@link RunScanner}) and mapped run by
 * run into the new one; dmas never mapped (no IOMMU domain until now) are pinned here. On
 * failure everything done to the new domain is undone.
 */
import { IOMMU_CACHE, PAGE_SIZE } from "@iommu/core";
import type { Type1Context, VfioDomain } from "./context.js";
import type { DmaList } from "./dma.js";
import { batchUnpin, PfnOut, pinPagesRemote, unpinPagesRemote, VfioBatch } from "./pin.js";
import { RunScanner } from "./run-scanner.js";

export function vfioIommuReplay(ctx: Type1Context, domain: VfioDomain, dmas: DmaList, limit: number): number {
  const d = ctx.domainList[0];
  const batch = new VfioBatch(ctx.disableHugepages);
  const scan = new RunScanner(ctx.calls, ctx.unmapMode, ctx.counters);
  const pfn = new PfnOut();
  let ret = 0;
  let n = 0;
  walk: for (; n < dmas.length; n++) {
    const dma = dmas.items[n]!;
    if (dma.iommuMapped && d) scan.begin(d.domain, dma.iova, dma.size, true);
    let pos = 0;
    while (pos < dma.size) {
      const iova = dma.iova + pos;
      let phys: number;
      let size: number;
      if (dma.iommuMapped) {
        if (!d) {
          ctx.counters.warn("vfio_iommu_replay: mapped without a domain");
          ret = -22;
          break walk;
        }
        if (!scan.at(pos)) {
          pos += scan.skip;
          continue;
        }
        phys = scan.phys;
        size = scan.len;
      } else {
        const npage = pinPagesRemote(
          ctx,
          dma,
          dma.vaddr + pos,
          (dma.size - pos) / PAGE_SIZE,
          pfn,
          limit,
          batch,
        );
        if (npage <= 0) {
          if (npage === 0) ctx.counters.warn("vfio_iommu_replay: pinned nothing");
          ret = npage;
          break walk;
        }
        phys = pfn.value * PAGE_SIZE;
        size = npage * PAGE_SIZE;
      }
      ret = ctx.calls.map(domain.domain, iova, phys, size, dma.prot | IOMMU_CACHE);
      if (ret) {
        if (!dma.iommuMapped) {
          unpinPagesRemote(ctx, dma, iova, phys / PAGE_SIZE, size / PAGE_SIZE, true);
          batchUnpin(ctx, batch);
        }
        break walk;
      }
      pos += size;
    }
  }
  if (!ret) {
    for (const dma of dmas.items) dma.iommuMapped = true;
    return 0;
  }

  // Unwind from the dma that failed back to the first.
  for (let i = Math.min(n, dmas.length - 1); i >= 0; i--) {
    const dma = dmas.items[i]!;
    if (dma.iommuMapped) {
      ctx.calls.unmap(domain.domain, dma.iova, dma.size);
      continue;
    }
    scan.begin(domain.domain, dma.iova, dma.size, false);
    let pos = 0;
    while (pos < dma.size) {
      if (!scan.at(pos)) {
        pos += scan.skip;
        continue;
      }
      // Kernel quirk: pos is not advanced past the run just unmapped, so the next lookups
      // find it empty and step over it as a hole.
      const iova = dma.iova + pos;
      if (!ctx.calls.unmap(domain.domain, iova, scan.len)) {
        // The kernel would spin here forever; the model gives up on this dma.
        ctx.counters.warn("vfio_iommu_replay: unwind unmap made no progress");
        break;
      }
      unpinPagesRemote(ctx, dma, iova, scan.phys / PAGE_SIZE, scan.len / PAGE_SIZE, true);
    }
  }
  return ret;
}
