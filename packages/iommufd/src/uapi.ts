// include/uapi/linux/iommufd.h (the IOAS part) and drivers/iommu/iommufd/iommufd_test.h (the
// selftest ops the model implements): flags, option ids and the ioctl structs.
import type { Addr } from "@iommu/core";

/** `enum iommufd_ioas_map_flags` */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;

/** `enum iommufd_option` / `enum iommufd_option_ops` */
export const IOMMU_OPTION_RLIMIT_MODE = 0;
export const IOMMU_OPTION_HUGE_PAGES = 1;
export const IOMMU_OPTION_OP_SET = 0;
export const IOMMU_OPTION_OP_GET = 1;

/** `enum iommufd_access_rw_flags` as the selftest passes them (MOCK_ACCESS_RW_*). */
export const MOCK_ACCESS_RW_WRITE = 1 << 0;
export const MOCK_ACCESS_RW_SLOW_PATH = 1 << 2;
/** `MOCK_FLAGS_ACCESS_WRITE`: IOMMU_TEST_OP_ACCESS_PAGES pins for writing. */
export const MOCK_FLAGS_ACCESS_WRITE = 1 << 0;

/**
 * The size header of every iommufd ioctl struct (`__u32 size`): absent = the struct's own
 * size. A smaller size than the op's minimum is -EINVAL; bytes past the known struct
 * (`trailing`) must be zero or the ioctl fails with -E2BIG (`copy_struct_from_user`).
 */
export interface UcmdHeader {
  size?: number;
  trailing?: Uint8Array;
}

/** `struct iommu_destroy` (8 bytes) */
export interface IommuDestroy extends UcmdHeader {
  id: number;
}

/** `struct iommu_ioas_alloc` (12 bytes) */
export interface IommuIoasAlloc extends UcmdHeader {
  flags: number;
  outIoasId?: number;
}

/** `struct iommu_ioas_map` (40 bytes); `iova` is written back for an allocated IOVA. */
export interface IommuIoasMap extends UcmdHeader {
  flags: number;
  ioasId: number;
  reserved?: number;
  userVa: Addr;
  length: Addr;
  iova: Addr;
}

/** `struct iommu_ioas_unmap` (24 bytes); `length` is written back with the bytes unmapped. */
export interface IommuIoasUnmap extends UcmdHeader {
  ioasId: number;
  iova: Addr;
  length: Addr;
}

/** `struct iommu_ioas_copy` (40 bytes) */
export interface IommuIoasCopy extends UcmdHeader {
  flags: number;
  dstIoasId: number;
  srcIoasId: number;
  length: Addr;
  dstIova: Addr;
  srcIova: Addr;
}

/** `struct iommu_iova_range` */
export interface IommuIovaRange {
  start: Addr;
  last: Addr;
}

/** `struct iommu_ioas_iova_ranges` (32 bytes): `numIovas` in = room, out = ranges that exist. */
export interface IommuIoasIovaRanges extends UcmdHeader {
  ioasId: number;
  numIovas: number;
  reserved?: number;
  allowedIovas: IommuIovaRange[];
  outIovaAlignment?: number;
}

/** `struct iommu_ioas_allow_iovas` (24 bytes) */
export interface IommuIoasAllowIovas extends UcmdHeader {
  ioasId: number;
  reserved?: number;
  allowedIovas: IommuIovaRange[];
}

/** `struct iommu_option` (24 bytes) */
export interface IommuOption extends UcmdHeader {
  optionId: number;
  op: number;
  reserved?: number;
  objectId: number;
  val64: Addr;
}

/** Struct sizes: `[min_size (offsetofend of the last original member), size]`. */
export const UCMD_SIZES = {
  destroy: [8, 8],
  ioasAlloc: [12, 12],
  ioasMap: [40, 40],
  ioasUnmap: [24, 24],
  ioasCopy: [40, 40],
  ioasIovaRanges: [32, 32],
  ioasAllowIovas: [24, 24],
  option: [24, 24],
} as const satisfies Record<string, readonly [number, number]>;
