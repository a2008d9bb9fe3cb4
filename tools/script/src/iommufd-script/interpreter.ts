/**
 * The iommufd script language (`iommu iommufd-script`, documented in @iommu/iommufd's
 * README): one simulated process driving one /dev/iommu through the @iommu/iommufd model —
 * user memory, IOASes, domains (the selftest mock or a generic_pt format), maps, unmaps,
 * copies, accesses — and printing what each step returned and what it cost.
 *
 * Numbers are decimal, `0x` hex, or a size with a K/M/G suffix (`2M`). Every command prints
 * one line: `ok ...` or `err -N (ENAME)`; `counts` prints the read-back counters.
 */
import {
  type Addr,
  errnoName,
  hex,
  IommuCounters,
  type IommuDomain,
  IommuError,
  MEM_KINDS,
  type MemKind,
  SZ_4K,
  TableAllocator,
  UserMemoryError,
  UserMm,
} from "@iommu/core";
import { createPtDomain, PT_FORMAT_NAMES, type PtFormatName } from "@iommu/generic-pt";
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  Iommufd,
  MOCK_ACCESS_RW_SLOW_PATH,
  type MockPagetableType,
  type ReadBackMode,
} from "@iommu/iommufd";
import { amdv1MockPagetableInit } from "./mock-pagetable.js";

export { READ_BACK_MODES, type ReadBackMode } from "@iommu/iommufd";

export interface IommufdScriptOptions {
  /** PFN read-back of the run (`--read-back`); default `legacy`. */
  readBack?: ReadBackMode;
  /** Receives the text of each kernel WARN (informational, never stdout). */
  stderr?: (line: string) => void;
}

class BadArgs extends Error {}

const SUFFIX: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A number token: decimal, 0x hex, or decimal with a K/M/G/T suffix. */
function num(tok: string | undefined): number {
  if (tok === undefined) throw new BadArgs("missing number");
  let v: number;
  const m = /^(\d+)([KMGT])$/i.exec(tok);
  if (m) v = Number(m[1]) * SUFFIX[m[2]!.toUpperCase()]!;
  else if (/^0x[0-9a-f]+$/i.test(tok)) v = Number(BigInt(tok));
  else if (/^\d+$/.test(tok)) v = Number(tok);
  else throw new BadArgs(`bad number ${tok}`);
  if (!Number.isSafeInteger(v)) throw new BadArgs(`number out of range ${tok}`);
  return v;
}

/**
 * An address or length token (IOVAs, user addresses, range bounds): as {@link num}, but exact up
 * to 2^64 − 1 — a number up to 2^53 − 1, a bigint above (the core's Addr).
 */
function addr(tok: string | undefined): Addr {
  if (tok === undefined) throw new BadArgs("missing number");
  let v: bigint;
  const m = /^(\d+)([KMGT])$/i.exec(tok);
  if (m) v = BigInt(m[1]!) * BigInt(SUFFIX[m[2]!.toUpperCase()]!);
  else if (/^0x[0-9a-f]+$/i.test(tok) || /^\d+$/.test(tok)) v = BigInt(tok);
  else throw new BadArgs(`bad number ${tok}`);
  if (v >= 1n << 64n) throw new BadArgs(`number out of range ${tok}`);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function errLine(ret: number): string {
  return `err ${ret} (${errnoName(ret) ?? "E?"})`;
}

/** `r`, `w`, `rw` (default rw) → IOMMU_IOAS_MAP_* flags. */
function protFlags(tok: string | undefined): number {
  switch (tok ?? "rw") {
    case "r":
      return IOMMU_IOAS_MAP_READABLE;
    case "w":
      return IOMMU_IOAS_MAP_WRITEABLE;
    case "rw":
      return IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
    default:
      throw new BadArgs(`bad prot ${tok}`);
  }
}

/** `domain IOAS KIND` mock kinds → MOCK_IOMMUPT_* (the selftest's mock on generic_pt amdv1_mock). */
const MOCK_KINDS: Record<string, MockPagetableType> = {
  mock: "default",
  "mock-huge": "huge",
  "mock-amdv1": "amdv1",
};

/** The domain kinds `domain IOAS KIND` accepts. */
export const IOMMUFD_SCRIPT_DOMAINS: readonly string[] = [...Object.keys(MOCK_KINDS), ...PT_FORMAT_NAMES];

/** One script run: a fresh process and iommufd. */
export class IommufdScript {
  private readonly warns = new IommuCounters();
  readonly ictx: Iommufd;
  private lineNo = 0;

  constructor(private readonly opts: IommufdScriptOptions = {}) {
    this.warns.onWarn = (m) => this.opts.stderr?.(`WARN: ${m}`);
    this.ictx = new Iommufd({
      mm: new UserMm({ counters: this.warns }),
      readBack: opts.readBack ?? "legacy",
      mockPagetableInit: amdv1MockPagetableInit,
    });
  }

  /** Run one line; returns the output lines. */
  line(text: string): string[] {
    this.lineNo++;
    const t = text.replace(/#.*/, "").trim();
    if (!t) return [];
    const [cmd, ...args] = t.split(/\s+/);
    try {
      return [this.run(cmd!, args)];
    } catch (e) {
      if (e instanceof BadArgs) return [`err syntax line ${this.lineNo}: ${e.message}`];
      if (e instanceof UserMemoryError) return [`err mem ${e.code}`];
      throw e;
    }
  }

  private run(cmd: string, a: string[]): string {
    const ictx = this.ictx;
    switch (cmd) {
      case "mem": {
        // mem VADDR SIZE KIND [seed N] [ro]
        const kind = a[2] as MemKind;
        if (!MEM_KINDS.includes(kind)) throw new BadArgs(`mem kind ${a[2]}: ${MEM_KINDS.join("|")}`);
        const seedAt = a.indexOf("seed");
        ictx.mm.memory.addRegion({
          vaddr: num(a[0]),
          size: num(a[1]),
          kind,
          seed: seedAt >= 0 ? num(a[seedAt + 1]) : 1,
          readOnly: a.includes("ro"),
        });
        return "ok";
      }
      case "limit": {
        // limit memlock BYTES | limit temp BYTES|default
        if (a[0] === "memlock") ictx.mm.rlimitMemlock = BigInt(num(a[1]));
        else if (a[0] === "temp") ictx.setTempMemoryLimit(a[1] === "default" ? 0 : num(a[1]));
        else throw new BadArgs("limit memlock|temp");
        return "ok";
      }
      case "ioas": {
        const c = { flags: 0, outIoasId: 0 };
        const rc = ictx.ioasAlloc(c);
        return rc ? errLine(rc) : `ok ioas ${c.outIoasId}`;
      }
      case "domain": {
        // domain IOAS mock|mock-huge|mock-amdv1|FORMAT [pgsizes X]
        const ioas = num(a[0]);
        const kind = a[1] ?? "mock";
        let id: number;
        if (kind in MOCK_KINDS) id = ictx.mockDomain(ioas, MOCK_KINDS[kind]!);
        else if ((PT_FORMAT_NAMES as readonly string[]).includes(kind)) {
          let d: IommuDomain;
          try {
            d = createPtDomain(kind as PtFormatName, { allocator: new TableAllocator() });
          } catch (e) {
            if (e instanceof IommuError) return errLine(-e.errno);
            throw e;
          }
          const at = a.indexOf("pgsizes");
          if (at >= 0) d.pgsizeBitmap = num(a[at + 1]) | SZ_4K;
          id = ictx.attachDomain(ioas, d);
        } else throw new BadArgs(`domain kind ${kind}: ${IOMMUFD_SCRIPT_DOMAINS.join("|")}`);
        return id < 0 ? errLine(id) : `ok hwpt ${id}`;
      }
      case "destroy": {
        const rc = ictx.destroy(num(a[0]));
        return rc ? errLine(rc) : "ok";
      }
      case "map": {
        // map IOAS UPTR LENGTH [IOVA|auto] [r|w|rw]
        const fixed = a[3] !== undefined && a[3] !== "auto";
        const c = {
          flags: protFlags(a[4]) | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
          ioasId: num(a[0]),
          userVa: addr(a[1]),
          length: addr(a[2]),
          iova: fixed ? addr(a[3]) : 0,
        };
        const rc = ictx.ioasMap(c);
        return rc ? errLine(rc) : `ok iova ${hex(c.iova)}`;
      }
      case "unmap": {
        // unmap IOAS IOVA LENGTH | unmap IOAS all
        const c =
          a[1] === "all"
            ? { ioasId: num(a[0]), iova: 0, length: (1n << 64n) - 1n }
            : { ioasId: num(a[0]), iova: addr(a[1]), length: addr(a[2]) };
        const rc = ictx.ioasUnmap(c);
        return rc ? errLine(rc) : `ok unmapped ${hex(c.length)}`;
      }
      case "copy": {
        // copy SRC_IOAS SRC_IOVA DST_IOAS DST_IOVA|auto LENGTH [r|w|rw]
        const fixed = a[3] !== "auto";
        const c = {
          flags: protFlags(a[5]) | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
          srcIoasId: num(a[0]),
          srcIova: addr(a[1]),
          dstIoasId: num(a[2]),
          dstIova: fixed ? addr(a[3]) : 0,
          length: addr(a[4]),
        };
        const rc = ictx.ioasCopy(c);
        return rc ? errLine(rc) : `ok iova ${hex(c.dstIova)}`;
      }
      case "allow": {
        // allow IOAS START-LAST ...
        const ranges = a.slice(1).map((r) => {
          const [s, l] = r.split("-");
          return { start: addr(s), last: addr(l) };
        });
        const rc = ictx.ioasAllowIovas({ ioasId: num(a[0]), allowedIovas: ranges });
        return rc ? errLine(rc) : "ok";
      }
      case "reserve": {
        const rc = ictx.addReserved(num(a[0]), addr(a[1]), addr(a[2]));
        return rc ? errLine(rc) : "ok";
      }
      case "ranges": {
        const c = { ioasId: num(a[0]), numIovas: 64, allowedIovas: [], outIovaAlignment: 0 };
        const rc = ictx.ioasIovaRanges(c);
        if (rc) return errLine(rc);
        const list = c.allowedIovas.map(
          (r: { start: number | bigint; last: number | bigint }) => `${hex(r.start)}-${hex(r.last)}`,
        );
        return `ok align ${hex(c.outIovaAlignment)} ${list.join(" ")}`.trimEnd();
      }
      case "huge_pages": {
        const rc = ictx.option({
          optionId: IOMMU_OPTION_HUGE_PAGES,
          op: IOMMU_OPTION_OP_SET,
          objectId: num(a[0]),
          val64: num(a[1]),
        });
        return rc ? errLine(rc) : "ok";
      }
      case "access": {
        const id = ictx.accessCreate(num(a[0]));
        return id < 0 ? errLine(id) : `ok access ${id}`;
      }
      case "pin": {
        // pin ACCESS IOVA LENGTH [w]
        const id = ictx.accessPages(num(a[0]), addr(a[1]), num(a[2]), { write: a[3] === "w" });
        return id < 0 ? errLine(id) : `ok item ${id}`;
      }
      case "unpin": {
        const rc = ictx.accessDestroyPages(num(a[0]), num(a[1]));
        return rc ? errLine(rc) : "ok";
      }
      case "rw": {
        // rw ACCESS IOVA LENGTH [slow]: a read through the access
        const rc = ictx.accessRw(
          num(a[0]),
          addr(a[1]),
          new Uint8Array(num(a[2])),
          a[3] === "slow" ? MOCK_ACCESS_RW_SLOW_PATH : 0,
        );
        return rc ? errLine(rc) : "ok";
      }
      case "check": {
        // check HWPT IOVA LENGTH UPTR (IOMMU_TEST_OP_MD_CHECK_MAP)
        const walks = { n: 0 };
        const rc = ictx.mdCheckMap(num(a[0]), addr(a[1]), num(a[2]), num(a[3]), walks);
        return rc ? errLine(rc) : `ok walks ${walks.n}`;
      }
      case "counts": {
        const c = ictx.counters;
        return (
          `counts iova_to_phys=${c.iovaToPhys} unmap_calls=${c.unmapCalls} map_calls=${c.mapCalls} ` +
          `iotlb_sync=${c.iotlbSync} batch_full=${c.batchFull} pinned=${ictx.mm.memory.pinned} ` +
          `locked_vm=${ictx.user.lockedVm} warn=${this.warns.warns}`
        );
      }
      case "reset":
        ictx.counters.reset();
        return "ok";
      default:
        throw new BadArgs(`unknown command ${cmd}`);
    }
  }
}
