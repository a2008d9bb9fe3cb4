// drivers/iommu/iommufd/selftest.c + iommufd_test.h: the mock IOMMU domain the kernel's
// iommufd selftests attach (MOCK_IOMMUPT_DEFAULT / _HUGE), and IOMMU_TEST_OP_MD_CHECK_MAP.
//
// The mock keeps its leaves in a map of 2 KiB slots (the xarray of the pre-iommupt mock, which
// also had no leaf-size concept beyond its slots): every slot of a leaf points at the leaf, so
// a lookup is one map read and reports the leaf's size.
import {
  __IOMMU_DOMAIN_PAGING,
  type Addr,
  IommuCounters,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  PAGE_SIZE,
  type PhysLength,
  type SizeOut,
  toNumber,
} from "@iommu/core";

/** `MOCK_APERTURE_START` / `MOCK_APERTURE_LAST` (true for MOCK_IOMMUPT_DEFAULT). */
export const MOCK_APERTURE_START = 1 << 24;
export const MOCK_APERTURE_LAST = 2 ** 31 - 1;
/** `MOCK_PAGE_SIZE` (`MOCK_IO_PAGE_SIZE` = PAGE_SIZE / 2 in older trees). */
export const MOCK_PAGE_SIZE = 2048;
/** `MOCK_HUGE_PAGE_SIZE` */
export const MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE;

/**
 * `enum MOCK_IOMMUPT_*`: the mock's page-table type. The AMDv1 variant is the real AMDv1
 * format; this package leaves it to whoever attaches domains (e.g. @iommu/generic-pt's
 * `createPtDomain("amdv1")`), so only DEFAULT and HUGE are built here.
 */
export type MockPagetableType = "default" | "huge";

/** One leaf: [iova, iova + size) → [phys, phys + size). */
interface MockLeaf {
  iova: number;
  size: number;
  phys: number;
  prot: number;
  /** `MOCK_PFN_START_IOVA` / `MOCK_PFN_LAST_IOVA`: first / last leaf of a map_pages call. */
  start: boolean;
  last: boolean;
}

/** `struct mock_iommu_domain` */
export class MockDomain implements IommuDomain {
  type = __IOMMU_DOMAIN_PAGING;
  ops: IommuDomainOps<MockDomain> = MOCK_DOMAIN_OPS;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  counters: IommuCounters;
  /** 2 KiB slot → leaf. */
  readonly slots = new Map<number, MockLeaf>();
  /** Allocation failure hook of map_pages (the xa_store allocation). */
  shouldFail: () => boolean = () => false;

  constructor(
    readonly pagetableType: MockPagetableType = "default",
    counters: IommuCounters = new IommuCounters(),
  ) {
    this.counters = counters;
    if (pagetableType === "huge") {
      this.pgsizeBitmap = MOCK_HUGE_PAGE_SIZE | PAGE_SIZE;
      // amdv1_mock: 56-bit VA, no aperture override.
      this.geometry = { apertureStart: 0, apertureEnd: 2 ** 56 - 1, forceAperture: true };
    } else {
      this.pgsizeBitmap = MOCK_PAGE_SIZE;
      this.geometry = {
        apertureStart: MOCK_APERTURE_START,
        apertureEnd: MOCK_APERTURE_LAST,
        forceAperture: true,
      };
    }
  }

  /** Bytes mapped. */
  get mappedBytes(): number {
    let n = 0;
    for (const leaf of new Set(this.slots.values())) n += leaf.size;
    return n;
  }

  /** Leaves in IOVA order (tests and dumps). */
  leaves(): readonly Readonly<MockLeaf>[] {
    return [...new Set(this.slots.values())].sort((a, b) => a.iova - b.iova);
  }
}

function slotOf(iova: number): number {
  return Math.floor(iova / MOCK_PAGE_SIZE);
}

/** `mock_domain_map_pages` */
function mapPages(
  d: MockDomain,
  iovaA: Addr,
  paddrA: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  const iova = toNumber(iovaA);
  const paddr = toNumber(paddrA);
  if (d.shouldFail()) return -12;
  const made: MockLeaf[] = [];
  for (let i = 0; i < pgcount; i++) {
    const leaf: MockLeaf = {
      iova: iova + i * pgsize,
      size: pgsize,
      phys: paddr + i * pgsize,
      prot,
      start: i === 0,
      last: i === pgcount - 1,
    };
    const first = slotOf(leaf.iova);
    const n = pgsize / MOCK_PAGE_SIZE;
    for (let s = first; s < first + n; s++) {
      if (d.slots.has(s)) {
        d.counters.warn("mock_domain_map_pages: IOVA already mapped");
        for (const m of made)
          for (let t = slotOf(m.iova); t < slotOf(m.iova) + m.size / MOCK_PAGE_SIZE; t++) d.slots.delete(t);
        for (let t = first; t < s; t++) d.slots.delete(t);
        return -17;
      }
      d.slots.set(s, leaf);
    }
    d.counters.pteWrites++;
    made.push(leaf);
  }
  mapped.value += pgsize * pgcount;
  return 0;
}

/**
 * `mock_domain_unmap_pages`: erase whole leaves from `iova` over pgsize × pgcount bytes (an
 * empty slot counts as 2 KiB). Without the huge size, the first erased leaf must start a
 * map_pages call and a single-page unmap must end one: iommufd's unmaps are supersets of
 * its maps, which the mock WARNs about.
 */
function unmapPages(d: MockDomain, iovaA: Addr, pgsize: number, pgcount: number): number {
  const iova = toNumber(iovaA);
  const end = iova + pgsize * pgcount;
  const check = (d.pgsizeBitmap & MOCK_HUGE_PAGE_SIZE) === 0;
  let at = iova;
  let first = true;
  while (at < end) {
    const leaf = d.slots.get(slotOf(at));
    if (!leaf) {
      at += MOCK_PAGE_SIZE;
      first = false;
      continue;
    }
    if (check && first && !leaf.start) d.counters.warn("mock_domain_unmap_pages: unmap starts inside a map");
    first = false;
    for (let s = slotOf(leaf.iova); s < slotOf(leaf.iova) + leaf.size / MOCK_PAGE_SIZE; s++)
      d.slots.delete(s);
    d.counters.pteWrites++;
    at = leaf.iova + leaf.size;
    if (check && pgcount === 1 && at >= end && !leaf.last)
      d.counters.warn("mock_domain_unmap_pages: unmap ends inside a map");
  }
  return at - iova;
}

/** generic_pt `iova_to_phys_length` of the mock: one slot read. */
function iovaToPhysLength(d: MockDomain, iovaA: Addr, out: PhysLength): void {
  const iova = toNumber(iovaA);
  d.counters.pteReads++;
  const leaf = d.slots.get(slotOf(iova));
  if (!leaf) {
    out.setUnmapped(MOCK_PAGE_SIZE);
    return;
  }
  const phys = leaf.phys + (iova - leaf.iova);
  out.setMapped(Math.floor(phys / PAGE_SIZE), phys % PAGE_SIZE, leaf.size);
}

/** `mock_domain_iova_to_phys` */
function iovaToPhys(d: MockDomain, iovaA: Addr): number {
  const iova = toNumber(iovaA);
  d.counters.pteReads++;
  const leaf = d.slots.get(slotOf(iova));
  return leaf ? leaf.phys + (iova - leaf.iova) : 0;
}

/** `mock_domain_ops` (paging part; `mock_iotlb_sync` only frees the gather's pages). */
export const MOCK_DOMAIN_OPS: IommuDomainOps<MockDomain> = {
  name: "iommufd-mock",
  mapPages,
  unmapPages,
  iovaToPhysLength,
  iovaToPhys,
  iotlbSync() {},
  free(d) {
    d.slots.clear();
  },
};
