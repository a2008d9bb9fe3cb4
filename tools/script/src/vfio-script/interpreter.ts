/**
 * The VFIO vector script language (the vectors' README, "Script language and output"):
 * one simulated process driving the @iommu/vfio type1 container through its ioctls, with the
 * exact output lines of the reference harness.
 *
 * Page tables are not the interpreter's business: `domain attach [driver N] [ias N] [pgsizes X]`
 * asks the caller's {@link VfioScriptDrivers} for the IOMMU driver instance with that hardware
 * and attaches the group behind it; type1 then allocates the domain from that driver. The
 * registry (../registry.ts) supplies the drivers (`iommu vfio-script --domains`).
 */
import { errnoName, hex, IommuCounters, type IommuDomain, type IommuDriver, PhysLength } from "@iommu/core";
import {
  DEFAULT_DMA_ENTRY_LIMIT,
  MEM_KINDS,
  type MemKind,
  protName,
  RLIM_INFINITY,
  UNMAP_MODES,
  type UnmapMode,
  UserMemoryError,
  UserMm,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VfioCounters,
  type VfioDmaUnmap,
  VfioIommu,
} from "@iommu/vfio";
import { iotlbCommand, type ScriptIotlb } from "../script/iotlb.js";

/** The hardware behind one `domain attach`: which driver (`driver N`) and its knobs. */
export interface VfioScriptHw {
  /**
   * `driver N` (default: the group id). Instances of one driver share one ops table, so type1
   * puts groups of one driver into one domain even when their knobs differ.
   */
  readonly driver: number;
  /** `ias N` (default 48): input address bits. */
  readonly ias: number;
  /** `pgsizes X`: page sizes the unit supports (undefined = the format's default). */
  readonly pgsizes?: number;
  /** Where the driver's domains report kernel WARNs (they count towards the line's ` warn=N`). */
  readonly warn: (message: string) => void;
}

/** The IOMMU driver instances of one script run, by hardware description. */
export type VfioScriptDrivers = (hw: VfioScriptHw) => IommuDriver;

export interface VfioScriptOptions {
  /** Unmap/replay lookup strategy for every container (a `container ... unmap M` overrides). */
  unmapMode?: UnmapMode;
  /** Receives the text of each kernel WARN (informational, never part of stdout). */
  stderr?: (line: string) => void;
}

/** Errno names the harness prints; anything else is `E?`. */
const PRINTED_ERRNOS = new Set([
  "EINVAL",
  "EEXIST",
  "ENOSPC",
  "ENOMEM",
  "EFAULT",
  "ENOENT",
  "EBUSY",
  "EOVERFLOW",
  "EPERM",
  "ENODEV",
  "ESRCH",
  "EACCES",
  "ERANGE",
  "ENOTTY",
]);

export function errLine(ret: number): string {
  const name = errnoName(ret);
  return `err ${ret} (${name && PRINTED_ERRNOS.has(name) ? name : "E?"})`;
}

class BadArgs extends Error {}

/** The harness keeps this many tokens of a line and drops the rest. */
const MAX_TOKENS = 32;

const TWO64 = 1n << 64n;

/**
 * `strtoull(tok, &end, base)` with the whole token consumed, as the harness parses: an
 * optional sign (a `-` negates modulo 2^64), for hex an optional `0x`, and a value that fits
 * 64 bits. Anything else is a syntax error.
 */
function strtoull(tok: string | undefined, base: 10 | 16): bigint {
  if (tok === undefined) throw new BadArgs();
  let t = tok;
  let negative = false;
  if (t[0] === "-" || t[0] === "+") {
    negative = t[0] === "-";
    t = t.slice(1);
  }
  if (base === 16 && t.length > 2 && t[0] === "0" && (t[1] === "x" || t[1] === "X")) t = t.slice(2);
  if (!(base === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(t)) throw new BadArgs();
  const v = BigInt(base === 16 ? `0x${t}` : t);
  if (v >= TWO64) throw new BadArgs();
  return negative && v !== 0n ? TWO64 - v : v;
}

/** Hex with or without 0x (addresses and sizes). */
function parseHex(tok: string | undefined): bigint {
  return strtoull(tok, 16);
}

/** Decimal counts, ids, seeds, limits. */
function parseDec(tok: string | undefined, max = Number.MAX_SAFE_INTEGER): number {
  const v = strtoull(tok, 10);
  if (v > BigInt(max)) throw new BadArgs();
  return Number(v);
}

function parseDecBig(tok: string | undefined): bigint {
  return strtoull(tok, 10);
}

function toAddr(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Commands after which an attached IOTLB model is checked (they may change the tables). */
const CHANGES_DOMAINS = new Set(["domain", "map_dma", "unmap_dma", "release", "container"]);

/** One script run: a fresh simulated process. */
export class VfioScript {
  private readonly warns = new IommuCounters();
  private readonly mm = new UserMm({ counters: this.warns });
  private readonly calls = new VfioCounters();
  private container: VfioIommu | null = null;
  private nextGroup = 1;
  private readonly groupDriver = new Map<number, number>();
  /** Driver instances by hardware description, for the whole run (they outlive containers). */
  private readonly instances = new Map<string, IommuDriver>();
  private lineNo = 0;
  /** Model-only: the IOTLB model `iotlb on` attached to one of the container's domains. */
  private iotlb: ScriptIotlb | null = null;

  constructor(
    private readonly drivers: VfioScriptDrivers,
    private readonly opts: VfioScriptOptions = {},
  ) {
    const stderr = opts.stderr;
    if (stderr) this.warns.onWarn = (message) => stderr(`WARN: ${message}`);
  }

  /** Run a whole script; returns stdout. */
  run(text: string): string {
    const out: string[] = [];
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const line of lines) for (const l of this.line(line)) out.push(`${l}\n`);
    return out.join("");
  }

  /** Execute one input line; returns its output lines (without newlines). */
  line(raw: string): string[] {
    this.lineNo++;
    const hash = raw.indexOf("#");
    const text = hash >= 0 ? raw.slice(0, hash) : raw;
    const toks = text
      .split(/[ \t\r\n]+/)
      .filter((t) => t.length > 0)
      .slice(0, MAX_TOKENS);
    if (toks.length === 0) return [];
    const w0 = this.warns.warns;
    let out: string[];
    try {
      out = this.command(toks[0]!, toks.slice(1));
    } catch (e) {
      if (!(e instanceof BadArgs)) throw e;
      out = ["err bad-args"];
    }
    const w = this.warns.warns - w0;
    if (w && out.length) out[out.length - 1] += ` warn=${w}`;
    if (this.iotlb && CHANGES_DOMAINS.has(toks[0]!)) out.push(...this.iotlbAfter(toks[0]!));
    return out;
  }

  /**
   * Model-only: after a command that may have changed the domains' tables, the IOTLB check
   * (every cached entry re-walked; what is stale and not invalidated is reported). A model
   * whose domain left the container is dropped.
   */
  private iotlbAfter(op: string): string[] {
    const io = this.iotlb!;
    if (!this.container?.domains().includes(io.domain)) {
      this.iotlb = null;
      return [];
    }
    return io.afterAll(op);
  }

  /** `iotlb on [domain K] [entries N] [walk N] [policy lru|fifo]`, `iotlb off`, `iotlb show` (model-only). */
  private cmdIotlb(args: string[]): string[] {
    const c = this.container;
    if (!c) return ["err no-container"];
    let rest = args;
    let k = 0;
    if (args[0] === "on" && args[1] === "domain") {
      k = parseDec(args[2]);
      rest = ["on", ...args.slice(3)];
    }
    const domain = args[0] === "on" ? (c.domainList[k]?.domain ?? null) : null;
    if (this.iotlb && !c.domains().includes(this.iotlb.domain)) this.iotlb = null;
    const r = iotlbCommand(rest, domain, this.iotlb);
    this.iotlb = r.iotlb;
    return r.lines;
  }

  private command(name: string, args: string[]): string[] {
    switch (name) {
      case "container":
        return [this.cmdContainer(args)];
      case "mem":
        return [this.cmdMem(args)];
      case "layout":
        return this.cmdLayout(args);
      case "echo":
        return [args.join(" ")];
      // Model-only (issue 17): the IOTLB model on one of the container's domains.
      case "iotlb":
        return this.cmdIotlb(args);
      case "access":
        return this.iotlb ? this.iotlb.access(args) : ["err iotlb-off"];
      case "domain":
      case "map_dma":
      case "unmap_dma":
      case "counts":
      case "phys":
      case "dmas":
      case "info":
      case "release": {
        const c = this.container;
        if (!c) return ["err no-container"];
        return this.containerCommand(c, name, args);
      }
      default:
        return [`err unknown-command line ${this.lineNo}`];
    }
  }

  private containerCommand(c: VfioIommu, name: string, args: string[]): string[] {
    switch (name) {
      case "domain":
        return [this.cmdDomain(c, args)];
      case "map_dma":
        return [this.cmdMapDma(c, args)];
      case "unmap_dma":
        return [this.cmdUnmapDma(c, args)];
      case "counts":
        if (args.length) throw new BadArgs();
        return [this.cmdCounts(c)];
      case "phys":
        return [this.cmdPhys(c, args)];
      case "dmas":
        if (args.length) throw new BadArgs();
        return this.cmdDmas(c);
      case "info":
        if (args.length) throw new BadArgs();
        return [this.cmdInfo(c)];
      default:
        if (args.length) throw new BadArgs();
        c.release();
        this.container = null;
        return ["ok release"];
    }
  }

  private cmdContainer(args: string[]): string {
    if (this.container) return "err container-exists";
    let v2 = true;
    let limit = RLIM_INFINITY;
    let entries = DEFAULT_DMA_ENTRY_LIMIT;
    let cap = false;
    let mode = this.opts.unmapMode ?? "legacy";
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "v1") v2 = false;
      else if (a === "v2") v2 = true;
      else if (a === "unlimited") limit = RLIM_INFINITY;
      else if (a === "limit_locked") {
        const v = args[++i];
        limit = v === "unlimited" ? RLIM_INFINITY : parseHex(v);
      } else if (a === "dma_entry_limit") entries = parseDec(args[++i], 0xffffffff);
      else if (a === "cap_ipc_lock") cap = true;
      else if (a === "unmap") {
        const m = args[++i] as UnmapMode;
        if (!UNMAP_MODES.includes(m)) throw new BadArgs();
        mode = m;
      } else throw new BadArgs();
    }
    this.mm.rlimitMemlock = limit;
    this.mm.capIpcLock = cap;
    this.container = new VfioIommu({
      mm: this.mm,
      type: v2 ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU,
      dmaEntryLimit: entries,
      unmapMode: mode,
      counters: this.calls,
      warnCounters: this.warns,
    });
    const lim = limit === RLIM_INFINITY ? "unlimited" : hex(toAddr(limit));
    return `ok container type=${v2 ? "v2" : "v1"} dma_entry_limit=${entries} limit_locked=${lim}${cap ? " cap_ipc_lock" : ""}`;
  }

  private cmdMem(args: string[]): string {
    const vaddr = parseHex(args[0]);
    const size = parseHex(args[1]);
    const kind = args[2] as MemKind;
    if (!MEM_KINDS.includes(kind)) throw new BadArgs();
    let seed = 1n;
    let ro = false;
    for (let i = 3; i < args.length; i++) {
      if (args[i] === "seed") seed = parseDecBig(args[++i]);
      else if (args[i] === "ro") ro = true;
      else throw new BadArgs();
    }
    try {
      const r = this.mm.memory.addRegion({
        vaddr: toAddr(vaddr),
        size: toAddr(size),
        kind,
        seed,
        readOnly: ro,
      });
      return `ok mem vaddr=${hex(r.vaddr)} size=${hex(r.size)} kind=${kind} seed=${seed} runs=${r.runs}${ro ? " ro" : ""}`;
    } catch (e) {
      if (!(e instanceof UserMemoryError)) throw e;
      if (e.code === "invalid") throw new BadArgs();
      return e.code === "overlap" ? "err overlap" : "err nomem";
    }
  }

  private cmdLayout(args: string[]): string[] {
    if (args.length !== 2) throw new BadArgs();
    const vaddr = parseHex(args[0]);
    const size = parseHex(args[1]);
    if (size === 0n || vaddr % 4096n || size % 4096n || vaddr + size > 1n << 64n) throw new BadArgs();
    const pieces = this.mm.memory.layout(Number(vaddr), Number(size));
    const out: string[] = [];
    let runs = 0;
    for (const p of pieces) {
      if (p.kind === "run") {
        runs++;
        out.push(`run vaddr=${hex(p.vaddr)} size=${hex(p.size)} pa=${hex(p.pa)}`);
      } else out.push(`hole vaddr=${hex(p.vaddr)} size=${hex(p.size)}`);
    }
    out.push(`end runs=${runs}`);
    return out;
  }

  /** The driver instance with this hardware (one per description for the whole run). */
  private driverFor(driver: number, ias: number, pgsizes: number | undefined): IommuDriver {
    const key = `${driver} ${ias} ${pgsizes ?? "-"}`;
    let d = this.instances.get(key);
    if (!d) {
      d = this.drivers({ driver, ias, pgsizes, warn: (message) => this.warns.warn(message) });
      this.instances.set(key, d);
    }
    return d;
  }

  private cmdDomain(c: VfioIommu, args: string[]): string {
    const sub = args[0];
    if (sub === "attach") {
      let driver: number | undefined;
      let ias = 48;
      let pgsizes: number | undefined;
      for (let i = 1; i < args.length; i++) {
        const a = args[i];
        if (a === "driver") driver = parseDec(args[++i]);
        else if (a === "ias") ias = parseDec(args[++i], 64);
        else if (a === "pgsizes") {
          // Bitmaps are numbers below 2^64; above 2^53 only 4 KiB-multiple values are exact.
          const v = parseHex(args[++i]);
          // 0 means "the format's default", as in the io-pgtable harness's `fmt ... pgsizes`.
          pgsizes =
            v === 0n ? undefined : v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number(v & ~0xfffn);
        } else throw new BadArgs();
      }
      const group = this.nextGroup++;
      const drv = driver ?? group;
      this.groupDriver.set(group, drv);
      const ret = c.attachGroup(group, { driver: this.driverFor(drv, ias, pgsizes) });
      if (ret) return errLine(ret);
      return `ok attach group=${group} driver=${drv} domains=${c.domainList.length} pgsize_bitmap=${hex(c.pgsizeBitmap)}`;
    }
    if (sub === "detach") {
      if (args.length !== 2) throw new BadArgs();
      const group = parseDec(args[1]);
      if (!this.groupDriver.has(group)) throw new BadArgs();
      c.detachGroup(group);
      return `ok detach group=${group} domains=${c.domainList.length} pgsize_bitmap=${hex(c.pgsizeBitmap)}`;
    }
    throw new BadArgs();
  }

  private cmdMapDma(c: VfioIommu, args: string[]): string {
    if (args.length !== 4) throw new BadArgs();
    const vaddr = parseHex(args[0]);
    const iova = parseHex(args[1]);
    const size = parseHex(args[2]);
    const p = args[3];
    let flags: number;
    if (p === "r") flags = VFIO_DMA_MAP_FLAG_READ;
    else if (p === "w") flags = VFIO_DMA_MAP_FLAG_WRITE;
    else if (p === "rw") flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    else if (p === "-") flags = 0;
    else throw new BadArgs();
    const ret = c.mapDma({ flags, vaddr: toAddr(vaddr), iova: toAddr(iova), size: toAddr(size) });
    return ret ? errLine(ret) : "ok";
  }

  private cmdUnmapDma(c: VfioIommu, args: string[]): string {
    if (args.length < 2) throw new BadArgs();
    const iova = parseHex(args[0]);
    const size = parseHex(args[1]);
    let flags = 0;
    for (const a of args.slice(2)) {
      if (a === "all") flags |= VFIO_DMA_UNMAP_FLAG_ALL;
      else if (a === "vaddr") flags |= VFIO_DMA_UNMAP_FLAG_VADDR;
      else throw new BadArgs();
    }
    const req: VfioDmaUnmap = { flags, iova: toAddr(iova), size: toAddr(size) };
    const ret = c.unmapDma(req);
    return ret ? errLine(ret) : `ok unmapped=${hex(req.size)}`;
  }

  private cmdCounts(c: VfioIommu): string {
    const k = this.calls;
    const line =
      `counts iova_to_phys=${k.iovaToPhys} unmap_calls=${k.unmapCalls} map_calls=${k.mapCalls} ` +
      `iotlb_sync=${k.iotlbSync} locked_vm=${this.mm.lockedVm} pinned=${this.mm.pinned} ` +
      `unmap_fast=${k.unmapFast} pt_map_pages=${k.ptMapPages} pt_unmap_pages=${k.ptUnmapPages} dma_avail=${c.dmaAvail}`;
    k.reset();
    return line;
  }

  private cmdPhys(c: VfioIommu, args: string[]): string {
    const iova = parseHex(args[0]);
    let k = 0;
    if (args.length === 3 && args[1] === "domain") k = parseDec(args[2]);
    else if (args.length !== 1) throw new BadArgs();
    const d = c.domainList[k]?.domain;
    if (!d?.ops) return "err no-domain";
    return `phys=${hex(uncountedIovaToPhys(d, toAddr(iova)))}`;
  }

  private cmdDmas(c: VfioIommu): string[] {
    const list = c.dmaList();
    const out = list.map(
      (d) =>
        `dma iova=${hex(d.iova)} size=${hex(d.size)} vaddr=${hex(d.vaddr)} prot=${protName(d.prot)} locked_vm=${d.lockedVm}`,
    );
    out.push(`end dmas=${list.length}`);
    return out;
  }

  private cmdInfo(c: VfioIommu): string {
    const info = c.getInfo();
    if (typeof info === "number") return errLine(info);
    const ranges = (info.iovaRanges ?? []).map((r) => `${hex(r.start)}-${hex(r.end)}`).join(",");
    return (
      `info pgsizes=${hex(info.iovaPgsizes)} mig_pgsizes=${hex(info.migration.pgsizeBitmap)} ` +
      `dma_avail=${info.dmaAvail} iova_ranges=${ranges}`
    );
  }
}

const uncounted = new PhysLength();

/** The driver's lookup straight from the ops table (its address, 0 when unmapped): not a vfio lookup, not counted. */
function uncountedIovaToPhys(d: IommuDomain, iova: number | bigint): number | bigint {
  d.ops!.iovaToPhysLength(d, iova, uncounted);
  return uncounted.mapped ? uncounted.phys : 0;
}
