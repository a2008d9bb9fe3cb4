/**
 * The one place that turns page-table inspection data (@iommu/core `PageTableInspector`) into
 * text: prot letters, the `dump` lines of every family (SCRIPT-FORMAT.md §5 for LPAE, v7s and
 * DART; SCRIPT-FORMAT-generic-pt.md for generic_pt, with `contig=` and `dump all`), generic_pt's
 * `walk` line, and `iommu dump`'s mapped-range listing — plus LPAE's `walk` line, which formats
 * what the kernel's `pgtable_walk` op recorded. Formats return data (`ops.inspect()`,
 * `iommuDomainInspector(domain)`); nothing here reads table memory or a format's internals.
 *
 * Tables whose memory is absent (a partial image) are reported, never entered: their table
 * line ends in ` missing` (a live table never has one, so the harness's lines are unchanged).
 */
import {
  type Addr,
  hex,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type PageTableInspector,
  type PteInfo,
  toBigInt,
} from "@iommu/core";

const MASK64 = (1n << 64n) - 1n;
/** LPAE `attrs`: the table descriptor with bits 47:12 cleared (SCRIPT-FORMAT.md §4, §5). */
const ADDR_47_12 = 0x0000_ffff_ffff_f000n;

const PROT_ORDER: ReadonlyArray<readonly [number, string]> = [
  [IOMMU_READ, "r"],
  [IOMMU_WRITE, "w"],
  [IOMMU_CACHE, "c"],
  [IOMMU_NOEXEC, "x"],
  [IOMMU_MMIO, "m"],
  [IOMMU_PRIV, "p"],
];

/** `IOMMU_*` prot flags as letters in SCRIPT-FORMAT.md §1 order (`rwcxmp`). */
export function protLetters(prot: number): string {
  let s = "";
  for (const [bit, ch] of PROT_ORDER) if (prot & bit) s += ch;
  return s;
}

/** The prot letters of the leaf translating `iova` (the inspector's walk), or undefined when unmapped. */
export function leafProtOf(insp: PageTableInspector, iova: Addr): string | undefined {
  const w = insp.walk(iova);
  if (w.end !== "leaf") return undefined;
  const prot = w.steps[w.steps.length - 1]!.prot;
  return prot === undefined ? undefined : protLetters(prot);
}

/** `0x` + 16 hex digits (the `raw=` of 64-bit entries). */
function hex16(v: bigint): string {
  return `0x${v.toString(16).padStart(16, "0")}`;
}

/** `0x` + 8 hex digits (the `raw=` of v7s entries). */
function hex8(v: bigint): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}

/** The entry with its address field(s) cleared: the bits of every field decoded as an address. */
function withoutAddress(e: PteInfo): bigint {
  let keep = e.raw;
  for (const f of e.fields) {
    if (typeof f.value !== "bigint") continue;
    const [hi, lo = hi] = f.bits.split(":").map(BigInt) as [bigint, bigint?];
    keep &= ~(((1n << (hi - lo! + 1n)) - 1n) << lo!);
  }
  return keep;
}

/** ` missing` for a table entry whose table is not backed by memory. */
function missing(e: PteInfo): string {
  return e.tableMissing ? " missing" : "";
}

/** Every visited entry with its `a/b/c` index path from the top table. */
function visitWithPaths(insp: PageTableInspector, f: (e: PteInfo, path: string) => void): void {
  const stack: number[] = [];
  insp.visit((e) => {
    stack.length = e.depth;
    stack.push(e.index);
    f(e, stack.join("/"));
  });
}

/**
 * Lines numbered as the harness prints them: `table#N` in print order (the top table is
 * `table#0`), `end tables=<table lines> leaves=<leaf lines>`.
 */
class DumpText {
  readonly lines: string[] = [];
  private tables = 0;
  private leaves = 0;

  table(head: string, rest: string): void {
    this.lines.push(`${head} table#${this.tables++} ${rest}`);
  }

  leaf(line: string): void {
    this.leaves++;
    this.lines.push(line);
  }

  other(line: string): void {
    this.lines.push(line);
  }

  end(): string[] {
    this.lines.push(`end tables=${this.tables} leaves=${this.leaves}`);
    return this.lines;
  }
}

/**
 * The LPAE `dump` (SCRIPT-FORMAT.md §5): levels from the start level, IOVAs within ias
 * (unsigned, also for TTBR1 tables, as the harness indexes them), `size` = the level's block size.
 */
export function lpaeDumpLines(insp: PageTableInspector): string[] {
  const g = insp.geometry();
  const out = new DumpText();
  out.table(`L${g.topLevel} pgd`, `entries=${g.topEntries}`);
  const mask = (1n << BigInt(g.iasBits)) - 1n;
  visitWithPaths(insp, (e, p) => {
    const head = `L${e.level} ${p}`;
    if (e.kind === "table")
      out.table(head, `iova=${hex(e.iova & mask)} attrs=${hex(e.raw & ~ADDR_47_12)}${missing(e)}`);
    else if (e.kind === "leaf")
      out.leaf(`${head} leaf iova=${hex(e.iova & mask)} size=${hex(e.itemSize)} raw=${hex16(e.raw)}`);
    else out.other(`${head} invalid raw=${hex16(e.raw)}`);
  });
  return out.end();
}

/**
 * The LPAE `walk` line (SCRIPT-FORMAT.md §4) from what the kernel's `pgtable_walk` op recorded
 * (`ret`, and the entry it read at each level; that op, not the inspector, is what the line
 * models — it aliases out-of-range IOVAs and walks nothing for 2^64 − 1).
 */
export function lpaeWalkLine(ret: number, ptes: readonly bigint[], startLevel: number): string {
  let line = `walk ret=${ret}`;
  for (let l = startLevel; l <= 3; l++) {
    const pte = ptes[l] ?? 0n;
    line += ` L${l}=${l < 3 && (pte & 3n) === 3n ? `table(attrs=${hex(pte & ~ADDR_47_12)})` : hex(pte)}`;
  }
  return line;
}

/**
 * The v7s `dump` (SCRIPT-FORMAT.md §5): 32-bit `raw=`, `attrs` = entry & 0x3ff, every copy of
 * a 64K large page / 16M supersection printed and marked ` cont`.
 */
export function v7sDumpLines(insp: PageTableInspector): string[] {
  const out = new DumpText();
  out.table("L1 pgd", `entries=${insp.geometry().topEntries}`);
  visitWithPaths(insp, (e, p) => {
    const head = `L${e.level} ${p}`;
    if (e.kind === "table") out.table(head, `iova=${hex(e.iova)} attrs=${hex(e.raw & 0x3ffn)}${missing(e)}`);
    else if (e.kind === "leaf") {
      const cont = e.leafSize !== undefined && e.leafSize !== e.itemSize ? " cont" : "";
      out.leaf(`${head} leaf iova=${hex(e.iova)} size=${hex(e.itemSize)} raw=${hex8(e.raw)}${cont}`);
    } else out.other(`${head} invalid raw=${hex8(e.raw)}`);
  });
  return out.end();
}

/**
 * The DART `dump` (SCRIPT-FORMAT.md §5): one `ttbr<t>` line per TTBR (the inspector's top
 * "table" is the TTBR set, one level above the top table), then each TTBR's tree; `attrs` =
 * the entry without its address field (35:12 dart1, 37:10 dart2).
 */
export function dartDumpLines(insp: PageTableInspector): string[] {
  const ptesPerTable = Number(insp.geometry().pgsizeBitmap) / 8;
  const out = new DumpText();
  visitWithPaths(insp, (e, p) => {
    if (e.depth === 0)
      out.table(`L${e.level - 1} ttbr${e.index}`, `iova=${hex(e.iova)} entries=${ptesPerTable}${missing(e)}`);
    else if (e.kind === "table")
      out.table(`L${e.level} ${p}`, `iova=${hex(e.iova)} attrs=${hex(withoutAddress(e))}${missing(e)}`);
    else if (e.kind === "leaf")
      out.leaf(`L${e.level} ${p} leaf iova=${hex(e.iova)} size=${hex(e.itemSize)} raw=${hex16(e.raw)}`);
    else out.other(`L${e.level} ${p} invalid raw=${hex16(e.raw)}`);
  });
  return out.end();
}

/**
 * The generic_pt `dump` (SCRIPT-FORMAT-generic-pt.md): generic_pt levels (L0 = the smallest
 * pages), canonical IOVAs, `attrs` = the entry without its address field, ` contig=<items>` on
 * the items of a contiguous entry. Without `all`, a contiguous entry whose items are all
 * present identical copies prints once, at its first item (`leaves=` then counts entries).
 */
export function genericPtDumpLines(insp: PageTableInspector, all: boolean): string[] {
  const g = insp.geometry();
  const out = new DumpText();
  out.table(`L${g.topLevel} pgd`, `entries=${g.topEntries}`);
  const entries: Array<{ e: PteInfo; path: string }> = [];
  visitWithPaths(insp, (e, path) => void entries.push({ e, path }));
  for (let k = 0; k < entries.length; k++) {
    const { e, path } = entries[k]!;
    const head = `L${e.level} ${path}`;
    if (e.kind === "table") {
      out.table(head, `iova=${hex(e.iova)} attrs=${hex(withoutAddress(e))}${missing(e)}`);
      continue;
    }
    if (e.kind !== "leaf") {
      out.other(`${head} invalid raw=${hex16(e.raw)}`);
      continue;
    }
    const items = (e.leafSize ?? e.itemSize) / e.itemSize;
    out.leaf(
      `${head} leaf iova=${hex(e.iova)} size=${hex(e.itemSize)} raw=${hex16(e.raw)}${items > 1 ? ` contig=${items}` : ""}`,
    );
    if (!all && items > 1 && e.contigIndex === 0 && identicalCopies(entries, k, items)) k += items - 1;
  }
  return out.end();
}

/** Whether entries k+1 .. k+items−1 are the remaining items of entry k's table, in order, and equal to it. */
function identicalCopies(entries: ReadonlyArray<{ e: PteInfo }>, k: number, items: number): boolean {
  const first = entries[k]!.e;
  for (let n = 1; n < items; n++) {
    const c = entries[k + n]?.e;
    if (c?.tableAddr !== first.tableAddr || c.index !== first.index + n || c.raw !== first.raw) return false;
  }
  return true;
}

/**
 * The generic_pt `walk` line: `walk L<l>[<index>]=table(attrs=0x..) … =leaf(raw=0x..
 * size=0x<entry size> oa=0x<exact pa>)` or `=empty(raw=0x..)` at the first non-present item;
 * `walk ret=-34` outside the table. A walk reaching a table missing from memory ends at its
 * table entry.
 */
export function genericPtWalkLine(insp: PageTableInspector, iova: Addr): string {
  const w = insp.walk(iova);
  if (w.end === "out-of-range") return "walk ret=-34";
  const parts = w.steps.map((s) => {
    const head = `L${s.level}[${s.index}]=`;
    if (s.kind === "table") return `${head}table(attrs=${hex(withoutAddress(s))})`;
    if (s.kind === "leaf")
      return `${head}leaf(raw=${hex(s.raw)} size=${hex(s.leafSize!)} oa=${hex(w.phys!)})`;
    return `${head}empty(raw=${hex(s.raw)})`;
  });
  return `walk ${parts.join(" ")}`;
}

// ---------------------------------------------------------------------------------------------
// `iommu dump`'s range listing

/** A run of leaves contiguous in IOVA and PA with the same prot. */
export interface MappedRange {
  /** First IOVA (canonical) and byte length of the run. */
  iova: bigint;
  bytes: bigint;
  /** Physical address of the first byte. */
  pa: bigint;
  /** Prot letters of the run's leaves, `?` when the format does not report them. */
  prot: string;
}

/**
 * The mapped ranges of a table from its leaves (`visit`, so holes and missing tables cost
 * nothing and nothing is counted), clipped to [from, to] (inclusive, canonical IOVAs).
 */
export function mappedRanges(insp: PageTableInspector, from: Addr = 0n, to: Addr = MASK64): MappedRange[] {
  const lo = toBigInt(from) & MASK64;
  const hi = toBigInt(to) & MASK64;
  const out: MappedRange[] = [];
  insp.visit(
    (e) => {
      if (e.kind !== "leaf" || e.phys === undefined) return;
      let iova = e.iova & MASK64;
      let pa = e.phys;
      let end = iova + BigInt(e.itemSize); // exclusive
      if (iova < lo) {
        pa += lo - iova;
        iova = lo;
      }
      if (end > hi + 1n) end = hi + 1n;
      if (end <= iova) return;
      const bytes = end - iova;
      const prot = e.prot === undefined ? "?" : protLetters(e.prot);
      const last = out[out.length - 1];
      if (last && last.iova + last.bytes === iova && last.pa + last.bytes === pa && last.prot === prot)
        last.bytes += bytes;
      else out.push({ iova, bytes, pa, prot });
    },
    { from: lo, to: hi },
  );
  return out;
}

/** `4K`, `2M`, `12K`, `1G`: the largest binary unit that divides the size, else hex. */
export function formatSize(bytes: number | bigint): string {
  const b = BigInt(bytes);
  const units: Array<[bigint, string]> = [
    [1n << 50n, "P"],
    [1n << 40n, "T"],
    [1n << 30n, "G"],
    [1n << 20n, "M"],
    [1n << 10n, "K"],
  ];
  for (const [u, s] of units) if (b >= u && b % u === 0n) return `${b / u}${s}`;
  return hex(b);
}

/** `0x<iova>..0x<iova-end> → 0x<pa>..0x<pa-end> <size> <prot>` (ends inclusive). */
export function formatRange(r: MappedRange): string {
  const last = (a: bigint): string => hex((a + r.bytes - 1n) & MASK64);
  return `${hex(r.iova)}..${last(r.iova)} → ${hex(r.pa)}..${last(r.pa)} ${formatSize(r.bytes)} ${r.prot}`;
}
