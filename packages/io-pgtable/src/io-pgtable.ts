/**
 * include/linux/io-pgtable.h: the io-pgtable framework's types — formats behind one ops
 * interface, created from a config that the format validates and narrows (pgsize_bitmap,
 * ias, oas) and fills with the register values drivers program.
 */
import type {
  Addr,
  IommuCounters,
  IommuDirtyBitmap,
  IotlbGather,
  PageTableInspector,
  PhysLength,
  PhysRunCollector,
  SizeOut,
  TableAllocator,
} from "@iommu/core";

/** `enum io_pgtable_fmt`, current kernel order. */
export const IoPgtableFmt = {
  ARM_32_LPAE_S1: 0,
  ARM_32_LPAE_S2: 1,
  ARM_64_LPAE_S1: 2,
  ARM_64_LPAE_S2: 3,
  ARM_V7S: 4,
  ARM_MALI_LPAE: 5,
  APPLE_DART: 6,
  APPLE_DART2: 7,
} as const;
/** `enum io_pgtable_fmt` */
export type IoPgtableFmt = (typeof IoPgtableFmt)[keyof typeof IoPgtableFmt];
/** `IO_PGTABLE_NUM_FMTS` */
export const IO_PGTABLE_NUM_FMTS = 8;

/** `IO_PGTABLE_QUIRK_*` */
export const IO_PGTABLE_QUIRK_ARM_NS = 1 << 0;
/** `IO_PGTABLE_QUIRK_NO_PERMS` */
export const IO_PGTABLE_QUIRK_NO_PERMS = 1 << 1;
/** `IO_PGTABLE_QUIRK_ARM_MTK_EXT` */
export const IO_PGTABLE_QUIRK_ARM_MTK_EXT = 1 << 3;
/** `IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT` */
export const IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT = 1 << 4;
/** `IO_PGTABLE_QUIRK_ARM_TTBR1` */
export const IO_PGTABLE_QUIRK_ARM_TTBR1 = 1 << 5;
/** `IO_PGTABLE_QUIRK_ARM_OUTER_WBWA` */
export const IO_PGTABLE_QUIRK_ARM_OUTER_WBWA = 1 << 6;
/** `IO_PGTABLE_QUIRK_ARM_HD` */
export const IO_PGTABLE_QUIRK_ARM_HD = 1 << 7;
/** `IO_PGTABLE_QUIRK_ARM_S2FWB` */
export const IO_PGTABLE_QUIRK_ARM_S2FWB = 1 << 8;
/** `IO_PGTABLE_QUIRK_NO_WARN` */
export const IO_PGTABLE_QUIRK_NO_WARN = 1 << 9;

/** `IO_PGTABLE_CAP_CUSTOM_ALLOCATOR` */
export const IO_PGTABLE_CAP_CUSTOM_ALLOCATOR = 1 << 0;

/** `struct iommu_flush_ops`: the TLB maintenance a format asks its driver for. */
export interface IommuFlushOps {
  tlbFlushAll(cookie: unknown): void;
  /** A table was removed: invalidate walk caches for [iova, iova + size). */
  tlbFlushWalk(iova: number, size: number, granule: number, cookie: unknown): void;
  /** One leaf was cleared (optional, as in the kernel). */
  /** The kernel passes a NULL gather from the unmap inside map and from the selftests. */
  tlbAddPage?(gather: IotlbGather | null, iova: number, granule: number, cookie: unknown): void;
}

/** `arm_lpae_s1_cfg` */
export interface ArmLpaeS1Cfg {
  ttbr: bigint;
  tcr: { ips: number; tg: number; sh: number; orgn: number; irgn: number; tsz: number };
  mair: bigint;
}
/** `arm_lpae_s2_cfg` */
export interface ArmLpaeS2Cfg {
  vttbr: bigint;
  vtcr: { ps: number; tg: number; sh: number; orgn: number; irgn: number; sl: number; tsz: number };
}
/** `arm_v7s_cfg` */
export interface ArmV7sCfg {
  ttbr: number;
  tcr: number;
  nmrr: number;
  prrr: number;
}
/** `arm_mali_lpae_cfg` */
export interface ArmMaliLpaeCfg {
  transtab: bigint;
  memattr: bigint;
}
/** `apple_dart_cfg` */
export interface AppleDartCfg {
  ttbr: number[];
  nTtbrs: number;
  nLevels: number;
}

/**
 * `struct io_pgtable_cfg`. Inputs: quirks, pgsizeBitmap, ias, oas, coherentWalk, tlb.
 * The format narrows pgsizeBitmap/ias/oas and fills its output member. `allocator` stands
 * in for the kernel's page allocator / custom alloc+free pair; `counters` receives PTE
 * reads/writes, table allocations and WARNs.
 */
export interface IoPgtableCfg {
  /** Set by allocIoPgtableOps before the format's alloc runs (formats sharing init fns, e.g. DART/DART2, read it). */
  fmt?: IoPgtableFmt;
  quirks: number;
  pgsizeBitmap: number;
  ias: number;
  oas: number;
  coherentWalk: boolean;
  tlb?: IommuFlushOps | null;
  /** Where tables are allocated. Required. */
  allocator: TableAllocator;
  /** True when the caller supplies its own allocator (the kernel's cfg->alloc/free pair). */
  customAllocator?: boolean;
  counters: IommuCounters;
  /**
   * Model extension (no kernel equivalent): adopt an existing table instead of allocating
   * a new top level. The physical address of a top-level table already present in
   * `allocator.mem` (e.g. an image loaded with `PhysMem.importRange`); the format walks and
   * edits it in place and computes its register outputs (TTBR etc.) from it. Tables of the
   * image are never released to the allocator; tables the format adds later are. Formats
   * that do not support it ignore it (ARM LPAE supports it).
   */
  existingRoot?: number;
  armLpaeS1Cfg?: ArmLpaeS1Cfg;
  armLpaeS2Cfg?: ArmLpaeS2Cfg;
  armV7sCfg?: ArmV7sCfg;
  armMaliLpaeCfg?: ArmMaliLpaeCfg;
  appleDartCfg?: AppleDartCfg;
}

/** `struct arm_lpae_io_pgtable_walk_data`: the entries seen at each level. */
export interface ArmLpaeWalkData {
  ptes: bigint[];
  level: number;
}

/**
 * `struct io_pgtable_ops` as the series leaves it: the legacy `iova_to_phys` is gone, callers
 * take the address from `iovaToPhysLength` (`ioPgtableIovaToPhys` where only the address
 * matters). Kernel conventions: 0 / -errno returns, bytes for sizes. Counting: every call that reads an entry adds to
 * `cfg.counters.pteReads`, every entry store to `pteWrites`.
 */
export interface IoPgtableOps {
  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    gfp: number,
    mapped: SizeOut,
  ): number;
  unmapPages(iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number;
  /** One walk: physical address and leaf size, or the size of the empty span (core contract). */
  iovaToPhysLength(iova: Addr, out: PhysLength): void;
  /**
   * Model-only (issue 17): report the leaves and empty entries of the collector's range in one
   * descent (each entry read once). Optional: without it the domain op steps with
   * iovaToPhysLength.
   */
  iovaToPhysRuns?(runs: PhysRunCollector): void;
  /** `pgtable_walk` (ARM LPAE): the entry seen at each level. */
  pgtableWalk?(iova: Addr, wd: ArmLpaeWalkData): number;
  /** `read_and_clear_dirty` (ARM LPAE S1 with IO_PGTABLE_QUIRK_ARM_HD). */
  readAndClearDirty?(iova: number, size: number, flags: number, dirty: IommuDirtyBitmap): number;
  /**
   * Model-only (the kernel's nearest is `pgtable_walk`): an inspector of this table — its
   * geometry, the walk of one IOVA, every entry decoded. Reads memory directly and counts
   * nothing; every format here implements it.
   */
  inspect?(): PageTableInspector;
}

/** `struct io_pgtable` */
export interface IoPgtable {
  fmt: IoPgtableFmt;
  cookie: unknown;
  cfg: IoPgtableCfg;
  ops: IoPgtableOps;
}

/** `struct io_pgtable_init_fns` */
export interface IoPgtableInitFns {
  alloc(cfg: IoPgtableCfg, cookie: unknown): IoPgtable | null;
  free(iop: IoPgtable): void;
  caps: number;
}
