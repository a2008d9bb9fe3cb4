// Model-only short path over drivers/iommu/io-pgtable.c: one call from a format name and a
// granule to a paging domain, with the defaults the reference harness (and most drivers) use.
import {
  ArgCheck,
  IommuCounters,
  IommuError,
  PhysMem,
  SZ_4K,
  SZ_16K,
  SZ_64K,
  TableAllocator,
} from "@iommu/core";
import { allocIoPgtableOps } from "./alloc.js";
import { type IommuFlushOps, type IoPgtableCfg, IoPgtableFmt } from "./io-pgtable.js";

/** The format names (the same as `iommu script`'s `fmt` line). */
export const IO_PGTABLE_FORMAT_NAMES = [
  "arm64-s1",
  "arm64-s2",
  "arm32-s1",
  "arm32-s2",
  "mali",
  "v7s",
  "dart1",
  "dart2",
] as const;
export type IoPgtableFormatName = (typeof IO_PGTABLE_FORMAT_NAMES)[number];

/** A translation granule by name or in bytes. */
export type GranuleName = "4K" | "16K" | "64K" | 4096 | 16384 | 65536;

/** Options of the short path; every field has a documented default. */
export interface IoPgtableDomainOptions {
  /**
   * LPAE (arm64-*): 4K (default), 16K or 64K; the page sizes are the granule's three levels
   * (4K|2M|1G, 16K|32M, 64K|512M). DART: its single page size, 16K (default) or 4K. The
   * 32-bit LPAE formats, mali and v7s have one granule each (4K).
   */
  granule?: GranuleName;
  /** Input address bits. Default: 48 (arm64, mali), 32 (arm32-s1, v7s, DART), 40 (arm32-s2). */
  ias?: number;
  /** Output address bits. Default: 48 (arm64), 40 (arm32, mali), 32 (v7s), 36 (dart1), 42 (dart2). */
  oas?: number;
  /** IO_PGTABLE_QUIRK_* bits (default 0). */
  quirks?: number;
  /** Page sizes, overriding the granule's (a subset the format accepts). */
  pgsizeBitmap?: number;
  /** Table walks snoop the CPU caches (default true). */
  coherentWalk?: boolean;
  /** TLB callbacks (default none). */
  tlb?: IommuFlushOps | null;
  /** Where the tables live (default: a new sparse PhysMem, tables from 0x80000000). */
  memory?: PhysMem;
  /** The table allocator (default: a new one over `memory`); overrides `memory`. */
  allocator?: TableAllocator;
  /** Cost counters (default: new ones). */
  counters?: IommuCounters;
}

interface FormatSpec {
  fmt: IoPgtableFmt;
  ias: number;
  oas: number;
  /** Allowed granules and the page sizes each gives. */
  granules: Readonly<Record<number, number>>;
  defaultGranule: number;
}

const LPAE_GRANULES = { [SZ_4K]: 0x40201000, [SZ_16K]: 0x2004000, [SZ_64K]: 0x20010000 };
const FOUR_K_ONLY = { [SZ_4K]: 0x40201000 };
const SPECS: Readonly<Record<IoPgtableFormatName, FormatSpec>> = {
  "arm64-s1": {
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 48,
    oas: 48,
    granules: LPAE_GRANULES,
    defaultGranule: SZ_4K,
  },
  "arm64-s2": {
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    ias: 48,
    oas: 48,
    granules: LPAE_GRANULES,
    defaultGranule: SZ_4K,
  },
  "arm32-s1": {
    fmt: IoPgtableFmt.ARM_32_LPAE_S1,
    ias: 32,
    oas: 40,
    granules: FOUR_K_ONLY,
    defaultGranule: SZ_4K,
  },
  "arm32-s2": {
    fmt: IoPgtableFmt.ARM_32_LPAE_S2,
    ias: 40,
    oas: 40,
    granules: FOUR_K_ONLY,
    defaultGranule: SZ_4K,
  },
  mali: { fmt: IoPgtableFmt.ARM_MALI_LPAE, ias: 48, oas: 40, granules: FOUR_K_ONLY, defaultGranule: SZ_4K },
  v7s: {
    fmt: IoPgtableFmt.ARM_V7S,
    ias: 32,
    oas: 32,
    granules: { [SZ_4K]: 0x01111000 },
    defaultGranule: SZ_4K,
  },
  dart1: {
    fmt: IoPgtableFmt.APPLE_DART,
    ias: 32,
    oas: 36,
    granules: { [SZ_4K]: SZ_4K, [SZ_16K]: SZ_16K },
    defaultGranule: SZ_16K,
  },
  dart2: {
    fmt: IoPgtableFmt.APPLE_DART2,
    ias: 32,
    oas: 42,
    granules: { [SZ_4K]: SZ_4K, [SZ_16K]: SZ_16K },
    defaultGranule: SZ_16K,
  },
};

const GRANULE_BYTES: Readonly<Record<string, number>> = { "4K": SZ_4K, "16K": SZ_16K, "64K": SZ_64K };

const check: ArgCheck = new ArgCheck("createIoPgtableDomain");

/** The cfg the short path hands to alloc_io_pgtable_ops(), after checking every option. */
export function ioPgtableCfgFor(
  format: IoPgtableFormatName,
  options: IoPgtableDomainOptions = {},
): { fmt: IoPgtableFmt; cfg: IoPgtableCfg } {
  const spec = (SPECS as Partial<Record<string, FormatSpec>>)[format];
  if (!spec) check.fail("format", `one of ${IO_PGTABLE_FORMAT_NAMES.join(", ")}`, format);
  for (const f of ["ias", "oas", "quirks", "pgsizeBitmap"] as const) check.int(f, options[f], true);
  const g = options.granule;
  const granule = g === undefined ? spec.defaultGranule : typeof g === "string" ? GRANULE_BYTES[g] : g;
  const sizes = granule === undefined ? undefined : spec.granules[granule];
  if (sizes === undefined) {
    const names = Object.keys(spec.granules).map((b) => `${Number(b) / 1024}K`);
    check.fail("granule", `${format} takes ${names.join(" or ")}`, g);
  }
  check.bool("coherentWalk", options.coherentWalk, true);
  check.allocator("allocator", options.allocator, true);
  check.counters("counters", options.counters, true);
  const counters = options.counters ?? new IommuCounters();
  const allocator = options.allocator ?? new TableAllocator(options.memory ?? new PhysMem(), { counters });
  return {
    fmt: spec.fmt,
    cfg: {
      quirks: options.quirks ?? 0,
      pgsizeBitmap: options.pgsizeBitmap ?? sizes,
      ias: options.ias ?? spec.ias,
      oas: options.oas ?? spec.oas,
      coherentWalk: options.coherentWalk ?? true,
      tlb: options.tlb ?? null,
      allocator,
      counters,
    },
  };
}

/**
 * Model-only: `alloc_io_pgtable_ops()` for the named format with {@link ioPgtableCfgFor}'s
 * cfg. Throws EINVAL naming the option when an option is malformed, or the kernel's refusal
 * (the format's alloc returned NULL) with the cfg it refused.
 */
export function allocIoPgtableOpsFor(format: IoPgtableFormatName, options: IoPgtableDomainOptions = {}) {
  const { fmt, cfg } = ioPgtableCfgFor(format, options);
  const ops = allocIoPgtableOps(fmt, cfg);
  if (!ops)
    throw new IommuError(
      "EINVAL",
      "alloc_io_pgtable_ops",
      { pgsizeBitmap: cfg.pgsizeBitmap, ias: cfg.ias, oas: cfg.oas, quirks: cfg.quirks },
      `${format} refuses this configuration`,
    );
  return { ops, cfg };
}
