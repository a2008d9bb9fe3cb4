/**
 * drivers/iommu/mtk_iommu_v1.c (6.16–6.19): the MediaTek M4U generation-one driver's paging
 * side as an executable model — the M4U instance (`struct mtk_iommu_v1_data`, an
 * IommuDriver), its domain (`struct mtk_iommu_v1_domain`) and the `iommu_domain_ops`.
 *
 * The table is the hardware's: one flat 4 MiB array of 2^20 u32 descriptors, one per 4 KiB of
 * a 4 GiB IOVA space, `(u32)paddr | F_DESC_VALID | F_DESC_NONSEC`, indexed by `iova >> 12`.
 * It is allocated when the first domain is attached (`mtk_iommu_v1_domain_finalise()`), and
 * shared by the whole M4U: the hardware has one table.
 *
 * Hot paths (map/unmap/lookup) allocate nothing and use no BigInt per PTE: addresses are
 * split once into a 4 KiB frame number and an offset; descriptors are u32 words.
 */
import {
  type Addr,
  allocUncounted,
  ERRNO,
  holeSpanOutside,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  type IovaRange,
  type MemChunk,
  MmioRegs,
  offOf,
  type PageTableInspector,
  type PhysLength,
  PhysMem,
  pfnOf,
  releaseUncounted,
  type SizeOut,
  SZ_4K,
  SZ_4M,
  TableAllocator,
} from "@iommu/core";
import { MtkIommuV1Inspector } from "./inspect.js";
import { mtkV1IovaToPhysRuns } from "./runs.js";

/** `REG_MMU_PT_BASE_ADDR`: the table's physical address (32 bits). */
export const REG_MMU_PT_BASE_ADDR = 0x000;
/** `REG_MMU_CTRL_REG` */
export const REG_MMU_CTRL_REG = 0x210;
/** `REG_MMU_IVRP_PADDR`: the protect buffer the hardware writes on a translation fault. */
export const REG_MMU_IVRP_PADDR = 0x214;
/** `REG_MMU_INT_CONTROL` */
export const REG_MMU_INT_CONTROL = 0x220;
/** `REG_MMU_INVALIDATE` */
export const REG_MMU_INVALIDATE = 0x5c0;
/** `REG_MMU_INVLD_START_A` */
export const REG_MMU_INVLD_START_A = 0x5c4;
/** `REG_MMU_INVLD_END_A` */
export const REG_MMU_INVLD_END_A = 0x5c8;
/** `REG_MMU_INV_SEL` */
export const REG_MMU_INV_SEL = 0x5d8;
/** `REG_MMU_DCM` */
export const REG_MMU_DCM = 0x5f0;
/** `REG_MMU_CPE_DONE`: range-invalidation completion status. */
export const REG_MMU_CPE_DONE = 0x60c;
/** `F_ALL_INVLD` */
export const F_ALL_INVLD = 0x2;
/** `F_MMU_INV_RANGE` */
export const F_MMU_INV_RANGE = 0x1;
/** `F_INVLD_EN0 | F_INVLD_EN1` */
export const F_INVLD_EN = 0x3;
/** `F_MMU_FAULT_VA_MSK` */
export const F_MMU_FAULT_VA_MSK = 0xffff_f000;
/** `F_DESC_VALID`: bit 1 of a descriptor. */
export const F_DESC_VALID = 0x2;
/** `F_DESC_NONSEC`: bit 3 of a descriptor. */
export const F_DESC_NONSEC = 0x8;
/** `MT2701_IOMMU_PAGE_SIZE` */
export const MT2701_IOMMU_PAGE_SIZE = SZ_4K;
/** `M2701_IOMMU_PGT_SIZE`: 4 MiB, 2^20 descriptors. */
export const M2701_IOMMU_PGT_SIZE = SZ_4M;
/** `M2701_IOMMU_PGT_SIZE / 4`: descriptors in the table (2^20). */
export const MTK_V1_ENTRIES = M2701_IOMMU_PGT_SIZE / 4;

const EINVAL = -ERRNO.EINVAL;
const EEXIST = -ERRNO.EEXIST;
const ENOMEM = -ERRNO.ENOMEM;
const EFAULT = -ERRNO.EFAULT;
const ENODEV = -ERRNO.ENODEV;
const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;
const TWO32 = 2 ** 32;

/**
 * `mtk_iommu_v1.c` behaviours a strict domain reports instead of reproducing (README
 * "Known kernel quirks"); each counts in {@link MtkIommuV1Domain.quirks} in the default mode.
 */
export type MtkIommuV1Quirk =
  /** `map_pages` writes `pgcount` 4 KiB descriptors whatever `pgsize` is. */
  | "map-ignores-pgsize"
  /** `unmap_pages` zeroes `pgcount` descriptors and returns `pgcount × 4 KiB`, mapped or not, whatever `pgsize` is. */
  | "unmap-blind"
  /** `(u32)paddr`: physical addresses above 4 GiB lose their high bits. */
  | "pa-truncated"
  /** The low 12 bits of `paddr` are ORed into the descriptor unmasked (an unaligned PA sets flag bits). */
  | "pa-low-bits"
  /**
   * No aperture and no bounds check: `iova >> 12` indexes the 4 MiB table unchecked, so an IOVA
   * ≥ 4 GiB or a run past the last descriptor would touch memory beyond the table. The model
   * cannot reproduce that corruption: it refuses the call (map -EFAULT, unmap 0; counted). A
   * lookup there is unmapped (uncounted: the length op's hole above the table).
   */
  | "out-of-table";

/** `mtk_iommu_v1.c` quirks: every {@link MtkIommuV1Quirk}, in README order. */
export const MTK_IOMMU_V1_QUIRKS: readonly MtkIommuV1Quirk[] = [
  "map-ignores-pgsize",
  "unmap-blind",
  "pa-truncated",
  "pa-low-bits",
  "out-of-table",
];

function freshQuirks(): Record<MtkIommuV1Quirk, number> {
  return {
    "map-ignores-pgsize": 0,
    "unmap-blind": 0,
    "pa-truncated": 0,
    "pa-low-bits": 0,
    "out-of-table": 0,
  };
}

/** `struct mtk_iommu_v1_domain`: `pgt_va`/`pgt_pa` (-1 until the first attach finalises it). */
export interface MtkIommuV1Domain extends IommuDomain {
  /** `dom->data`: the M4U (the model links it at allocation; the kernel at finalise). */
  readonly m4u: MtkIommuV1;
  /** Page-table memory. */
  readonly allocator: TableAllocator;
  /** `dom->pgt_pa`: physical address of the 4 MiB table, -1 before finalise. */
  pgtPa: number;
  /** Memory holding the table (model-only cache). */
  pgtChunk: MemChunk | undefined;
  /** Model-only: report kernel quirks (typed errno / corrected value) instead of reproducing them. */
  strict: boolean;
  /** Model-only: how often each kernel quirk happened (default mode). */
  readonly quirks: Record<MtkIommuV1Quirk, number>;
  /** Model-only: set once `free` ran. */
  freed: boolean;
}

/** Model-only: an observer of the M4U's register accesses (`write` false for a read). */
export type MtkIommuV1MmioTap = (write: boolean, offset: number, value: number) => void;

/** `struct mtk_iommu_v1_data` hardware description. */
export interface MtkIommuV1Options {
  /** Page-table memory (default: a fresh arena at 0x80000000). */
  readonly allocator?: TableAllocator;
  /** `data->protect_base`: the fault buffer address written to REG_MMU_IVRP_PADDR (default 0). */
  readonly protectBase?: number;
  /** Every domain starts strict (see {@link MtkIommuV1Quirk}). */
  readonly strict?: boolean;
  /** Driver instance name (`dev_name()` of the M4U). */
  readonly name?: string;
}

/**
 * `struct mtk_iommu_v1_data`: one M4U and its `iommu_ops`. The register file is a fake that
 * completes every invalidation at once (CPE_DONE reads 1); accesses are counted.
 */
export class MtkIommuV1 implements IommuDriver<MtkIommuV1Domain> {
  readonly name: string;
  readonly pgsizeBitmap = MT2701_IOMMU_PAGE_SIZE;
  /** `data->m4u_dom`: the domain that owns the hardware table (the first one attached). */
  m4uDom: MtkIommuV1Domain | null = null;
  /** MMIO accesses since creation or the last {@link resetMmio}. */
  mmioReads = 0;
  mmioWrites = 0;
  /** `mtk_iommu_v1_ops.default_domain_ops` */
  readonly ops: IommuDomainOps<MtkIommuV1Domain>;
  /**
   * Model-only: sees every MMIO access (`write` false for a read) as the M4U takes it, e.g. an
   * IOTLB feed (`mtkIommuV1IotlbFeed`); null (the default) costs one test per access.
   */
  mmioTap: MtkIommuV1MmioTap | null = null;
  private readonly regs = new MmioRegs(0x1000);
  private readonly allocator: TableAllocator;
  private readonly strictDefault: boolean;

  constructor(options: MtkIommuV1Options = {}) {
    this.name = options.name ?? "mtk-iommu-v1";
    this.allocator = options.allocator ?? new TableAllocator(new PhysMem());
    this.strictDefault = options.strict ?? false;
    this.ops = createMtkIommuV1Ops(this.name);
    // mtk_iommu_v1_hw_init(): control, interrupts, protect buffer, DCM.
    this.writel(0x100 | (2 << 5), REG_MMU_CTRL_REG);
    this.writel(0xff, REG_MMU_INT_CONTROL);
    this.writel(options.protectBase ?? 0, REG_MMU_IVRP_PADDR);
    this.writel(0x2, REG_MMU_DCM);
  }

  /** No `capable` op: the core answers false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `mtk_iommu_v1_domain_alloc_paging()`: only the domain structure (the table comes at the
   * first attach). The core fills in pgsize_bitmap (4 KiB); the geometry stays 0/0.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): MtkIommuV1Domain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.allocator;
    const counters = options.counters ?? new IommuCounters();
    return {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: MT2701_IOMMU_PAGE_SIZE,
      geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
      counters,
      m4u: this,
      allocator,
      pgtPa: -1,
      pgtChunk: undefined,
      strict: this.strictDefault,
      quirks: freshQuirks(),
      freed: false,
    };
  }

  /**
   * `mtk_iommu_v1_attach_device()`: the first domain attached becomes `m4u_dom` and gets the
   * table (`mtk_iommu_v1_domain_finalise()`: 4 MiB, zeroed; -ENOMEM; its address written to
   * REG_MMU_PT_BASE_ADDR). Later domains attach as a no-op (they never get a table).
   */
  attach(d: MtkIommuV1Domain): number {
    if (this.m4uDom) return 0;
    const pa = allocUncounted(d.allocator, M2701_IOMMU_PGT_SIZE);
    if (pa < 0) return ENOMEM;
    d.counters.tablesAllocated++;
    this.m4uDom = d;
    d.pgtPa = pa;
    d.pgtChunk = d.allocator.mem.chunk(pa);
    this.writel(pa % TWO32, REG_MMU_PT_BASE_ADDR);
    return 0;
  }

  /** The last value written to a register (0 if never written). */
  readReg(offset: number): number {
    return this.regs.read(offset);
  }

  /** Zero the MMIO access counters. */
  resetMmio(): void {
    this.mmioReads = 0;
    this.mmioWrites = 0;
  }

  /** `writel_relaxed()` */
  writel(value: number, offset: number): void {
    this.mmioWrites++;
    this.regs.write(offset, value);
    if (this.mmioTap) this.mmioTap(true, offset, value >>> 0);
  }

  /** `readl_relaxed()`: CPE_DONE reads 1 (the fake completes at once). */
  readl(offset: number): number {
    this.mmioReads++;
    const value = offset === REG_MMU_CPE_DONE ? 1 : this.regs.read(offset);
    if (this.mmioTap) this.mmioTap(false, offset, value);
    return value;
  }

  /**
   * `mtk_iommu_v1_tlb_flush_range()`: select both invalidation engines, program
   * [iova, iova + size − 1] (4 KiB granular), start, poll CPE_DONE, clear it.
   */
  flushRange(iova32: number, size: number): void {
    this.writel(F_INVLD_EN, REG_MMU_INV_SEL);
    this.writel((iova32 & F_MMU_FAULT_VA_MSK) >>> 0, REG_MMU_INVLD_START_A);
    this.writel((((iova32 + size - 1) % TWO32) & F_MMU_FAULT_VA_MSK) >>> 0, REG_MMU_INVLD_END_A);
    this.writel(F_MMU_INV_RANGE, REG_MMU_INVALIDATE);
    if (this.readl(REG_MMU_CPE_DONE) === 0) {
      // Timed out: mtk_iommu_v1_tlb_flush_all().
      this.writel(F_INVLD_EN, REG_MMU_INV_SEL);
      this.writel(F_ALL_INVLD, REG_MMU_INVALIDATE);
    }
    this.writel(0, REG_MMU_CPE_DONE);
  }
}

/** `mtk_iommu_v1_map()`'s descriptor: `pabase | F_DESC_VALID | F_DESC_NONSEC` (a u32). */
export function mtkV1MkDesc(pabase32: number): number {
  return (pabase32 | F_DESC_VALID | F_DESC_NONSEC) >>> 0;
}

/** `iova >> 12` … `+ pgcount`: true when those descriptors lie inside the table (model guard, see "out-of-table"). */
export function mtkV1InTable(iova: Addr, pgcount: number): boolean {
  const ipfn = pfnOf(iova);
  return ipfn < MTK_V1_ENTRIES && ipfn + pgcount <= MTK_V1_ENTRIES;
}

function words(d: MtkIommuV1Domain): Uint32Array {
  return d.pgtChunk!.words;
}

function base(d: MtkIommuV1Domain): number {
  return (d.pgtPa - d.pgtChunk!.pa) / 4;
}

function mtkMapPages(
  d: MtkIommuV1Domain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  _prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  if (!d.pgtChunk) return ENODEV;
  if (!mtkV1InTable(iova, pgcount)) {
    d.quirks["out-of-table"]++;
    return d.strict ? EINVAL : EFAULT;
  }
  const ppfn = pfnOf(paddr);
  const poff = offOf(paddr);
  if (d.strict) {
    if (pgsize !== SZ_4K || offOf(iova) !== 0 || poff !== 0) return EINVAL;
    if (ppfn + pgcount > 2 ** 20) return EINVAL;
  } else {
    if (pgsize !== SZ_4K) d.quirks["map-ignores-pgsize"]++;
    if (ppfn + pgcount > 2 ** 20) d.quirks["pa-truncated"]++;
    if (poff !== 0) d.quirks["pa-low-bits"]++;
  }
  const w = words(d);
  const b = base(d);
  const ipfn = pfnOf(iova);
  // u32 pabase = (u32)paddr, then += 4 KiB per descriptor (wrapping at 4 GiB).
  let pabase = ((ppfn % 2 ** 20) * SZ_4K + poff) >>> 0;
  let i = 0;
  for (; i < pgcount; i++) {
    d.counters.pteReads++;
    if (w[b + ipfn + i] !== 0) break;
    w[b + ipfn + i] = mtkV1MkDesc(pabase);
    d.counters.pteWrites++;
    pabase = (pabase + SZ_4K) >>> 0;
  }
  mapped.value += i * SZ_4K;
  d.m4u.flushRange((ipfn * SZ_4K) >>> 0, i * SZ_4K);
  d.counters.flushRange++;
  return i === pgcount ? 0 : EEXIST;
}

function mtkUnmapPages(
  d: MtkIommuV1Domain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  _gather: IotlbGather | null,
): number {
  if (!d.pgtChunk) return 0;
  if (!mtkV1InTable(iova, pgcount)) {
    d.quirks["out-of-table"]++;
    return 0;
  }
  const w = words(d);
  const b = base(d);
  const ipfn = pfnOf(iova);
  if (d.strict) {
    if (pgsize !== SZ_4K || offOf(iova) !== 0) return 0;
    let i = 0;
    for (; i < pgcount; i++) {
      d.counters.pteReads++;
      if (!(w[b + ipfn + i]! & F_DESC_VALID)) break;
      w[b + ipfn + i] = 0;
      d.counters.pteWrites++;
    }
    if (i) {
      d.m4u.flushRange((ipfn * SZ_4K) >>> 0, i * SZ_4K);
      d.counters.flushRange++;
    }
    return i * SZ_4K;
  }
  if (pgsize !== SZ_4K) d.quirks["unmap-blind"]++;
  for (let i = 0; i < pgcount; i++) {
    if (w[b + ipfn + i] === 0) d.quirks["unmap-blind"]++;
    w[b + ipfn + i] = 0;
  }
  d.counters.pteWrites += pgcount;
  d.m4u.flushRange((ipfn * SZ_4K) >>> 0, pgcount * SZ_4K);
  d.counters.flushRange++;
  return pgcount * SZ_4K;
}

/** Model-only: the IOVAs the descriptor table reaches, `[0, MTK_V1_ENTRIES · 4 KiB − 1]`. */
const TABLE_RANGES: readonly IovaRange[] = [[0n, BigInt(MTK_V1_ENTRIES) * 4096n - 1n]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it) for mtk_iommu_v1: a descriptor with F_DESC_VALID →
 * its page address + the page offset, length 4 KiB; anything else → unmapped, 4 KiB (the
 * pre-series `mtk_iommu_v1_iova_to_phys()` answered `entry & ~0xfff`: no offset, no VALID
 * test). An IOVA beyond the table (≥ 4 GiB) → unmapped, the largest naturally aligned block
 * around it above the table.
 */
function mtkIovaToPhysLength(d: MtkIommuV1Domain, iova: Addr, out: PhysLength): void {
  if (!d.pgtChunk) {
    out.setUnmapped(SZ_4K);
    return;
  }
  if (!mtkV1InTable(iova, 1)) {
    out.setUnmapped(holeSpanOutside(iova, TABLE_RANGES));
    return;
  }
  d.counters.pteReads++;
  const e = words(d)[base(d) + pfnOf(iova)]!;
  if (e & F_DESC_VALID) out.setMapped(e >>> 12, offOf(iova), SZ_4K);
  else out.setUnmapped(SZ_4K);
}

/** `mtk_iommu_v1_domain_free()`: the table goes back (dma_free_coherent). */
function mtkDomainFree(d: MtkIommuV1Domain): void {
  if (d.freed) return;
  d.freed = true;
  if (d.pgtChunk) {
    releaseUncounted(d.allocator, d.pgtPa);
    d.counters.tablesFreed++;
    d.pgtChunk = undefined;
    d.pgtPa = -1;
    if (d.m4u.m4uDom === d) d.m4u.m4uDom = null;
  }
}

/** `mtk_iommu_v1_ops.default_domain_ops` of one M4U. */
export function createMtkIommuV1Ops(name = "mtk-iommu-v1"): IommuDomainOps<MtkIommuV1Domain> {
  return {
    name,
    mapPages: mtkMapPages,
    unmapPages: mtkUnmapPages,
    iovaToPhysLength: mtkIovaToPhysLength,
    iovaToPhysRuns: mtkV1IovaToPhysRuns,
    free: mtkDomainFree,
    inspect: (d): PageTableInspector | null => (d.pgtChunk ? new MtkIommuV1Inspector(d) : null),
  };
}
