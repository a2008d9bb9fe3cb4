/**
 * What a page-table family (io-pgtable LPAE, v7s, DART; generic_pt) plugs into the script
 * engine. The engine owns the language (lexing, numbers, prot, echo, unknown commands, the
 * ` warn=N`/` BUG` suffixes, `map`/`unmap` through the @iommu/core emulation of
 * iommu_map/iommu_unmap); a family owns `fmt` parsing, its raw ops and its inspection lines.
 */
import type { Addr, IommuCounters, IommuDomain, PageTableInspector, PhysMem, SizeOut } from "@iommu/core";

/** Shared by every command of one script run (one "process" of the reference harness). */
export interface ScriptEnv {
  /**
   * Counters of the whole run. Every table a family creates reports into them (pass them as
   * the domain's / cfg's counters): the engine derives ` warn=N` and ` BUG` from their delta
   * over a command, and `warns_total` is `counters.warns`.
   */
  readonly counters: IommuCounters;
  /** Informational output (kernel WARN text, pr_err): goes to stderr, never compared. */
  stderr(line: string): void;
  /**
   * Settings of the harness process that outlive tables and may come before any `fmt`
   * (generic_pt's `trace on|off`), by name.
   */
  readonly session: Map<string, string>;
}

/** A live page table created by a successful `fmt`. */
export interface ScriptTable {
  /** Domain wrapping the format's ops; `map`/`unmap` run the core emulation on it. */
  readonly domain: IommuDomain;
  /**
   * `map_pages`: one raw ops call, `mapped.value` starts at 0. Returns 0 or -errno, or the whole
   * result line when a harness guard refuses the call without making it (`err unsafe`, `err oob`).
   */
  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number | string;
  /** `unmap_pages`: one raw ops call (the family decides the gather and any sync); a string as for mapPages. */
  unmapPages(iova: Addr, pgsize: number, pgcount: number): number | string;
  /** `phys`: the legacy iova_to_phys op; a string as for mapPages. */
  phys(iova: Addr): Addr | string;
  /**
   * The word of a harness guard that refused a driver call inside the last `map`/`unmap` core
   * loop (the family's ops returned -EFAULT / 0 for it), once; undefined when none did. The
   * engine then prints `err <word>` (map, nothing mapped), `err <word> mapped=… unrolled=…` or
   * `err <word> unmapped=…`.
   */
  refusal?(): string | undefined;
  /** `walk`: the whole result line without suffixes, or null for `err unsupported`. */
  walk(iova: Addr): string | null;
  /** `dump` (`dump all` → all = true): every line, the `end ...` line included. */
  dump(all: boolean): string[];
  /** `stats`: the whole line. */
  stats(): string;
  /**
   * Suffix the family adds to `unmap`/`unmap_pages` result lines before ` warn=`
   * (generic_pt's ` gather=...` under `trace on`); "" for none. Called after the command ran.
   */
  unmapSuffix?(): string;
  /** Family-specific commands on a live table (`info`, `trace`, `failalloc`...); undefined = not mine. */
  command?(name: string, args: readonly string[]): string[] | undefined;
  /**
   * Optional, for `iommu dump`'s range listing: the permissions of the leaf mapping `iova`
   * as prot letters in SCRIPT-FORMAT.md §1 order (`rwcxmp`, e.g. "rw" or "rwc"); undefined
   * when unmapped. Tables without it print `?`.
   */
  leafProt?(iova: Addr): string | undefined;
  /**
   * Optional: the table's inspector (@iommu/core's `PageTableInspector`), the data the `dump`
   * lines, `leafProt` and `iommu dump`'s range listing are formatted from (inspect-text.ts);
   * null when the table cannot be inspected.
   */
  inspector?(): PageTableInspector | null;
  /**
   * Optional, for `save-image` / `iommu script --save-image`: the memory the table lives in
   * (holding its tables only, an adopted image's included).
   */
  tableMemory?(): PhysMem;
  /** Tear down (the engine calls it before the next `fmt` succeeds, and on `free`). */
  destroy(): void;
}

/**
 * Page-table memory that already holds a table (`iommu dump --image`): the family adopts the
 * table at `root` (the io-pgtable cfg's `existingRoot`) instead of allocating a new one.
 */
export interface TableImage {
  /** Memory holding the tables, e.g. a raw image loaded with PhysMem.importRange(). */
  readonly mem: PhysMem;
  /** Physical address of the top-level table. */
  readonly root: number;
}

export type FmtResult =
  /** Argument parse error: the engine prints `err bad-args` and an empty line; the old table stays. */
  | { kind: "bad-args" }
  /** The kernel refused: print `line` (e.g. `err alloc`, with no suffix: the engine adds warn=); no table after. */
  | { kind: "refused"; line: string }
  | { kind: "ok"; line: string; table: ScriptTable };

/**
 * The reference harness a family's vectors come from. The harnesses share one language and
 * differ in a few places (vectors/drivers/README.md Sections A–C against SCRIPT-FORMAT.md).
 */
export interface ScriptHarness {
  /** For messages. */
  readonly name: string;
  /** A failed `fmt` parse (`err bad-fmt`, `err bad-args`) is followed by an empty line. */
  readonly fmtErrorEmptyLine: boolean;
  /** Errno names this harness prints beyond the common ones (`-16 (EBUSY)`); others print `E?`. */
  readonly errnoNames?: ReadonlyMap<number, string>;
  /** Engine commands this harness does not have: they print `err unknown-command line N`. */
  readonly lacks?: (command: string) => boolean;
}

export interface ScriptFamily {
  /** Format names this family accepts after `fmt`. */
  readonly formats: readonly string[];
  /**
   * The harness behind this family's vectors (default: the kernel io-pgtable/generic_pt
   * reference harness). A `fmt` naming the family switches the session to it.
   */
  readonly harness?: ScriptHarness;
  /**
   * Parse `fmt <format> args...` and build the table. Called only after the engine has
   * destroyed nothing: the family must fully parse `args` first and return bad-args without
   * side effects; on success or refusal the engine destroys the previous table *before*
   * calling `create` (see SCRIPT-FORMAT.md §3), so parse and create are split.
   */
  parseFmt(format: string, args: readonly string[]): unknown | undefined;
  create(parsed: unknown, env: ScriptEnv): FmtResult;
  /**
   * Optional (`iommu dump`): like {@link create}, but over `image.mem` with the top-level table
   * at `image.root` instead of a freshly allocated one. Families without it cannot dump images.
   */
  adopt?(parsed: unknown, env: ScriptEnv, image: TableImage): FmtResult;
  /**
   * Commands that need no table (`selftest`, `selftest-v7s`; the engine owns `bench-*`), tried for every
   * family in order; undefined = not mine. `current` is the live table (a bench may destroy
   * it: return `destroyed: true` after calling `current.destroy()`; the engine then forgets it).
   */
  command?(
    name: string,
    args: readonly string[],
    env: ScriptEnv,
    current: ScriptTable | null,
  ): { lines: string[]; destroyed?: boolean } | undefined;
}
