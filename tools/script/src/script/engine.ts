/**
 * The script engine: the kernel reference harness's command loop (SCRIPT-FORMAT.md), with the
 * page-table formats plugged in as {@link ScriptFamily}s. The engine owns everything the
 * harness owns (§9): lexing, argument checks, `echo`, `free`, unknown commands, the
 * `iommu_map()`/`iommu_unmap()` emulation (through @iommu/core), the result lines and their
 * ` warn=N`/` BUG` suffixes. Families own `fmt`, their raw ops and inspection lines.
 *
 * One {@link ScriptSession} is one harness process: `warns_total` and
 * `tables_allocated_total` count from its start.
 */
import {
  type Addr,
  hex,
  IommuCounters,
  IommuError,
  iommuDomainInspector,
  iommuMap,
  iommuUnmap,
  SizeOut,
} from "@iommu/core";
import { type Clock, performanceClock } from "../clock.js";
import { snapshotTableMemory, type TableImageFile } from "../dump/table-image.js";
import { benchCommand } from "./bench.js";
import { formatErrno } from "./errno-names.js";
import { KERNEL_HARNESS } from "./harness.js";
import { iotlbCommand, type ScriptIotlb } from "./iotlb.js";
import { LineSplitter } from "./lines.js";
import { parseCount, parseHex, parseProt, tokenize } from "./parse.js";
import type { ScriptEnv, ScriptFamily, ScriptHarness, ScriptTable } from "./target.js";

export interface ScriptOptions {
  /** Informational output (WARN text etc.), one `\n`-terminated line per call. Default: dropped. */
  stderr?: (s: string) => void;
  /** The families to offer to `fmt` (default: none; the tools pass the registry's createFamilies()). */
  families?: readonly ScriptFamily[];
  /** The timing commands' clock (default performance.now(); the CLI passes process.hrtime.bigint). */
  clock?: Clock;
}

const BAD_ARGS = "err bad-args";
const NO_FMT = "err no-fmt";

/** Marks taken before a command, to derive its ` warn=N` and ` BUG` suffixes. */
interface Mark {
  warns: number;
  bugs: number;
}

type Handler = (args: readonly string[]) => string[];

export class ScriptSession {
  readonly env: ScriptEnv;
  readonly families: readonly ScriptFamily[];
  /** Nanoseconds, for the `bench-*` commands. */
  readonly clock: Clock;
  private table: ScriptTable | null = null;
  /** The `fmt` line (name and arguments) the live table was made with. */
  private tableFmt: readonly string[] = [];
  /** The last `save-image` snapshot. */
  private saved: TableImageFile | undefined;
  /** The harness of the family the last `fmt` named (its protocol differences apply). */
  private harness: ScriptHarness = KERNEL_HARNESS;
  private lineNo = 0;
  private readonly handlers: ReadonlyMap<string, Handler>;
  /** Model-only: the IOTLB model `iotlb on` attached to the live table's domain. */
  private iotlbModel: ScriptIotlb | null = null;

  constructor(options: ScriptOptions = {}) {
    const stderr = options.stderr ?? (() => {});
    const counters = new IommuCounters();
    counters.onWarn = (msg) => stderr(`WARNING: ${msg}\n`);
    this.env = {
      counters,
      stderr: (line) => stderr(line.endsWith("\n") ? line : `${line}\n`),
      session: new Map(),
    };
    this.families = options.families ?? [];
    this.clock = options.clock ?? performanceClock;
    this.handlers = new Map<string, Handler>([
      ["echo", (a) => [a.join(" ")]],
      ["fmt", (a) => this.fmt(a)],
      ["free", () => this.free()],
      ["map", (a) => this.withTable((t) => this.map(t, a))],
      ["map_pages", (a) => this.withTable((t) => this.mapPages(t, a))],
      ["unmap", (a) => this.withTable((t) => this.unmap(t, a))],
      ["unmap_pages", (a) => this.withTable((t) => this.unmapPages(t, a))],
      ["phys", (a) => this.withTable((t) => this.phys(t, a))],
      ["walk", (a) => this.withTable((t) => this.walk(t, a))],
      ["dump", (a) => this.withTable((t) => t.dump(a[0] === "all"))],
      ["stats", () => this.withTable((t) => [t.stats()])],
      ["save-image", (a) => this.withTable((t) => this.saveImage(t, a))],
      // Model-only (issue 17): the IOTLB model on the live domain.
      ["iotlb", (a) => this.iotlbCmd(a)],
      ["access", (a) => this.withTable(() => this.access(a))],
    ]);
  }

  /** The live table, if any. */
  get current(): ScriptTable | null {
    return this.table;
  }

  /** Model-only: the IOTLB model attached to the live table's domain, if any. */
  get iotlb(): ScriptIotlb | null {
    const io = this.iotlbModel;
    return io && this.table && io.domain === this.table.domain ? io : null;
  }

  /** `iotlb on|off|show` (model-only). */
  private iotlbCmd(args: readonly string[]): string[] {
    if (args[0] === "on" && !this.table) return [NO_FMT];
    const r = iotlbCommand(args, this.table?.domain ?? null, this.iotlb);
    this.iotlbModel = r.iotlb;
    return r.lines;
  }

  /** `access IOVA read|write` (model-only): a device access through the attached IOTLB. */
  private access(args: readonly string[]): string[] {
    const io = this.iotlb;
    return io ? io.access(args) : ["err iotlb-off"];
  }

  /** Result lines, then what the IOTLB check after the operation found (nothing when off). */
  private checked(
    lines: string[],
    op: string,
    iova: Addr,
    size: Addr,
    syncing: boolean,
    unmapped = 0,
  ): string[] {
    const io = this.iotlb;
    if (!io) return lines;
    return [...lines, ...io.after(op, iova, size, syncing, unmapped)];
  }

  /** Run one input line (without its `\n`); returns the output lines (each without `\n`). */
  line(text: string): string[] {
    this.lineNo++;
    const tokens = tokenize(text);
    const name = tokens[0];
    if (name === undefined) return [];
    const args = tokens.slice(1);
    if (this.harness.lacks?.(name)) return [`err unknown-command line ${this.lineNo}`];
    const handler = this.handlers.get(name);
    if (handler) return handler(args);
    return this.extension(name, args) ?? [`err unknown-command line ${this.lineNo}`];
  }

  /**
   * The image `iommu script --save-image` writes: the last `save-image` snapshot, else the
   * live table as it is now; undefined when there is neither.
   */
  image(): TableImageFile | undefined {
    if (this.saved) return this.saved;
    return this.table ? this.snapshot(this.table) : undefined;
  }

  /** The live table's memory as an image file; undefined when its family cannot give it. */
  private snapshot(t: ScriptTable): TableImageFile | undefined {
    const mem = t.tableMemory?.();
    const insp = t.inspector?.() ?? iommuDomainInspector(t.domain);
    if (!mem || !insp) return undefined;
    const { base, bytes } = snapshotTableMemory(mem);
    return {
      format: this.tableFmt[0]!,
      fmtArgs: this.tableFmt.slice(1),
      root: insp.geometry().root,
      base,
      bytes,
    };
  }

  /** `save-image`: remember the table memory now (model extension; written by the CLI). */
  private saveImage(t: ScriptTable, args: readonly string[]): string[] {
    if (args.length > 0) return [BAD_ARGS];
    const img = this.snapshot(t);
    if (!img) return ["err unsupported"];
    this.saved = img;
    return [`ok image root=${hex(img.root)} base=${hex(img.base)} bytes=${hex(img.bytes.length)}`];
  }

  /** End of the run: release the live table. */
  close(): void {
    this.table?.destroy();
    this.table = null;
  }

  /** Bench and family commands, in that order; undefined when nobody knows `name`. */
  private extension(name: string, args: readonly string[]): string[] | undefined {
    const bench = benchCommand(name, args, this);
    if (bench) {
      if (bench.destroyed) this.table = null;
      return bench.lines;
    }
    const own = this.table?.command?.(name, args);
    if (own) return own;
    for (const family of this.families) {
      const r = family.command?.(name, args, this.env, this.table);
      if (r) {
        if (r.destroyed) this.table = null;
        return r.lines;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------
  // suffix accounting

  /** Snapshot the WARN/BUG counters before a command. */
  mark(): Mark {
    const c = this.countersNow();
    return { warns: c.warns, bugs: c.bugs };
  }

  /** ` warn=N` (when N > 0) then ` BUG` (when the core found no page size) since `m`. */
  suffix(m: Mark, bug = false): string {
    const c = this.countersNow();
    const warns = c.warns - m.warns;
    return `${warns > 0 ? ` warn=${warns}` : ""}${bug || c.bugs > m.bugs ? " BUG" : ""}`;
  }

  /** The run's counters, plus the live domain's if a family (against the contract) keeps its own. */
  private countersNow(): Mark {
    const env = this.env.counters;
    const dom = this.table?.domain.counters;
    if (!dom || dom === env) return env;
    return { warns: env.warns + dom.warns, bugs: env.bugs + dom.bugs };
  }

  // ---------------------------------------------------------------------------------------
  // table lifecycle

  /** Replace the live table (bench-1g builds its own); the old one is destroyed. */
  replaceTable(table: ScriptTable | null): void {
    if (this.table && this.table !== table) this.table.destroy();
    this.table = table;
  }

  private withTable(fn: (t: ScriptTable) => string[]): string[] {
    return this.table ? fn(this.table) : [NO_FMT];
  }

  /** SCRIPT-FORMAT.md §3: parse fully, then destroy the old table, then create. */
  private fmt(args: readonly string[]): string[] {
    const format = args[0];
    const family = format === undefined ? undefined : this.families.find((f) => f.formats.includes(format));
    if (family) this.harness = family.harness ?? KERNEL_HARNESS;
    // The kernel harness's message already ends in a newline and the result newline follows:
    // an empty line. The driver harness prints the message alone.
    const parseError = (line: string): string[] => (this.harness.fmtErrorEmptyLine ? [line, ""] : [line]);
    if (format === undefined || !family) return parseError("err bad-fmt");
    const parsed = family.parseFmt(format, args.slice(1));
    if (parsed === undefined) return parseError(BAD_ARGS);
    this.replaceTable(null);
    const m = this.mark();
    const r = family.create(parsed, this.env);
    if (r.kind === "bad-args") return parseError(BAD_ARGS);
    if (r.kind === "refused") return [r.line + this.suffix(m)];
    this.table = r.table;
    this.tableFmt = args;
    return [r.line + this.suffix(m)];
  }

  private free(): string[] {
    this.replaceTable(null);
    return ["ok freed"];
  }

  // ---------------------------------------------------------------------------------------
  // mapping commands (§4)

  /** `map iova paddr size prot` through the core's iommu_map() (§6). */
  private map(t: ScriptTable, args: readonly string[]): string[] {
    if (args.length !== 4) return [BAD_ARGS];
    const iova = parseHex(args[0]!);
    const paddr = parseHex(args[1]!);
    const size = parseHex(args[2]!);
    const prot = parseProt(args[3]!);
    if (iova === undefined || paddr === undefined || size === undefined || prot === undefined)
      return [BAD_ARGS];
    return this.checked(this.mapLine(t, iova, paddr, size, prot), "map", iova, size, true);
  }

  private mapLine(t: ScriptTable, iova: Addr, paddr: Addr, size: Addr, prot: number): string[] {
    const m = this.mark();
    try {
      iommuMap(t.domain, iova, paddr, size, prot);
      return [`ok mapped=${hex(size)}${this.suffix(m)}`];
    } catch (e) {
      if (!(e instanceof IommuError)) throw e;
      const word = t.refusal?.();
      if (word !== undefined)
        return [
          e.mapped === 0 ? `err ${word}` : `err ${word} mapped=${hex(e.mapped)} unrolled=${hex(e.unrolled)}`,
        ];
      return [
        `err ${this.errno(e.errno)} mapped=${hex(e.mapped)} unrolled=${hex(e.unrolled)}${this.suffix(m, e.bug)}`,
      ];
    }
  }

  /** `map_pages iova paddr pgsize pgcount prot`: one raw ops call. */
  private mapPages(t: ScriptTable, args: readonly string[]): string[] {
    if (args.length !== 5) return [BAD_ARGS];
    const iova = parseHex(args[0]!);
    const paddr = parseHex(args[1]!);
    const pgsize = parseHex(args[2]!);
    const pgcount = parseCount(args[3]!);
    const prot = parseProt(args[4]!);
    if (
      iova === undefined ||
      paddr === undefined ||
      pgsize === undefined ||
      pgcount === undefined ||
      prot === undefined
    )
      return [BAD_ARGS];
    const m = this.mark();
    const mapped = new SizeOut();
    const ret = t.mapPages(iova, paddr, Number(pgsize), pgcount, prot, mapped);
    if (typeof ret === "string") return [ret + this.suffix(m)];
    const head = ret === 0 ? "ok" : `err ${this.errno(ret)}`;
    // A raw ops call is no sync point: the check marks what changed, reports nothing yet.
    return this.checked(
      [`${head} mapped=${hex(mapped.value)}${this.suffix(m)}`],
      "map_pages",
      iova,
      mapped.value,
      false,
    );
  }

  /** `unmap iova size` through the core's iommu_unmap() (§6). */
  private unmap(t: ScriptTable, args: readonly string[]): string[] {
    if (args.length !== 2) return [BAD_ARGS];
    const iova = parseHex(args[0]!);
    const size = parseHex(args[1]!);
    if (iova === undefined || size === undefined) return [BAD_ARGS];
    const m = this.mark();
    const n = iommuUnmap(t.domain, iova, size);
    const word = t.refusal?.();
    const line = `unmapped=${hex(n)}${t.unmapSuffix?.() ?? ""}${this.suffix(m)}`;
    const span = n > Number(size) ? n : size;
    return this.checked([word === undefined ? line : `err ${word} ${line}`], "unmap", iova, span, true, n);
  }

  /** `unmap_pages iova pgsize pgcount`: one raw ops call; the result is a size_t. */
  private unmapPages(t: ScriptTable, args: readonly string[]): string[] {
    if (args.length !== 3) return [BAD_ARGS];
    const iova = parseHex(args[0]!);
    const pgsize = parseHex(args[1]!);
    const pgcount = parseCount(args[2]!);
    if (iova === undefined || pgsize === undefined || pgcount === undefined) return [BAD_ARGS];
    const m = this.mark();
    const n = t.unmapPages(iova, Number(pgsize), pgcount);
    if (typeof n === "string") return [n + this.suffix(m)];
    const lines = [`unmapped=${hex(n)}${t.unmapSuffix?.() ?? ""}${this.suffix(m)}`];
    return this.checked(
      lines,
      "unmap_pages",
      iova,
      n > 0 ? n : Number(pgsize) * pgcount,
      false,
      Math.max(n, 0),
    );
  }

  private phys(t: ScriptTable, args: readonly string[]): string[] {
    const iova = this.singleHex(args);
    if (iova === undefined) return [BAD_ARGS];
    const m = this.mark();
    const pa = t.phys(iova);
    if (typeof pa === "string") return [pa + this.suffix(m)];
    return [`phys=${hex(pa)}${this.suffix(m)}`];
  }

  private walk(t: ScriptTable, args: readonly string[]): string[] {
    const iova = this.singleHex(args);
    if (iova === undefined) return [BAD_ARGS];
    const m = this.mark();
    const line = t.walk(iova) ?? "err unsupported";
    return [line + this.suffix(m)];
  }

  /** `-17 (EEXIST)` with the session's harness's errno names. */
  private errno(errno: number): string {
    return formatErrno(errno, this.harness.errnoNames);
  }

  private singleHex(args: readonly string[]): Addr | undefined {
    return args.length === 1 ? parseHex(args[0]!) : undefined;
  }
}

/**
 * Run a whole script as one fresh harness process and return its standard output exactly:
 * every line `\n`-terminated.
 */
export function runScript(text: string, options: ScriptOptions = {}): string {
  const session = new ScriptSession(options);
  const out: string[] = [];
  const splitter = new LineSplitter((line) => {
    for (const l of session.line(line)) out.push(`${l}\n`);
  });
  splitter.push(new TextEncoder().encode(text));
  splitter.end();
  session.close();
  return out.join("");
}
