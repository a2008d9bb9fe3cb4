/**
 * The container's valid IOVA windows (`iommu->iova_list`, `struct vfio_iova`): the
 * intersection of the attached domains' apertures minus their groups' reserved regions.
 * Inclusive bigint bounds, as the kernel keeps them: the last window may end at 2^64 − 1.
 */
import type { DmaList } from "./dma.js";

export interface IovaWindow {
  start: bigint;
  end: bigint;
}

/** `enum iommu_resv_type` */
export type IommuResvType = "direct" | "direct-relaxable" | "reserved" | "msi" | "sw-msi";

/** `struct iommu_resv_region` */
export interface IommuResvRegion {
  start: bigint;
  length: bigint;
  type: IommuResvType;
}

const U64_MAX = (1n << 64n) - 1n;

/** `vfio_find_dma` on bigint bounds (the iova list can reach 2^64 − 1). */
export function findDmaBig(dmas: DmaList, start: bigint, size: bigint): boolean {
  if (size <= 0n) return false;
  const s = start > U64_MAX ? U64_MAX : start;
  const endExcl = s + size;
  // Number(s) may round above 2^53; start a little lower and test exactly.
  for (let i = dmas.lowerBound(Math.max(0, Number(s) - 0x10000)); i < dmas.length; i++) {
    const d = dmas.items[i]!;
    if (BigInt(d.iova) >= endExcl) return false;
    if (d.size > 0 && BigInt(d.iova + d.size) > s) return true;
  }
  return false;
}

/** `vfio_iommu_aper_conflict`: the new aperture is disjoint or would cut off existing dmas. */
export function aperConflict(list: IovaWindow[], dmas: DmaList, start: bigint, end: bigint): boolean {
  if (list.length === 0) return false;
  const first = list[0]!;
  const last = list[list.length - 1]!;
  if (start > last.end || end < first.start) return true;
  if (start > first.start && findDmaBig(dmas, first.start, start - first.start)) return true;
  if (end < last.end && findDmaBig(dmas, end + 1n, last.end - end)) return true;
  return false;
}

/** `vfio_iommu_aper_resize`: clip the windows to [start, end] (or create it when empty). */
export function aperResize(list: IovaWindow[], start: bigint, end: bigint): void {
  if (list.length === 0) {
    list.push({ start, end });
    return;
  }
  // Drop windows wholly below the new start, trim the one it falls in.
  while (list.length > 0) {
    const node = list[0]!;
    if (start < node.start) break;
    if (start < node.end) {
      node.start = start;
      break;
    }
    list.shift();
  }
  // Trim the window holding the new end, drop those beyond it.
  for (let i = 0; i < list.length; ) {
    const node = list[i]!;
    if (end > node.end) {
      i++;
      continue;
    }
    if (end > node.start) {
      node.end = end;
      i++;
      continue;
    }
    list.splice(i, 1);
  }
}

/** `vfio_iommu_resv_conflict`: a non-relaxable reserved region covers an existing dma. */
export function resvConflict(dmas: DmaList, regions: readonly IommuResvRegion[]): boolean {
  for (const r of regions) {
    if (r.type === "direct-relaxable") continue;
    if (findDmaBig(dmas, r.start, r.length)) return true;
  }
  return false;
}

/** `vfio_iommu_resv_exclude`: punch the reserved regions out; -EINVAL when nothing is left. */
export function resvExclude(list: IovaWindow[], regions: readonly IommuResvRegion[]): number {
  for (const r of regions) {
    if (r.type === "direct-relaxable") continue;
    const start = r.start;
    const end = r.start + r.length - 1n;
    for (let i = 0; i < list.length; ) {
      const n = list[i]!;
      if (start > n.end || end < n.start) {
        i++;
        continue;
      }
      const pieces: IovaWindow[] = [];
      if (start > n.start) pieces.push({ start: n.start, end: start - 1n });
      if (end < n.end) pieces.push({ start: end + 1n, end: n.end });
      list.splice(i, 1, ...pieces);
      i += pieces.length;
    }
  }
  return list.length === 0 ? -22 : 0;
}

/** `vfio_iommu_has_sw_msi`: a SW_MSI region and no hardware MSI region. */
export function hasSwMsi(regions: readonly IommuResvRegion[]): bigint | undefined {
  let base: bigint | undefined;
  for (const r of regions) {
    if (r.type === "msi") return undefined;
    if (r.type === "sw-msi") base = r.start;
  }
  return base;
}

/** `vfio_iommu_iova_dma_valid`: [start, end] inside one window (or no windows at all). */
export function iovaDmaValid(list: readonly IovaWindow[], start: bigint, end: bigint): boolean {
  for (const n of list) if (start >= n.start && end <= n.end) return true;
  return list.length === 0;
}

export function copyWindows(list: readonly IovaWindow[]): IovaWindow[] {
  return list.map((w) => ({ start: w.start, end: w.end }));
}
