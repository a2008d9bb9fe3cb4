// drivers/iommu/amd/iommu.c (build_inv_address, build_inv_iommu_pages, build_completion_wait,
// build_inv_dte) and amd_iommu_types.h (CMD_* encodings): the command buffer as the driver
// fills it — commands encoded as the hardware reads them, counted, and the latest kept.

/** `CMD_COMPL_WAIT` */
export const CMD_COMPL_WAIT = 0x01;
/** `CMD_INV_DEV_ENTRY` */
export const CMD_INV_DEV_ENTRY = 0x02;
/** `CMD_INV_IOMMU_PAGES` */
export const CMD_INV_IOMMU_PAGES = 0x03;
/** `CMD_INV_IOMMU_PAGES_SIZE_MASK`: S, the address encodes a power-of-two range. */
export const CMD_INV_IOMMU_PAGES_SIZE_MASK = 0x01;
/** `CMD_INV_IOMMU_PAGES_PDE_MASK`: invalidate cached PDEs too. */
export const CMD_INV_IOMMU_PAGES_PDE_MASK = 0x02;
/** `CMD_INV_IOMMU_PAGES_GN_MASK`: guest (v2 / PASID) translations. */
export const CMD_INV_IOMMU_PAGES_GN_MASK = 0x04;
/** `CMD_INV_IOMMU_ALL_PAGES_ADDRESS` */
export const CMD_INV_IOMMU_ALL_PAGES_ADDRESS = 0x7fff_ffff_ffff_ffffn;

const PAGE_MASK = ~0xfffn;

/**
 * `build_inv_address(address, size)`: one page → its address, S clear; else the address with
 * every bit below the highest bit in which start and end differ set (a naturally aligned
 * power-of-two range), S set; a range whose ends differ above bit 51 → all pages.
 */
export function buildInvAddress(address: bigint, size: bigint): bigint {
  const end = address + size - 1n;
  const pages = ((address & 0xfffn) + size + 0xfffn) >> 12n;
  if (pages === 1n) return address & PAGE_MASK;
  const msbDiff = (end ^ address).toString(2).length - 1;
  let a = msbDiff > 51 ? CMD_INV_IOMMU_ALL_PAGES_ADDRESS : address | ((1n << BigInt(msbDiff)) - 1n);
  a &= BigInt.asUintN(64, PAGE_MASK);
  return a | BigInt(CMD_INV_IOMMU_PAGES_SIZE_MASK);
}

/** One decoded command (`struct iommu_cmd`, four 32-bit words). */
export interface AmdCmd {
  readonly type: number;
  readonly data: readonly [number, number, number, number];
  /** INVALIDATE_IOMMU_PAGES: domain id, PASID, address field (bits 63:12) and flags. */
  readonly domid: number;
  readonly pasid: number;
  readonly address: bigint;
  readonly s: boolean;
  readonly pde: boolean;
  readonly gn: boolean;
  /** INVALIDATE_DEVTAB_ENTRY: the device id. */
  readonly devid: number;
}

const LOG = 256;

/** The command buffer of one unit: counts by kind and the latest {@link LOG} commands. */
export class AmdCmdBuf {
  /** INVALIDATE_IOMMU_PAGES: one page (S clear), a range (S set), all pages. */
  invPage = 0;
  invRange = 0;
  invAll = 0;
  /** COMPLETION_WAIT commands (`iommu_completion_wait`). */
  completionWaits = 0;
  /** INVALIDATE_DEVTAB_ENTRY commands (`device_flush_dte`). */
  invDte = 0;
  /** Commands queued so far: a mark for {@link log}. */
  issued = 0;
  private readonly ring: AmdCmd[] = [];
  private head = 0;

  private push(c: AmdCmd): void {
    this.issued++;
    if (this.ring.length < LOG) this.ring.push(c);
    else {
      this.ring[this.head] = c;
      this.head = (this.head + 1) % LOG;
    }
  }

  /** The commands queued since `mark` (at most the last 256), oldest first. */
  log(mark = 0): AmdCmd[] {
    const all = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    const n = Math.min(all.length, this.issued - mark);
    return n <= 0 ? [] : all.slice(all.length - n);
  }

  /**
   * `build_inv_iommu_pages` + `iommu_queue_command`: returns the kind counted ("page",
   * "range" or "all").
   */
  invIommuPages(
    address: bigint,
    size: bigint,
    domid: number,
    pasid: number,
    gn: boolean,
  ): "page" | "range" | "all" {
    const inv = buildInvAddress(address, size);
    const lo = Number(inv & 0xffff_ffffn);
    const hi = Number(inv >> 32n);
    const d2 = (lo | CMD_INV_IOMMU_PAGES_PDE_MASK | (gn ? CMD_INV_IOMMU_PAGES_GN_MASK : 0)) >>> 0;
    const d0 = gn ? pasid >>> 0 : 0;
    const d1 = (domid | (CMD_INV_IOMMU_PAGES << 28)) >>> 0;
    const s = (lo & CMD_INV_IOMMU_PAGES_SIZE_MASK) !== 0;
    const field = inv & BigInt.asUintN(64, PAGE_MASK);
    const kind =
      s && field === (CMD_INV_IOMMU_ALL_PAGES_ADDRESS & BigInt.asUintN(64, PAGE_MASK))
        ? "all"
        : s
          ? "range"
          : "page";
    if (kind === "all") this.invAll++;
    else if (kind === "range") this.invRange++;
    else this.invPage++;
    this.push({
      type: CMD_INV_IOMMU_PAGES,
      data: [d0, d1, d2, hi],
      domid,
      pasid: gn ? pasid : 0,
      address: field,
      s,
      pde: true,
      gn,
      devid: 0,
    });
    return kind;
  }

  /** `build_completion_wait` + queue (`iommu_completion_wait`). */
  completionWait(): void {
    this.completionWaits++;
    this.push({
      type: CMD_COMPL_WAIT,
      data: [0, (CMD_COMPL_WAIT << 28) >>> 0, 0, 0],
      domid: 0,
      pasid: 0,
      address: 0n,
      s: false,
      pde: false,
      gn: false,
      devid: 0,
    });
  }

  /** `build_inv_dte` + queue (`iommu_flush_dte`). */
  invDevEntry(devid: number): void {
    this.invDte++;
    this.push({
      type: CMD_INV_DEV_ENTRY,
      data: [devid, (CMD_INV_DEV_ENTRY << 28) >>> 0, 0, 0],
      domid: 0,
      pasid: 0,
      address: 0n,
      s: false,
      pde: false,
      gn: false,
      devid,
    });
  }
}
