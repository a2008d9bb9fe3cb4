/**
 * drivers/iommu/io-pgtable-arm.c: the five LPAE formats' alloc functions (granule and
 * geometry choice, stage-2 concatenation, the TCR/MAIR/VTCR/TRANSTAB outputs) and their
 * `io_pgtable_init_fns`.
 */
import {
  and64,
  ffs,
  fls,
  lowBits,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  SZ_4T,
  SZ_16K,
  SZ_32M,
  SZ_64K,
  SZ_512M,
  testBit,
} from "@iommu/core";
import {
  IO_PGTABLE_CAP_CUSTOM_ALLOCATOR,
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
} from "../io-pgtable.js";
import {
  ARM_LPAE_MAX_ADDR_BITS,
  ARM_LPAE_MAX_LEVELS,
  ARM_LPAE_S2_MAX_CONCAT_PAGES,
  MAIR_ATTR_DEVICE,
  MAIR_ATTR_IDX_CACHE,
  MAIR_ATTR_IDX_DEV,
  MAIR_ATTR_IDX_INC_OCACHE,
  MAIR_ATTR_IDX_NC,
  MAIR_ATTR_INC_OWBRWA,
  MAIR_ATTR_NC,
  MAIR_ATTR_WBRWA,
  MALI_MEMATTR_IMP_DEF,
  MALI_MEMATTR_WRITE_ALLOC,
  MALI_TTBR_ADRMODE_TABLE,
  MALI_TTBR_READ_INNER,
  MALI_TTBR_SHARE_OUTER,
  TCR_PS_BY_BITS,
  TCR_RGN_NC,
  TCR_RGN_WBWA,
  TCR_SH_IS,
  TCR_SH_OS,
  TCR_TG0_4K,
  TCR_TG0_16K,
  TCR_TG0_64K,
  TCR_TG1_4K,
  TCR_TG1_16K,
  TCR_TG1_64K,
  VTCR_SL0_MASK,
} from "./constants.js";
import { ArmLpaeInspector } from "./inspect.js";
import { armLpaeMapPages } from "./map.js";
import { ArmLpaeIoPgtable } from "./pgtable.js";
import { armLpaeIovaToPhysRuns } from "./runs.js";
import { armLpaeUnmapPages } from "./unmap.js";
import { armLpaeIovaToPhysLength, armLpaePgtableWalk, armLpaeReadAndClearDirty } from "./walk.js";

/** The host's PAGE_SIZE, which the granule choice prefers (the reference harness runs on 4 KiB pages). */
const PAGE_SIZE = SZ_4K;

/**
 * `arm_lpae_restrict_pgsizes()`: pick the granule (PAGE_SIZE if offered, else the largest
 * smaller size, else the smallest larger one), keep only that granule's block sizes, and
 * clamp ias/oas to 48 bits (52 with a 64K granule).
 */
function armLpaeRestrictPgsizes(cfg: IoPgtableCfg): void {
  const bitmap = cfg.pgsizeBitmap;
  const small = lowBits(bitmap, 11);
  let granule = 0;
  if (testBit(bitmap, 12)) granule = PAGE_SIZE;
  else if (small !== 0) granule = 2 ** fls(small);
  else if (bitmap - small !== 0) granule = 2 ** ffs(bitmap - small);
  let maxAddrBits = 48;
  let pageSizes = 0;
  if (granule === SZ_4K) pageSizes = SZ_4K + SZ_2M + SZ_1G;
  else if (granule === SZ_16K) pageSizes = SZ_16K + SZ_32M;
  else if (granule === SZ_64K) {
    maxAddrBits = 52;
    pageSizes = SZ_64K + SZ_512M + (cfg.oas > 48 ? SZ_4T : 0);
  }
  cfg.pgsizeBitmap = and64(bitmap, pageSizes);
  cfg.ias = Math.min(cfg.ias, maxAddrBits);
  cfg.oas = Math.min(cfg.oas, maxAddrBits);
}

/** `arm_lpae_alloc_pgtable()`: geometry of the walk (before S2 concatenation or the Mali override). */
function allocPgtable(cfg: IoPgtableCfg, fmt: IoPgtableFmt, cookie: unknown): ArmLpaeIoPgtable | null {
  armLpaeRestrictPgsizes(cfg);
  if (and64(cfg.pgsizeBitmap, SZ_4K + SZ_16K + SZ_64K) === 0) return null;
  if (cfg.ias > ARM_LPAE_MAX_ADDR_BITS || cfg.oas > ARM_LPAE_MAX_ADDR_BITS) return null;
  const pgShift = ffs(cfg.pgsizeBitmap);
  const bpl = pgShift - 3;
  const vaBits = cfg.ias - pgShift;
  // DIV_ROUND_UP on ints: C division truncates toward zero.
  const levels = Math.trunc((vaBits + bpl - 1) / bpl);
  const startLevel = ARM_LPAE_MAX_LEVELS - levels;
  const pgdBits = vaBits - bpl * (levels - 1);
  return new ArmLpaeIoPgtable(cfg, fmt, cookie, bpl, startLevel, pgdBits);
}

/**
 * `arm_lpae_concat_mandatory()` (Arm DDI0487 R_DXBSH, R_SRKBC): stage-2 geometries where
 * the architecture requires a concatenated pgd one level down.
 */
function concatMandatory(cfg: IoPgtableCfg, d: ArmLpaeIoPgtable): boolean {
  if (d.granule === SZ_16K && d.startLevel === 0) return cfg.oas === 48 || cfg.ias === 48;
  if (d.granule === SZ_4K && d.startLevel === 0) return cfg.oas === 40 || cfg.oas === 42;
  return d.granule === SZ_16K && d.startLevel === 1 && cfg.oas === 40;
}

/**
 * Allocate the pgd (`__arm_lpae_alloc_pages(ARM_LPAE_PGD_SIZE)`, at least 64 bytes for the
 * hardware's alignment), or adopt `cfg.existingRoot`. Returns false on failure.
 */
function allocPgd(d: ArmLpaeIoPgtable, cfg: IoPgtableCfg): boolean {
  d.finishGeometry();
  const size = d.pgdSize;
  let pa: number;
  if (cfg.existingRoot !== undefined) {
    pa = cfg.existingRoot;
    const first = d.mem.chunk(pa);
    if (!first || pa % 8 !== 0 || d.mem.chunk(pa + size - 1) !== first) return false;
    d.adopted = true;
  } else {
    pa = cfg.allocator.alloc(Math.max(size, 64));
    if (pa < 0) return false;
  }
  d.pgdPa = pa;
  const c = d.mem.chunk(pa)!;
  d.pgdWords = c.words;
  d.pgdBase = ((pa - c.pa) / 4) | 0; // an int32 word index, as ArmLpaeIoPgtable.resolve returns
  let inspector: ArmLpaeInspector | undefined;
  d.ops = {
    mapPages: (iova, paddr, pgsize, pgcount, prot, _gfp, mapped) =>
      armLpaeMapPages(d, iova, paddr, pgsize, pgcount, prot, mapped),
    unmapPages: (iova, pgsize, pgcount, gather) => armLpaeUnmapPages(d, iova, pgsize, pgcount, gather),
    iovaToPhysLength: (iova, out) => armLpaeIovaToPhysLength(d, iova, out),
    iovaToPhysRuns: (runs) => armLpaeIovaToPhysRuns(d, runs),
    pgtableWalk: (iova, wd) => armLpaePgtableWalk(d, iova, wd),
    readAndClearDirty: (iova, size, flags, dirty) => armLpaeReadAndClearDirty(d, iova, size, flags, dirty),
    inspect: () => {
      inspector ??= new ArmLpaeInspector(d);
      return inspector;
    },
  };
  return true;
}

function tcrPs(oas: number): number | undefined {
  return TCR_PS_BY_BITS[oas];
}

/** `arm_64_lpae_alloc_pgtable_s1()`, shared with ARM_32_LPAE_S1: TCR, MAIR and TTBR into cfg. */
function allocS1(cfg: IoPgtableCfg, fmt: IoPgtableFmt, cookie: unknown): IoPgtable | null {
  const allowed =
    IO_PGTABLE_QUIRK_ARM_NS |
    IO_PGTABLE_QUIRK_ARM_TTBR1 |
    IO_PGTABLE_QUIRK_ARM_OUTER_WBWA |
    IO_PGTABLE_QUIRK_ARM_HD |
    IO_PGTABLE_QUIRK_NO_WARN;
  if (cfg.quirks & ~allowed) return null;
  const d = allocPgtable(cfg, fmt, cookie);
  if (!d) return null;
  let sh: number;
  let irgn: number;
  let orgn: number;
  if (cfg.coherentWalk) {
    sh = TCR_SH_IS;
    irgn = TCR_RGN_WBWA;
    orgn = TCR_RGN_WBWA;
    // Outer-WBWA only makes sense for a walker that does not snoop.
    if (cfg.quirks & IO_PGTABLE_QUIRK_ARM_OUTER_WBWA) return null;
  } else {
    sh = TCR_SH_OS;
    irgn = TCR_RGN_NC;
    orgn = cfg.quirks & IO_PGTABLE_QUIRK_ARM_OUTER_WBWA ? TCR_RGN_WBWA : TCR_RGN_NC;
  }
  const tg1 = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) !== 0;
  const tg =
    d.granule === SZ_4K
      ? tg1
        ? TCR_TG1_4K
        : TCR_TG0_4K
      : d.granule === SZ_16K
        ? tg1
          ? TCR_TG1_16K
          : TCR_TG0_16K
        : tg1
          ? TCR_TG1_64K
          : TCR_TG0_64K;
  const ips = tcrPs(cfg.oas);
  if (ips === undefined) return null;
  const mair =
    (MAIR_ATTR_NC << BigInt(MAIR_ATTR_IDX_NC * 8)) |
    (MAIR_ATTR_WBRWA << BigInt(MAIR_ATTR_IDX_CACHE * 8)) |
    (MAIR_ATTR_DEVICE << BigInt(MAIR_ATTR_IDX_DEV * 8)) |
    (MAIR_ATTR_INC_OWBRWA << BigInt(MAIR_ATTR_IDX_INC_OCACHE * 8));
  if (!allocPgd(d, cfg)) return null;
  cfg.armLpaeS1Cfg = { ttbr: BigInt(d.pgdPa), tcr: { ips, tg, sh, orgn, irgn, tsz: 64 - cfg.ias }, mair };
  return d;
}

/** `arm_64_lpae_alloc_pgtable_s2()`, shared with ARM_32_LPAE_S2: VTCR and VTTBR into cfg. */
function allocS2(cfg: IoPgtableCfg, fmt: IoPgtableFmt, cookie: unknown): IoPgtable | null {
  if (cfg.quirks & ~(IO_PGTABLE_QUIRK_ARM_S2FWB | IO_PGTABLE_QUIRK_NO_WARN)) return null;
  const d = allocPgtable(cfg, fmt, cookie);
  if (!d) return null;
  if (concatMandatory(cfg, d)) {
    // The kernel returns NULL here without freeing its data: a leak, invisible to callers.
    if (2 ** d.pgdBits > ARM_LPAE_S2_MAX_CONCAT_PAGES) {
      cfg.counters.warn("arm_64_lpae_alloc_pgtable_s2: concatenated pgd needs more than 16 pages");
      return null;
    }
    d.pgdBits += d.bitsPerLevel;
    d.startLevel++;
  }
  const sh = cfg.coherentWalk ? TCR_SH_IS : TCR_SH_OS;
  const rgn = cfg.coherentWalk ? TCR_RGN_WBWA : TCR_RGN_NC;
  let sl = d.startLevel;
  let tg: number;
  if (d.granule === SZ_4K) {
    tg = TCR_TG0_4K;
    sl++; // SL0 counts differently for the 4K granule
  } else tg = d.granule === SZ_16K ? TCR_TG0_16K : TCR_TG0_64K;
  const ps = tcrPs(cfg.oas);
  if (ps === undefined) return null;
  if (!allocPgd(d, cfg)) return null;
  cfg.armLpaeS2Cfg = {
    vttbr: BigInt(d.pgdPa),
    vtcr: { ps, tg, sh, orgn: rgn, irgn: rgn, sl: ~sl & VTCR_SL0_MASK, tsz: 64 - cfg.ias },
  };
  return d;
}

function alloc32S1(cfg: IoPgtableCfg, cookie: unknown): IoPgtable | null {
  if (cfg.ias > 32 || cfg.oas > 40) return null;
  cfg.pgsizeBitmap = and64(cfg.pgsizeBitmap, SZ_4K + SZ_2M + SZ_1G);
  return allocS1(cfg, IoPgtableFmt.ARM_32_LPAE_S1, cookie);
}

function alloc32S2(cfg: IoPgtableCfg, cookie: unknown): IoPgtable | null {
  if (cfg.ias > 40 || cfg.oas > 40) return null;
  cfg.pgsizeBitmap = and64(cfg.pgsizeBitmap, SZ_4K + SZ_2M + SZ_1G);
  return allocS2(cfg, IoPgtableFmt.ARM_32_LPAE_S2, cookie);
}

/** `arm_mali_lpae_alloc_pgtable()`: always a 4-level walk; MEMATTR and TRANSTAB into cfg. */
function allocMali(cfg: IoPgtableCfg, cookie: unknown): IoPgtable | null {
  if (cfg.quirks) return null;
  if (cfg.ias > 48 || cfg.oas > 40) return null;
  cfg.pgsizeBitmap = and64(cfg.pgsizeBitmap, SZ_4K + SZ_2M + SZ_1G);
  const d = allocPgtable(cfg, IoPgtableFmt.ARM_MALI_LPAE, cookie);
  if (!d) return null;
  // With ias ≤ 39 the level-0 index mask becomes 0: a one-entry pgd.
  if (d.startLevel > 0) {
    d.startLevel = 0;
    d.pgdBits = 0;
  }
  const memattr =
    (MALI_MEMATTR_IMP_DEF << BigInt(MAIR_ATTR_IDX_NC * 8)) |
    (MALI_MEMATTR_WRITE_ALLOC << BigInt(MAIR_ATTR_IDX_CACHE * 8)) |
    (MALI_MEMATTR_IMP_DEF << BigInt(MAIR_ATTR_IDX_DEV * 8));
  if (!allocPgd(d, cfg)) return null;
  let transtab = BigInt(d.pgdPa) | MALI_TTBR_READ_INNER | MALI_TTBR_ADRMODE_TABLE;
  if (cfg.coherentWalk) transtab |= MALI_TTBR_SHARE_OUTER;
  cfg.armMaliLpaeCfg = { transtab, memattr };
  return d;
}

/** `arm_lpae_free_pgtable()`: free every table from the pgd down (adopted image tables are left alone). */
function freePgtable(iop: IoPgtable): void {
  const d = iop as ArmLpaeIoPgtable;
  d.freePgtable(d.startLevel, d.pgdPa);
}

function initFns(alloc: (cfg: IoPgtableCfg, cookie: unknown) => IoPgtable | null): IoPgtableInitFns {
  return { caps: IO_PGTABLE_CAP_CUSTOM_ALLOCATOR, alloc, free: freePgtable };
}

/** `io_pgtable_arm_{32,64}_lpae_s{1,2}_init_fns`, `io_pgtable_arm_mali_lpae_init_fns` */
export const armLpaeInitFns = {
  arm32S1: initFns(alloc32S1),
  arm32S2: initFns(alloc32S2),
  arm64S1: initFns((cfg, cookie) => allocS1(cfg, IoPgtableFmt.ARM_64_LPAE_S1, cookie)),
  arm64S2: initFns((cfg, cookie) => allocS2(cfg, IoPgtableFmt.ARM_64_LPAE_S2, cookie)),
  mali: initFns(allocMali),
} as const satisfies Record<string, IoPgtableInitFns>;
