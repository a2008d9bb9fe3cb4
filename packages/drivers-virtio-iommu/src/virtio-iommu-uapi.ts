// include/uapi/linux/virtio_iommu.h (v0.12 layout) and the virtio spec §5.13: the constants and
// byte layouts both sides of the request queue agree on. All fields are little-endian.

/** `VIRTIO_ID_IOMMU`: the virtio device ID. */
export const VIRTIO_ID_IOMMU = 23;

/** `VIRTIO_IOMMU_F_INPUT_RANGE`: `input_range` is valid. */
export const VIRTIO_IOMMU_F_INPUT_RANGE = 0;
/** `VIRTIO_IOMMU_F_DOMAIN_RANGE`: `domain_range` is valid. */
export const VIRTIO_IOMMU_F_DOMAIN_RANGE = 1;
/** `VIRTIO_IOMMU_F_MAP_UNMAP`: MAP and UNMAP requests are available. */
export const VIRTIO_IOMMU_F_MAP_UNMAP = 2;
/** `VIRTIO_IOMMU_F_BYPASS`: unattached endpoints bypass the IOMMU (superseded by BYPASS_CONFIG). */
export const VIRTIO_IOMMU_F_BYPASS = 3;
/** `VIRTIO_IOMMU_F_PROBE`: the PROBE request is available. */
export const VIRTIO_IOMMU_F_PROBE = 4;
/** `VIRTIO_IOMMU_F_MMIO`: `VIRTIO_IOMMU_MAP_F_MMIO` is available. */
export const VIRTIO_IOMMU_F_MMIO = 5;
/** `VIRTIO_IOMMU_F_BYPASS_CONFIG`: the `bypass` config field and `ATTACH_F_BYPASS`. */
export const VIRTIO_IOMMU_F_BYPASS_CONFIG = 6;

/** `VIRTIO_IOMMU_T_*`: request types. */
export const VIRTIO_IOMMU_T_ATTACH = 1;
export const VIRTIO_IOMMU_T_DETACH = 2;
export const VIRTIO_IOMMU_T_MAP = 3;
export const VIRTIO_IOMMU_T_UNMAP = 4;
export const VIRTIO_IOMMU_T_PROBE = 5;

/** `VIRTIO_IOMMU_S_*`: request status codes written in the tail. */
export const VIRTIO_IOMMU_S_OK = 0;
export const VIRTIO_IOMMU_S_IOERR = 1;
export const VIRTIO_IOMMU_S_UNSUPP = 2;
export const VIRTIO_IOMMU_S_DEVERR = 3;
export const VIRTIO_IOMMU_S_INVAL = 4;
export const VIRTIO_IOMMU_S_RANGE = 5;
export const VIRTIO_IOMMU_S_NOENT = 6;
export const VIRTIO_IOMMU_S_FAULT = 7;
export const VIRTIO_IOMMU_S_NOMEM = 8;

/** Status names by value, for stats lines and messages. */
export const VIRTIO_IOMMU_STATUS_NAMES: readonly string[] = [
  "OK",
  "IOERR",
  "UNSUPP",
  "DEVERR",
  "INVAL",
  "RANGE",
  "NOENT",
  "FAULT",
  "NOMEM",
];

/** Request type names by value (index 0 unused). */
export const VIRTIO_IOMMU_TYPE_NAMES: readonly string[] = ["?", "attach", "detach", "map", "unmap", "probe"];

/** `VIRTIO_IOMMU_ATTACH_F_BYPASS` */
export const VIRTIO_IOMMU_ATTACH_F_BYPASS = 1 << 0;

/** `VIRTIO_IOMMU_MAP_F_*` */
export const VIRTIO_IOMMU_MAP_F_READ = 1 << 0;
export const VIRTIO_IOMMU_MAP_F_WRITE = 1 << 1;
export const VIRTIO_IOMMU_MAP_F_MMIO = 1 << 2;
export const VIRTIO_IOMMU_MAP_F_MASK = 0x7;

/** `VIRTIO_IOMMU_PROBE_T_*` and `VIRTIO_IOMMU_PROBE_T_MASK`. */
export const VIRTIO_IOMMU_PROBE_T_NONE = 0;
export const VIRTIO_IOMMU_PROBE_T_RESV_MEM = 1;
export const VIRTIO_IOMMU_PROBE_T_MASK = 0xfff;

/** `VIRTIO_IOMMU_RESV_MEM_T_*` */
export const VIRTIO_IOMMU_RESV_MEM_T_RESERVED = 0;
export const VIRTIO_IOMMU_RESV_MEM_T_MSI = 1;

/** `sizeof(struct virtio_iommu_req_head)` and `..._tail`. */
export const VIRTIO_IOMMU_HEAD_SIZE = 4;
export const VIRTIO_IOMMU_TAIL_SIZE = 4;

/**
 * Byte offsets of every request struct (`struct virtio_iommu_req_*`): `size` is the whole
 * struct, `tail` where the device-writable tail starts.
 */
export const VIRTIO_IOMMU_REQ_LAYOUT = {
  /** `struct virtio_iommu_req_attach` */
  attach: { domain: 4, endpoint: 8, flags: 12, reserved: 16, tail: 20, size: 24 },
  /** `struct virtio_iommu_req_detach` */
  detach: { domain: 4, endpoint: 8, reserved: 12, tail: 20, size: 24 },
  /** `struct virtio_iommu_req_map` */
  map: { domain: 4, virtStart: 8, virtEnd: 16, physStart: 24, flags: 32, tail: 36, size: 40 },
  /** `struct virtio_iommu_req_unmap` */
  unmap: { domain: 4, virtStart: 8, virtEnd: 16, reserved: 24, tail: 28, size: 32 },
  /** `struct virtio_iommu_req_probe`: the properties (probe_size bytes) then the tail follow. */
  probe: { endpoint: 4, reserved: 8, properties: 72 },
} as const;

/** `struct virtio_iommu_probe_resv_mem`: 24 bytes, property `length` 20. */
export const VIRTIO_IOMMU_RESV_MEM_LAYOUT = { subtype: 4, start: 8, end: 16, size: 24 } as const;

/** `struct virtio_iommu_config` offsets (40 bytes). */
export const VIRTIO_IOMMU_CONFIG_LAYOUT = {
  pageSizeMask: 0x00,
  inputRangeStart: 0x08,
  inputRangeEnd: 0x10,
  domainRangeStart: 0x18,
  domainRangeEnd: 0x1c,
  probeSize: 0x20,
  bypass: 0x24,
  size: 0x28,
} as const;

const EIO = -5;

/**
 * `viommu_get_req_errno()`: a tail status as the guest driver's errno (0, -ENOSYS, -EINVAL,
 * -ERANGE, -ENOENT, -EFAULT, -ENOMEM; IOERR, DEVERR and unknown values are -EIO).
 */
export function viommuGetReqErrno(status: number): number {
  switch (status) {
    case VIRTIO_IOMMU_S_OK:
      return 0;
    case VIRTIO_IOMMU_S_UNSUPP:
      return -38;
    case VIRTIO_IOMMU_S_INVAL:
      return -22;
    case VIRTIO_IOMMU_S_RANGE:
      return -34;
    case VIRTIO_IOMMU_S_NOENT:
      return -2;
    case VIRTIO_IOMMU_S_FAULT:
      return -14;
    case VIRTIO_IOMMU_S_NOMEM:
      return -12;
    default:
      return EIO;
  }
}
