// The fake user address space lives in @iommu/core (user-memory.ts), shared with @iommu/iommufd.
export {
  chunkSizeOf,
  type LayoutPiece,
  MEM_KINDS,
  type MemKind,
  MemRegion,
  type MemRegionSpec,
  UserMemory,
  UserMemoryError,
} from "@iommu/core";
