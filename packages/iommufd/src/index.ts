/**
 * @iommu/iommufd: the iommufd IOAS model (drivers/iommu/iommufd/): io_pagetable areas over
 * shared iopt_pages, the three PFN tiers (xarray, domain page table, user memory), pfn_batch,
 * the IOAS ioctls with their errno, in-kernel accesses, fault injection at every allocation,
 * and the selftest mock domain. A caller of the IOMMU core: domains come from whoever
 * attaches them (any `IommuDomain`), or from the selftest's mock.
 */
// The context, its options and read-back modes.
export { type AccountMode, READ_BACK_MODES, type ReadBackMode, type SourceUser } from "./context.js";
export { type IommufdCounterSnapshot, IommufdCounters } from "./counters.js";
export { FailNth } from "./fail-nth.js";
// The objects (io_pagetable.h) and their interval trees.
export {
  forEachDoubleSpan,
  forEachSpan,
  IntervalTree,
  type IovaNode,
  type ItInterval,
  type ItKey,
  type ItNode,
  keyMin,
} from "./interval-tree.js";
export {
  IoPagetable,
  type IoptAccessRef,
  type IoptAllowed,
  IoptArea,
  IoptPages,
  type IoptPagesAccess,
  type IoptPagesNode,
  type IoptReserved,
} from "./io-pagetable.js";
// The iommufd file: ioctls, domains, accesses, selftest ops.
export {
  type AccessItem,
  Iommufd,
  IommufdAccess,
  IommufdHwptPaging,
  IommufdIoas,
  type IommufdOptions,
} from "./iommufd.js";
export { HPAGE_SIZE, IOVA_MAX } from "./iopt.js";
export { USER_VA_END } from "./pages.js";
export {
  BATCH_BACKUP_SIZE,
  MAX_NPFNS,
  PFN_BATCH_ELEMENT_SIZE,
  PfnBatch,
  TEMP_MEMORY_LIMIT,
} from "./pfn-batch.js";
// The selftest mock domain (selftest.c, iommufd_test.h).
export {
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_PAGE_SIZE,
  type MockPagetableInit,
  type MockPagetableType,
  mockDomainAllocPgtable,
} from "./selftest.js";
// include/uapi/linux/iommufd.h
export {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  type IommuDestroy,
  type IommuIoasAlloc,
  type IommuIoasAllowIovas,
  type IommuIoasCopy,
  type IommuIoasIovaRanges,
  type IommuIoasMap,
  type IommuIoasUnmap,
  type IommuIovaRange,
  type IommuOption,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
  MOCK_FLAGS_ACCESS_WRITE,
  UCMD_SIZES,
  type UcmdHeader,
} from "./uapi.js";
// drivers/iommu/iommufd/vfio_compat.c
export {
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  type IommuVfioIoas,
  iommufdVfioIoas,
  iommufdVfioMapDma,
  iommufdVfioSetIommu,
  iommufdVfioUnmapDma,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  type VfioCompatDmaMap,
  type VfioCompatDmaUnmap,
} from "./vfio-compat.js";
