/**
 * @iommu/core: the contract every driver, format and caller shares (domain ops, driver,
 * inspector), errors, sizes, the core algorithms of drivers/iommu/iommu.c, simulated physical
 * memory and cost counters.
 */

// Addresses: the Addr type, exact 64-bit helpers (shared by every format's hot paths).
export {
  type Addr,
  and64,
  checkAddr,
  ffs,
  fls,
  fromPfn,
  hex,
  isExactNumber,
  lowBits,
  modPow2,
  normalizeAddr,
  offOf,
  or64,
  PAGE_SHIFT,
  PAGE_SIZE,
  POW2,
  pfnOf,
  testBit,
  toBigInt,
  toNumber,
  toU64,
  U64_LIMIT,
  u64Less,
} from "./addr.js";
// Errors.
export { ArgCheck } from "./arg-check.js";
export { BoundedLog } from "./bounded-log.js";
// Cost counters.
export { COUNTER_KEYS, type CounterKey, type CounterSnapshot, IommuCounters } from "./counters.js";
// The domain contract.
export {
  __IOMMU_DOMAIN_DMA_API,
  __IOMMU_DOMAIN_DMA_FQ,
  __IOMMU_DOMAIN_NESTED,
  __IOMMU_DOMAIN_PAGING,
  __IOMMU_DOMAIN_PLATFORM,
  __IOMMU_DOMAIN_PT,
  __IOMMU_DOMAIN_SVA,
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_DMA_FQ,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_NESTED,
  IOMMU_DOMAIN_PLATFORM,
  IOMMU_DOMAIN_SVA,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuDirtyBitmap,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  SizeOut,
} from "./domain.js";
// The driver contract and the uapi flags callers pass to it.
export { iommuPagingDomainAllocFlags } from "./domain-alloc.js";
export {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_ENFORCE_CACHE_COHERENCY,
  IOMMU_CAP_NOEXEC,
  IOMMU_CAP_PRE_BOOT_PROTECTION,
  type IommuCap,
  type IommuDomainAllocOptions,
  type IommuDriver,
} from "./driver.js";
export { ERRNO, type ErrnoName, errnoName, IommuError, negErrno } from "./errno.js";
// IOTLB gather.
export {
  IotlbGather,
  iotlbGatherAddPage,
  iotlbGatherAddRange,
  iotlbGatherIsDisjoint,
  iotlbGatherQueued,
} from "./gather.js";
export { holeSpanOutside, type IovaRange } from "./hole-span.js";
export {
  iommuDomainInspector,
  PteReader,
  pageTableStatsOf,
  pteAddrField,
  pteField,
  u64Of,
  type VisitWindow,
  visitIndexRange,
  visitWindow,
} from "./inspect.js";
export { type TwoLevelTable32, visitTwoLevel32, walkTwoLevel32 } from "./inspect-two-level.js";
// The inspection contract.
export type {
  PageTableGeometry,
  PageTableInspector,
  PageTableStats,
  PageTableVisitOptions,
  PageTableWalk,
  PageTableWalkEnd,
  PteField,
  PteInfo,
  PteKind,
} from "./inspector.js";
// The core algorithms (drivers/iommu/iommu.c).
export {
  __iommuUnmap,
  createBlockedDomain,
  createIdentityDomain,
  identityUnitLength,
  iommuFlushIotlbAll,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuMapNosync,
  iommuSyncMap,
  iommuUnmap,
  iommuUnmapFast,
  minPageSize,
} from "./iommu.js";
// Counted IOMMU core calls of a caller (shared by @iommu/vfio and @iommu/iommufd).
export {
  CountedIommuCalls,
  type CountedIommuCallsOptions,
  type IommuCallCounterFields,
} from "./iommu-call-counts.js";
export {
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_HWPT_FAULT_ID_VALID,
} from "./iommufd-uapi.js";
// Model-only: the IOTLB / walk cache of an IOMMU and the stale-translation checker.
export {
  IotlbChecker,
  type IotlbCommandFeed,
  type IotlbFinding,
  type IotlbFindingKind,
  type IotlbOverInvalidation,
} from "./iotlb-checker.js";
export {
  type IotlbAccess,
  type IotlbEntry,
  type IotlbInvalidation,
  type IotlbInvalidationScope,
  IotlbModel,
  type IotlbModelOptions,
  type IotlbReplacement,
  type IotlbStaleCause,
  IotlbStats,
  IotlbTranslation,
  type WalkCacheEntry,
} from "./iotlb-model.js";
// The kmem_cache of sub-page tables (drivers that count their tables themselves).
export { KmemCache, type KmemCacheOptions } from "./kmem-cache.js";
// A fake device's 32-bit register file (drivers that model their MMIO).
export { MmioRegs } from "./mmio-regs.js";
export { iommuPgsize, PgsizeResult } from "./pgsize.js";
export { PhysLength, physOrZero } from "./phys-length.js";
// Simulated physical memory and page-table allocation.
export { type MemChunk, PhysMem } from "./phys-mem.js";
// The user process callers pin memory for (shared by @iommu/vfio and @iommu/iommufd).
export { PhysSlots, USER_PHYS_BASE, USER_PHYS_END } from "./phys-slots.js";
// Protection and allocation flags.
export {
  __GFP_COMP,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  GFP_ATOMIC,
  GFP_BAD_FOR_IOMMU_MAP,
  GFP_KERNEL,
  IOMMU_CACHE,
  IOMMU_DIRTY_NO_CLEAR,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
} from "./prot.js";
export {
  iommuIovaToPhysRuns,
  PHYS_RUN_PROT_UNKNOWN,
  PhysRun,
  PhysRunCollector,
  type PhysRunVisitor,
} from "./runs.js";
export { runsOver32BitWindows, type Window32Walk } from "./runs-window32.js";
// Sizes.
export {
  SZ_1G,
  SZ_1K,
  SZ_1M,
  SZ_1T,
  SZ_2G,
  SZ_2K,
  SZ_2M,
  SZ_4G,
  SZ_4K,
  SZ_4M,
  SZ_4T,
  SZ_8G,
  SZ_8K,
  SZ_8M,
  SZ_16G,
  SZ_16K,
  SZ_16M,
  SZ_32G,
  SZ_32K,
  SZ_32M,
  SZ_64G,
  SZ_64K,
  SZ_64M,
  SZ_64T,
  SZ_128G,
  SZ_128K,
  SZ_128M,
  SZ_256G,
  SZ_256K,
  SZ_256M,
  SZ_512G,
  SZ_512K,
  SZ_512M,
} from "./sizes.js";
export { SplitMix64 } from "./splitmix64.js";
export { TableAllocator, type TableAllocatorOptions } from "./table-allocator.js";
// The last page table a walk resolved (model-only phys_to_virt).
export { TableView } from "./table-view.js";
// Table pages taken without the allocator's counters (drivers that count their tables themselves).
export { allocUncounted, releaseUncounted } from "./uncounted-alloc.js";
export {
  chunkSizeOf,
  type LayoutPiece,
  MEM_KINDS,
  type MemKind,
  MemRegion,
  type MemRegionSpec,
  UserMemory,
  UserMemoryError,
} from "./user-memory.js";
export { RLIM_INFINITY, UserMm, type UserMmOptions } from "./user-mm.js";
