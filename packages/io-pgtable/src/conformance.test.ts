/**
 * The @iommu/testing conformance suite on every io-pgtable format, each as the domain a
 * driver builds from it (`createIoPgtableDomain(allocIoPgtableOps(fmt, cfg))`).
 */
import {
  IommuCounters,
  type IommuDomain,
  type IotlbGather,
  PhysMem,
  SZ_1M,
  SZ_4K,
  SZ_16K,
  SZ_16M,
  SZ_32M,
  TableAllocator,
} from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { allocIoPgtableOps } from "./alloc.js";
import {
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IommuFlushOps,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "./io-pgtable.js";
import { createIoPgtableDomain } from "./io-pgtable-domain.js";

/** A driver's TLB callbacks that invalidate nothing (the model has no TLB to invalidate). */
const NO_TLB: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
  tlbAddPage(_g: IotlbGather | null) {},
};

function factory(fmt: IoPgtableFmt, input: Partial<IoPgtableCfg>) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const cfg: IoPgtableCfg = {
      quirks: 0,
      pgsizeBitmap: 0,
      ias: 32,
      oas: 32,
      coherentWalk: true,
      tlb: NO_TLB,
      allocator,
      counters,
      ...input,
    };
    const ops = allocIoPgtableOps(fmt, cfg, null);
    if (!ops) throw new Error(`alloc_io_pgtable_ops refused ${fmt}`);
    const domain: IommuDomain = createIoPgtableDomain(ops);
    return { domain, allocator };
  };
}

/** Kernel behaviours every io-pgtable format shares. */
const TABLES_KEPT =
  "io-pgtable frees no table on leaf unmap, so the core's rollback leaves the tables the map installed";
const NO_WRITE_ONLY = "the format has no write-only permission: IOMMU_WRITE alone maps read/write";

/** ARM LPAE (io-pgtable-arm.c). */
const LPAE: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    // arm_lpae_init_pte: a table where a block goes is unmapped and freed first.
    mapOverTable: "replace",
    // __arm_lpae_unmap: an empty entry returns -ENOENT through size_t.
    unmapHole: -2,
    // "Unmap of a partial large IOPTE is not allowed": 0.
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: { allocFailureKeepsTables: TABLES_KEPT, writeImpliesRead: NO_WRITE_ONLY },
};

const lpae = (pgsizeBitmap: number, ias: number, oas: number, quirks = IO_PGTABLE_QUIRK_NO_WARN) => ({
  pgsizeBitmap,
  ias,
  oas,
  quirks,
});

describeDomainConformance(
  "ARM_64_LPAE_S1 4K 48/48",
  factory(IoPgtableFmt.ARM_64_LPAE_S1, lpae(0x40201000, 48, 48)),
  LPAE,
);
describeDomainConformance(
  "ARM_64_LPAE_S1 16K 48/48",
  factory(IoPgtableFmt.ARM_64_LPAE_S1, lpae(0x2004000, 48, 48)),
  LPAE,
);
describeDomainConformance(
  "ARM_64_LPAE_S1 64K 52/52",
  factory(IoPgtableFmt.ARM_64_LPAE_S1, lpae(0x20010000 + 2 ** 42, 52, 52)),
  LPAE,
);
describeDomainConformance(
  "ARM_64_LPAE_S2 4K 40/40 (concatenated pgd)",
  factory(IoPgtableFmt.ARM_64_LPAE_S2, lpae(0x40201000, 40, 40)),
  // The window crosses the boundary between the two concatenated level-1 tables (2^39).
  { ...LPAE, iovaWindow: { start: 2 ** 39 - 2 ** 33, size: 2 ** 34 } },
);
describeDomainConformance(
  "ARM_64_LPAE_S2 16K 40/40 (concatenated pgd)",
  factory(IoPgtableFmt.ARM_64_LPAE_S2, lpae(0x2004000, 40, 40)),
  { ...LPAE, iovaWindow: { start: 2 ** 36 - 2 ** 30, size: 2 ** 31 } },
);
describeDomainConformance(
  "ARM_32_LPAE_S1 4K 32/40",
  factory(IoPgtableFmt.ARM_32_LPAE_S1, lpae(0x40201000, 32, 40)),
  LPAE,
);
describeDomainConformance(
  "ARM_MALI_LPAE 4K 48/40",
  factory(IoPgtableFmt.ARM_MALI_LPAE, lpae(0x40201000, 48, 40, 0)),
  {
    ...LPAE,
  },
);

/** ARMv7 short descriptor (io-pgtable-arm-v7s.c). */
const V7S: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    // arm_v7s_init_pte: an L2 table where a section goes is unmapped and freed first.
    mapOverTable: "replace",
    // 64K large pages are 16 copies of a 4K entry, 16M supersections 16 copies of a 1M one.
    entrySpan: (s) => (s < SZ_1M ? SZ_4K : SZ_1M),
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: {
    allocFailureKeepsTables: TABLES_KEPT,
    writeImpliesRead: NO_WRITE_ONLY,
    tablesShareBlocks: "L2 tables are 1 KiB objects of a kmem_cache carved out of 4 KiB blocks",
  },
  // 64 MiB around the 2 GiB line: tables, sections and supersections meet.
  iovaWindow: { start: 0x8000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
};

describeDomainConformance(
  "ARM_V7S 32/32",
  factory(IoPgtableFmt.ARM_V7S, { pgsizeBitmap: 0x111_1000, ias: 32, oas: 32 }),
  V7S,
);
describeDomainConformance(
  "ARM_V7S MTK_EXT 34/35",
  factory(IoPgtableFmt.ARM_V7S, {
    pgsizeBitmap: 0x111_1000,
    ias: 34,
    oas: 35,
    quirks: IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS,
  }),
  {
    ...V7S,
    iovaWindow: { start: 2 ** 33 - 2 * SZ_16M, size: 4 * SZ_16M },
    physWindow: { start: 2 ** 34, size: 2 ** 34 },
    protMask: 0, // NO_PERMS: entries carry no permission bits
  },
);

/** Apple DART (io-pgtable-dart.c): one page size, entries cleared until the first hole. */
const DART: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "fail", // one page size: there is never a table where a leaf goes
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "leaf-walk",
  },
  known: { allocFailureKeepsTables: TABLES_KEPT },
};

describeDomainConformance(
  "APPLE_DART 16K 32/36",
  factory(IoPgtableFmt.APPLE_DART, { pgsizeBitmap: SZ_16K, ias: 32, oas: 36 }),
  // Two leaf tables' worth around a 32 MiB boundary.
  { ...DART, iovaWindow: { start: 0x4000_0000 - SZ_32M, size: 2 * SZ_32M } },
);
describeDomainConformance(
  "APPLE_DART 4K 32/36 (4 TTBRs)",
  factory(IoPgtableFmt.APPLE_DART, { pgsizeBitmap: SZ_4K, ias: 32, oas: 36 }),
  // Across the boundary between the first two TTBRs (1 GiB each).
  { ...DART, iovaWindow: { start: 0x4000_0000 - 4 * SZ_1M, size: 8 * SZ_1M } },
);
describeDomainConformance(
  "APPLE_DART2 16K 42/42",
  factory(IoPgtableFmt.APPLE_DART2, { pgsizeBitmap: SZ_16K, ias: 42, oas: 42 }),
  { ...DART, iovaWindow: { start: 2 ** 36 - SZ_32M, size: 2 * SZ_32M } },
);
