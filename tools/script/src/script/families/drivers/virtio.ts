/**
 * drivers/iommu/virtio-iommu.c in the script engine — the `virtio` script family: the guest
 * driver of @iommu/drivers-virtio-iommu probed against its device model, whose translation is a
 * host page table from @iommu/io-pgtable. `fmt virtio` takes the device's negotiation knobs;
 * `map`/`unmap` go through the core emulation (MAP/UNMAP requests reach the device), `phys` is
 * the legacy lookup, `lookup` the length-aware one, `dump` lists the domain's intervals in
 * order, `device` the device's, `stats` the requests sent by type and the intervals live.
 * Output lines: the package README ("iommu script").
 */
import {
  type Addr,
  hex,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  PhysLength,
  PhysMem,
  type SizeOut,
} from "@iommu/core";
import {
  type IntervalTree,
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_STATUS_NAMES,
  VIRTIO_IOMMU_TYPE_NAMES,
  type ViommuDomain,
  VirtioIommu,
  VirtioIommuDevice,
  type VirtioIommuDeviceMode,
} from "@iommu/drivers-virtio-iommu";
import { createIoPgtableDomain, IO_PGTABLE_FORMAT_NAMES, type IoPgtableFormatName } from "@iommu/io-pgtable";
import { DRIVER_HARNESS } from "../../harness.js";
import { parseHex, parseNum } from "../../parse.js";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../../target.js";

/** The `fmt` names of the family. */
export const VIRTIO_FMT_NAMES: readonly string[] = ["virtio", "driver=virtio-iommu"];

/** The parsed `fmt virtio` line. */
export interface VirtioFmt {
  readonly pageSizeMask: Addr;
  readonly input?: { start: Addr; end: Addr };
  readonly domains?: { start: number; end: number };
  readonly probeSize: number;
  readonly bypass?: boolean;
  readonly mmio: boolean;
  readonly mode: VirtioIommuDeviceMode;
  readonly host: IoPgtableFormatName;
  readonly attach: boolean;
}

const U32 = 0xffffffff;

function range(tok: string | undefined): { start: Addr; end: Addr } | undefined {
  const parts = tok?.split("-");
  if (parts?.length !== 2) return undefined;
  const start = parseHex(parts[0]!);
  const end = parseHex(parts[1]!);
  if (start === undefined || end === undefined || BigInt(start) > BigInt(end)) return undefined;
  return { start, end };
}

function flag(tok: string | undefined): boolean | undefined {
  return tok === "1" ? true : tok === "0" ? false : undefined;
}

/**
 * `fmt virtio [pgsizes H] [input S-E] [domains S-E] [probe N] [bypass 0|1] [mmio 0|1]
 * [mode spec|qemu] [host FMT] [attach 0|1]`; undefined on a parse error.
 */
export function parseVirtioFmt(args: readonly string[]): VirtioFmt | undefined {
  let pageSizeMask: Addr = 0xffff_ffff_ffff_f000n;
  let input: { start: Addr; end: Addr } | undefined;
  let domains: { start: number; end: number } | undefined;
  let probeSize = 512;
  let bypass: boolean | undefined;
  let mmio = true;
  let mode: VirtioIommuDeviceMode = "spec";
  let host: IoPgtableFormatName = "arm64-s2";
  let attach = true;
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const tok = args[i + 1];
    if (tok === undefined) return undefined;
    switch (key) {
      case "pgsizes": {
        const v = parseHex(tok);
        if (v === undefined || (typeof v === "bigint" && BigInt(Number(v)) !== v)) return undefined;
        pageSizeMask = v;
        break;
      }
      case "input":
        input = range(tok);
        if (!input) return undefined;
        break;
      case "domains": {
        const r = range(tok);
        if (!r || BigInt(r.end) > U32) return undefined;
        domains = { start: Number(r.start), end: Number(r.end) };
        break;
      }
      case "probe": {
        const v = parseNum(tok);
        if (v === undefined || BigInt(v) > 4096n || Number(v) % 4 !== 0) return undefined;
        probeSize = Number(v);
        break;
      }
      case "bypass":
        bypass = flag(tok);
        if (bypass === undefined) return undefined;
        break;
      case "mmio": {
        const v = flag(tok);
        if (v === undefined) return undefined;
        mmio = v;
        break;
      }
      case "mode":
        if (tok !== "spec" && tok !== "qemu") return undefined;
        mode = tok;
        break;
      case "host":
        if (!(IO_PGTABLE_FORMAT_NAMES as readonly string[]).includes(tok)) return undefined;
        host = tok as IoPgtableFormatName;
        break;
      case "attach": {
        const v = flag(tok);
        if (v === undefined) return undefined;
        attach = v;
        break;
      }
      default:
        return undefined;
    }
  }
  return {
    pageSizeMask,
    ...(input ? { input } : {}),
    ...(domains ? { domains } : {}),
    probeSize,
    ...(bypass === undefined ? {} : { bypass }),
    mmio,
    mode,
    host,
    attach,
  };
}

function flagLetters(flags: number): string {
  return (
    (flags & VIRTIO_IOMMU_MAP_F_READ ? "r" : "") +
      (flags & VIRTIO_IOMMU_MAP_F_WRITE ? "w" : "") +
      (flags & VIRTIO_IOMMU_MAP_F_MMIO ? "m" : "") || "-"
  );
}

/** One `interval` line per node of `t`, in order, then the `end` line. */
export function intervalLines(prefix: string, t: IntervalTree): string[] {
  const out: string[] = [];
  let bytes = 0n;
  let i = 0;
  t.visit((n) => {
    const s = BigInt(t.startOf(n));
    const e = BigInt(t.endOf(n));
    bytes += e - s;
    out.push(
      `${prefix} ${i++} iova=${hex(s)}-${hex(e - 1n)} phys=${hex(BigInt(t.paddrOf(n)))} size=${hex(e - s)} flags=${flagLetters(t.flagsAt(n))}`,
    );
  });
  out.push(`end intervals=${t.size} bytes=${hex(bytes)}`);
  return out;
}

class VirtioScriptTable implements ScriptTable {
  private readonly out = new PhysLength();

  constructor(
    readonly viommu: VirtioIommu,
    readonly domain: ViommuDomain,
    private readonly env: ScriptEnv,
  ) {}

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    const d = this.domain;
    return d.ops!.mapPages(d, iova, paddr, pgsize, pgcount, prot, 0, mapped);
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    const d = this.domain;
    return d.ops!.unmapPages(d, iova, pgsize, pgcount, null);
  }

  phys(iova: Addr): Addr {
    return iommuIovaToPhys(this.domain, iova);
  }

  walk(): string | null {
    return null;
  }

  dump(): string[] {
    return intervalLines("interval", this.domain.mappings);
  }

  stats(): string {
    const sent = this.viommu.sent;
    const dev = this.viommu.device;
    const errors = dev.statuses.reduce((s, c, i) => (i === 0 ? s : s + c), 0);
    const t = this.domain.mappings;
    let bytes = 0;
    t.visit((n) => {
      bytes += t.endOf(n) - t.startOf(n);
    });
    const req = [1, 2, 3, 4, 5].map((k) => `req_${VIRTIO_IOMMU_TYPE_NAMES[k]}=${sent[k]}`).join(" ");
    return (
      `stats intervals_live=${t.size} bytes_live=${hex(bytes)} ${req} syncs=${this.viommu.syncs}` +
      ` device_ok=${dev.statuses[0]} device_err=${errors + dev.unwritten} warns_total=${this.env.counters.warns}`
    );
  }

  command(name: string, args: readonly string[]): string[] | undefined {
    if (name === "lookup") {
      const iova = args.length === 1 ? parseHex(args[0]!) : undefined;
      if (iova === undefined) return ["err bad-args"];
      const o = iommuIovaToPhysLength(this.domain, iova, this.out);
      return [`lookup mapped=${o.mapped ? 1 : 0} phys=${hex(o.phys)} length=${hex(o.length)}`];
    }
    if (name === "device") {
      if (args.length !== 0) return ["err bad-args"];
      const dev = this.viommu.device;
      this.viommu.syncReq();
      const dd = dev.domain(this.domain.id);
      const statuses = VIRTIO_IOMMU_STATUS_NAMES.map((s, i) => `${s.toLowerCase()}=${dev.statuses[i]}`).join(
        " ",
      );
      return [
        `device domains=${dev.domains.size} ${statuses} unwritten=${dev.unwritten}`,
        ...(dd ? intervalLines("device", dd.mappings) : ["end intervals=0 bytes=0x0"]),
      ];
    }
    return undefined;
  }

  destroy(): void {
    if (!this.domain.freed) this.domain.ops!.free!(this.domain);
  }
}

function errLine(what: string, ret: number): string {
  const names: Record<number, string> = { 19: "ENODEV", 22: "EINVAL", 28: "ENOSPC", 2: "ENOENT" };
  return `err ${what} ${ret} (${names[-ret] ?? "E?"})`;
}

function createVirtio(p: VirtioFmt, env: ScriptEnv): FmtResult {
  let device: VirtioIommuDevice;
  try {
    device = new VirtioIommuDevice({
      mem: new PhysMem(),
      createHostDomain: () => createIoPgtableDomain(p.host, {}),
      pageSizeMask: p.pageSizeMask,
      ...(p.input ? { inputRange: p.input } : {}),
      ...(p.domains ? { domainRange: p.domains } : {}),
      probeSize: p.probeSize,
      ...(p.bypass === undefined ? {} : { bypass: p.bypass }),
      mmio: p.mmio,
      mode: p.mode,
    });
  } catch (e) {
    if (e instanceof IommuError) return { kind: "refused", line: "err bad-fmt" };
    throw e;
  }
  const viommu = VirtioIommu.probe(device, { counters: env.counters });
  if (typeof viommu === "number") return { kind: "refused", line: errLine("probe", viommu) };
  const ep = viommu.probeDevice([0]);
  if (typeof ep === "number") return { kind: "refused", line: errLine("probe_device", ep) };
  const d = viommu.domainAllocPagingFlags(0, { counters: env.counters });
  if (typeof d === "number") return { kind: "refused", line: errLine("alloc", d) };
  if (p.attach) {
    const r = viommu.attachDev(d, ep);
    if (r) return { kind: "refused", line: errLine("attach", r) };
  }
  const g = viommu.geometry;
  const line =
    `ok fmt=virtio page_size_mask=${hex(viommu.pgsizeBitmap)} features=${hex(viommu.features)}` +
    ` aperture=${hex(g.apertureStart)}-${hex(g.apertureEnd)} domain=${d.id}` +
    ` domains=${viommu.firstDomain}-${viommu.lastDomain} probe_size=${viommu.probeSize}` +
    ` map_flags=${hex(viommu.mapFlags)} mode=${p.mode} host=${p.host} endpoints=${d.nrEndpoints}`;
  return { kind: "ok", line, table: new VirtioScriptTable(viommu, d, env) };
}

/** `fmt virtio`: a fresh device, driver and one domain (attached unless `attach 0`) per `fmt`. */
export function createVirtioFamily(): ScriptFamily {
  return {
    formats: VIRTIO_FMT_NAMES,
    harness: DRIVER_HARNESS,
    parseFmt: (_format, args) => parseVirtioFmt(args),
    create: (parsed, env) => createVirtio(parsed as VirtioFmt, env),
  };
}
