/**
 * Groups and domains: `vfio_iommu_type1_attach_group` (domain reuse by ops identity, replay,
 * IOVA windows, reserved regions, MSI isolation), `vfio_iommu_type1_detach_group` (last
 * domain: unmap everything, or re-account for mdev) and `vfio_iommu_type1_release`.
 */
import { and64, negErrno, or64, PAGE_SIZE, toBigInt } from "@iommu/core";
import type { VfioDomain, VfioIommuGroup } from "./context.js";
import { bitmapSet } from "./dirty.js";
import {
  aperConflict,
  aperResize,
  copyWindows,
  type IommuResvRegion,
  type IovaWindow,
  resvConflict,
  resvExclude,
} from "./iova-list.js";
import { vfioLockAcct } from "./pin.js";
import { vfioIommuReplay } from "./replay.js";
import {
  iommuDomainFree,
  PAGE_MASK_BITMAP,
  U64_MAX,
  type VfioAttachOptions,
  type VfioIommuState,
} from "./state.js";
import { vfioUnmapUnpin } from "./unmap-unpin.js";

/** `vfio_iommu_find_iommu_group`: the group in a domain, or among the emulated groups. */
export function findGroup(
  st: VfioIommuState,
  id: number,
): { domain: VfioDomain | null; group: VfioIommuGroup } | undefined {
  for (const domain of st.domainList) {
    const group = domain.groups.find((g) => g.id === id);
    if (group) return { domain, group };
  }
  const group = st.emulatedGroups.find((g) => g.id === id);
  return group ? { domain: null, group } : undefined;
}

/**
 * `vfio_iommu_type1_attach_group`: allocate a domain for the group from the driver behind
 * its device (`opts.driver`, flags 0); join an existing
 * domain of the same driver (no replay) or add the new one at the head of the domain list
 * after replaying every mapping into it. 0 or -errno, nothing changed on failure.
 */
export function vfioIommuType1AttachGroup(
  st: VfioIommuState,
  groupId: number,
  opts: VfioAttachOptions = {},
): number {
  if (st.vaddrInvalidCount) return negErrno("EBUSY");
  if (findGroup(st, groupId)) return negErrno("EINVAL");
  const resvRegions = opts.resvRegions ?? [];
  if (opts.emulated) {
    // An emulated IOMMU group only reaches memory through vfio_pin_pages/dma_rw, so it is
    // dirty-tracking scoped from the start.
    st.emulatedGroups.unshift({ id: groupId, pinnedPageDirtyScope: true, resvRegions: [] });
    return 0;
  }
  const group: VfioIommuGroup = { id: groupId, pinnedPageDirtyScope: false, resvRegions };
  // iommu_paging_domain_alloc(iommu_api_dev): a device without an IOMMU has no driver.
  if (!opts.driver) return negErrno("ENODEV");
  const alloc = opts.driver.domainAllocPagingFlags(0);
  if (typeof alloc === "number") return alloc < 0 ? alloc : negErrno("ENOMEM");
  const domain: VfioDomain = { domain: alloc, groups: [], enforceCacheCoherency: false };
  const freeNew = (ret: number) => {
    iommuDomainFree(alloc);
    return ret;
  };
  const geo = alloc.geometry;
  const apStart = toBigInt(geo.apertureStart);
  const apEnd = toBigInt(geo.apertureEnd);
  if (aperConflict(st.iovaList, st.dmas, apStart, apEnd)) return freeNew(negErrno("EINVAL"));
  if (resvConflict(st.dmas, resvRegions)) return freeNew(negErrno("EINVAL"));
  const iovaCopy = copyWindows(st.iovaList);
  aperResize(iovaCopy, apStart, apEnd);
  const ex = resvExclude(iovaCopy, resvRegions);
  if (ex) return freeNew(ex);
  // A SW_MSI region would get iommu_get_msi_cookie(): nothing to model.
  domain.groups.push(group);
  if (!st.allowUnsafeInterrupts && opts.isolatedMsi === false) return freeNew(negErrno("EPERM"));

  const same = st.domainList.find(
    (d) => d.domain.ops === alloc.ops && d.enforceCacheCoherency === domain.enforceCacheCoherency,
  );
  if (same) {
    same.groups.push(group);
    iommuDomainFree(alloc);
  } else {
    const ret = vfioIommuReplay(st, domain, st.dmas, st.memlockLimit);
    if (ret) return freeNew(ret);
    st.domainList.unshift(domain);
    updatePgsizeBitmap(st);
  }
  st.iovaList = iovaCopy;
  st.numNonPinnedGroups++;
  return 0;
}

/**
 * `vfio_iommu_type1_detach_group`. Detaching the last group of the last domain unmaps and
 * unpins every mapping. Returns false when the group is not attached (the kernel does
 * nothing then).
 */
export function vfioIommuType1DetachGroup(st: VfioIommuState, groupId: number): boolean {
  const found = findGroup(st, groupId);
  if (!found) return false;
  const { domain, group } = found;
  if (!domain) {
    st.emulatedGroups.splice(st.emulatedGroups.indexOf(group), 1);
    if (st.emulatedGroups.length === 0 && st.domainList.length === 0) {
      if (st.devices.length) st.counters.warn("vfio detach: emulated devices still registered");
      st.unmapUnpinAll();
    }
    return true;
  }
  const iovaCopy = copyWindows(st.iovaList);
  domain.groups.splice(domain.groups.indexOf(group), 1);
  if (domain.groups.length === 0) {
    if (st.domainList.length === 1) {
      if (st.emulatedGroups.length === 0) {
        if (st.devices.length) st.counters.warn("vfio detach: emulated devices still registered");
        st.unmapUnpinAll();
      } else unmapUnpinReaccount(st);
    }
    iommuDomainFree(domain.domain);
    st.domainList.splice(st.domainList.indexOf(domain), 1);
    aperExpand(st, iovaCopy);
    updatePgsizeBitmap(st);
  }
  if (resvRefresh(st, iovaCopy) === 0) st.iovaList = iovaCopy;
  if (!group.pinnedPageDirtyScope) {
    st.numNonPinnedGroups--;
    // vfio_iommu_populate_bitmap_full: the group may have dirtied anything until now.
    if (st.dirtyPageTracking)
      for (const dma of st.dmas.items) bitmapSet(dma.bitmap!, 0, Math.floor(dma.size / st.minPageSize));
  }
  return true;
}

/** `vfio_iommu_aper_expand`: the removed domain may have been the narrowest. */
function aperExpand(st: VfioIommuState, list: IovaWindow[]): void {
  if (list.length === 0) return;
  let start = 0n;
  let end = U64_MAX;
  for (const d of st.domainList) {
    const s = toBigInt(d.domain.geometry.apertureStart);
    const e = toBigInt(d.domain.geometry.apertureEnd);
    if (s > start) start = s;
    if (e < end) end = e;
  }
  list[0]!.start = start;
  list[list.length - 1]!.end = end;
}

/** `vfio_iommu_resv_refresh`: rebuild the windows from the remaining groups' reserved regions. */
function resvRefresh(st: VfioIommuState, list: IovaWindow[]): number {
  if (list.length === 0) return negErrno("EINVAL");
  const regions: IommuResvRegion[] = [];
  for (const d of st.domainList) for (const g of d.groups) regions.push(...g.resvRegions);
  const start = list[0]!.start;
  const end = list[list.length - 1]!.end;
  list.length = 0;
  aperResize(list, start, end);
  return resvExclude(list, regions);
}

/** `vfio_update_pgsize_bitmap`: AND over domains, sub-page sizes folded into PAGE_SIZE. */
function updatePgsizeBitmap(st: VfioIommuState): void {
  // The kernel starts from ULONG_MAX, whose sub-page bits make an empty list PAGE_MASK.
  let bitmap = PAGE_MASK_BITMAP;
  let first = true;
  for (const d of st.domainList) {
    bitmap = first ? d.domain.pgsizeBitmap : and64(bitmap, d.domain.pgsizeBitmap);
    first = false;
  }
  if (!first && bitmap % PAGE_SIZE !== 0) bitmap = or64(bitmap - (bitmap % PAGE_SIZE), PAGE_SIZE);
  st.pgsizeBitmap = bitmap;
}

/**
 * `vfio_iommu_unmap_unpin_reaccount`: the last IOMMU domain goes while emulated groups
 * stay. Mappings survive for the mdev devices; only their externally pinned pages stay
 * charged.
 */
function unmapUnpinReaccount(st: VfioIommuState): void {
  for (const dma of st.dmas.items) {
    const unlocked = vfioUnmapUnpin(st, dma, false);
    vfioLockAcct(st, dma, dma.pfnList.size - unlocked);
  }
}

/** `vfio_iommu_type1_release`: unmap and unpin everything, free every domain. */
export function vfioIommuType1Release(st: VfioIommuState): void {
  if (st.released) return;
  st.released = true;
  st.emulatedGroups.length = 0;
  st.unmapUnpinAll();
  for (const d of st.domainList) {
    d.groups.length = 0;
    iommuDomainFree(d.domain);
  }
  st.domainList.length = 0;
  st.iovaList = [];
}
