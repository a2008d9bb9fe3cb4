/**
 * What the kernel harness does the same way for every io-pgtable family (LPAE, v7s, DART):
 * one `fmt` argument parser (SCRIPT-FORMAT.md §3 — the harness has a single parser, formats
 * differ only in which of `granule`/`pgsize` they accept and in their defaults), the TLB
 * callbacks with the selftest's sanity checks (§7). Prot letters and `dump` lines come from
 * the tables' inspectors (../inspect-text.ts).
 */
import { type Addr, and64, type IommuCounters, type IotlbGather } from "@iommu/core";
import {
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IommuFlushOps,
} from "@iommu/io-pgtable";
import { parseHex, parseNum } from "../parse.js";

/** Quirk names of the `quirks` key; `none` adds nothing. The kernel decides which a format accepts. */
export const QUIRK_NAMES: Readonly<Record<string, number>> = {
  ns: IO_PGTABLE_QUIRK_ARM_NS,
  noperms: IO_PGTABLE_QUIRK_NO_PERMS,
  mtk_ext: IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  mtk_ttbr_ext: IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  ttbr1: IO_PGTABLE_QUIRK_ARM_TTBR1,
  outer_wbwa: IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
  hd: IO_PGTABLE_QUIRK_ARM_HD,
  s2fwb: IO_PGTABLE_QUIRK_ARM_S2FWB,
  nowarn: IO_PGTABLE_QUIRK_NO_WARN,
  none: 0,
};

export const DEFAULT_PTBASE = 0x8000_0000;
export const PTBASE_ALIGN = 0x800_0000;
const SIZE_WORDS: Readonly<Record<string, number>> = { "4k": 0x1000, "16k": 0x4000, "64k": 0x1_0000 };

/** The io-pgtable `fmt` keys as parsed; absent keys are undefined (defaults are per format). */
export interface IoPgtableFmtArgs {
  /** `granule` / `pgsize` (synonyms where both are accepted; the last one wins), in bytes. */
  granule?: number;
  ias?: number;
  oas?: number;
  /**
   * `pgsizes`: 0 = the default. Bits above 52 never survive any format's restriction, so the
   * bitmap is carried exactly as a number without them; a bitmap of only such bits is -1
   * (non-zero, so no default, and it restricts to nothing).
   */
  pgsizes?: number;
  quirks: number;
  ptbase: number;
  coherent: boolean;
}

/** `unsigned int` fields of io_pgtable_cfg take the low 32 bits of the parsed value. */
function u32(v: Addr): number {
  return Number(BigInt.asUintN(32, BigInt(v)));
}

/**
 * Parse `fmt <format>`'s key/value list. `allow` says which of `granule`/`pgsize` the format
 * takes (the harness rejects `granule` for v7s and `pgsize` outside DART; DART's `pgsize` is
 * 4k or 16k). Returns undefined for `err bad-args`, without side effects.
 */
export function parseIoPgtableFmtArgs(
  args: readonly string[],
  allow: { granule: boolean; pgsize: boolean },
): IoPgtableFmtArgs | undefined {
  const out: IoPgtableFmtArgs = { quirks: 0, ptbase: DEFAULT_PTBASE, coherent: true };
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!;
    if (key === "noncoherent") {
      out.coherent = false;
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) return undefined;
    i++;
    switch (key) {
      case "granule":
      case "pgsize": {
        if (!allow[key]) return undefined;
        const size = SIZE_WORDS[value.toLowerCase()];
        if (size === undefined || (key === "pgsize" && size === 0x1_0000)) return undefined;
        out.granule = size;
        break;
      }
      case "ias":
      case "oas": {
        const v = parseNum(value);
        if (v === undefined) return undefined;
        out[key] = u32(v);
        break;
      }
      case "pgsizes": {
        const v = parseHex(value);
        if (v === undefined) return undefined;
        out.pgsizes = v === 0 ? 0 : Number(BigInt(v) & ((1n << 53n) - 1n)) || -1;
        break;
      }
      case "quirks":
        // A comma list; empty items (as strtok skips them) add nothing.
        for (const name of value.split(",")) {
          if (name === "") continue;
          const bit = QUIRK_NAMES[name];
          if (bit === undefined) return undefined;
          out.quirks |= bit;
        }
        break;
      case "ptbase": {
        const v = parseHex(value);
        if (v === undefined || typeof v === "bigint" || v % PTBASE_ALIGN !== 0 || v >= 2 ** 52)
          return undefined;
        out.ptbase = v;
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

/** The bitmap to hand the kernel: an explicit `pgsizes`, else the format's default. */
export function pgsizesOrDefault(parsed: IoPgtableFmtArgs, fallback: number): number {
  if (parsed.pgsizes === -1) return 0;
  return parsed.pgsizes || fallback;
}

/**
 * The harness's `iommu_flush_ops`: count every callback, and WARN (like the kernel selftest's
 * dummy ops) when a flushed size or granule is not in the page-size bitmap.
 */
export class HarnessTlb implements IommuFlushOps {
  flushAll = 0;
  flushWalk = 0;
  addPage = 0;
  /** The bitmap the format left in its cfg; set once the table exists. */
  bitmap = 0;

  constructor(private readonly counters: IommuCounters) {}

  tlbFlushAll(): void {
    this.flushAll++;
  }

  tlbFlushWalk(_iova: number, size: number): void {
    this.flushWalk++;
    this.check(size);
  }

  tlbAddPage(_gather: IotlbGather | null, _iova: number, granule: number): void {
    this.addPage++;
    this.check(granule);
  }

  /** `!(size & pgsize_bitmap)`, with a 32-bit fast path: this runs once per cleared leaf. */
  private check(size: number): void {
    if (size <= 0x7fffffff && (size & this.bitmap) !== 0) return;
    if (and64(size, this.bitmap) === 0)
      this.counters.warn(`tlb sanity check: size 0x${size.toString(16)} not in pgsize_bitmap`);
  }
}
