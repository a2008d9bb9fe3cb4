/**
 * A tiny in-memory page-table "format" for engine tests: a map from IOVA to leaves, with
 * LPAE-like error behaviour (EEXIST + WARN on overlap, -ENOENT as size_t + WARN on a hole), so
 * the engine's lines, suffixes and core emulation can be checked without a real format.
 */
import {
  type Addr,
  hex,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  type IommuDomainOps,
  type PageTableInspector,
  type PageTableWalk,
  type PteInfo,
  pageTableStatsOf,
  type SizeOut,
  toBigInt,
} from "@iommu/core";
import type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable } from "../target.js";

interface FakeCfg {
  bitmap: number;
  refuse: boolean;
  warn: boolean;
  nowalk: boolean;
}

const num = (a: Addr): number => Number(a);

class FakeTable implements ScriptTable {
  readonly domain: IommuDomain;
  /** iova → [pa, size] */
  private readonly leaves = new Map<number, [number, number]>();
  private trace = false;
  private gather: [number, number] | null = null;
  destroyed = false;

  constructor(
    private readonly cfg: FakeCfg,
    private readonly env: ScriptEnv,
  ) {
    const ops: IommuDomainOps = {
      name: "fake",
      mapPages: (_d, iova, paddr, pgsize, pgcount, prot, _gfp, mapped) =>
        this.mapPages(iova, paddr, pgsize, pgcount, prot, mapped),
      unmapPages: (_d, iova, pgsize, pgcount) => this.unmapPages(iova, pgsize, pgcount),
      iovaToPhysLength: (_d, iova, out) => {
        const va = num(iova);
        const hit = this.find(va);
        if (hit)
          out.setMapped(Math.floor((hit[1] + va - hit[0]) / 4096), (hit[1] + va - hit[0]) % 4096, hit[2]);
        else out.setUnmapped(this.holeAt(va));
      },
    };
    this.domain = {
      type: IOMMU_DOMAIN_UNMANAGED,
      ops,
      pgsizeBitmap: cfg.bitmap,
      geometry: { apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true },
      counters: env.counters,
    };
  }

  private find(iova: number): [number, number, number] | undefined {
    for (const [start, [pa, size]] of this.leaves)
      if (iova >= start && iova < start + size) return [start, pa, size];
    return undefined;
  }

  /** The largest naturally aligned empty block around `va` (up to 2^40), like a table walk's hole. */
  private holeAt(va: number): number {
    let len = 4096;
    for (;;) {
      const next = len * 2;
      const start = va - (va % next);
      for (const [s, [, size]] of this.leaves) if (s < start + next && s + size > start) return len;
      if (next > 2 ** 40) return len;
      len = next;
    }
  }

  leafProt(iova: Addr): string | undefined {
    return this.find(num(iova)) ? "rw" : undefined;
  }

  /** One flat "table" of leaves (depth 0, in IOVA order), all `rw`; `walk`s are not counted. */
  inspector(): PageTableInspector {
    const leafInfo = (iova: number, pa: number, size: number, index: number): PteInfo => ({
      level: 0,
      depth: 0,
      tableAddr: 0,
      index,
      entryBytes: 8,
      raw: BigInt(pa) | 3n,
      kind: "leaf",
      iova: BigInt(iova),
      itemSize: size,
      phys: BigInt(pa),
      leafSize: size,
      contigIndex: 0,
      prot: IOMMU_READ | IOMMU_WRITE,
      fields: [],
    });
    const sorted = () => [...this.leaves].sort((a, b) => a[0] - b[0]);
    const insp: PageTableInspector = {
      geometry: () => ({
        format: "fake",
        root: 0,
        topLevel: 0,
        levels: 1,
        topEntries: 0,
        entryBytes: 8,
        iasBits: 48,
        signExtended: false,
        pgsizeBitmap: BigInt(this.cfg.bitmap),
      }),
      walk: (iova): PageTableWalk => {
        const va = num(iova);
        const hit = this.find(va);
        if (!hit) return { iova: toBigInt(iova), steps: [], end: "hole", length: this.holeAt(va) };
        const i = sorted().findIndex(([s]) => s === hit[0]);
        return {
          iova: toBigInt(iova),
          steps: [leafInfo(hit[0], hit[1], hit[2], i)],
          end: "leaf",
          phys: BigInt(hit[1] + va - hit[0]),
          length: hit[2],
        };
      },
      visit: (visitor, options = {}) => {
        const from = options.from === undefined ? 0n : toBigInt(options.from);
        const to = options.to === undefined ? (1n << 64n) - 1n : toBigInt(options.to);
        sorted().forEach(([iova, [pa, size]], i) => {
          if (BigInt(iova + size - 1) >= from && BigInt(iova) <= to) visitor(leafInfo(iova, pa, size, i));
        });
      },
      stats: () => pageTableStatsOf((v) => insp.visit(v)),
    };
    return insp;
  }

  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    if (prot >= 0x100) return -(prot >> 8);
    if ((prot & 3) === 0) return -22;
    let va = num(iova);
    let pa = num(paddr);
    for (let i = 0; i < pgcount; i++) {
      if (this.find(va)) {
        this.env.counters.warn("fake: overlap");
        return -17;
      }
      this.leaves.set(va, [pa, pgsize]);
      mapped.value += pgsize;
      va += pgsize;
      pa += pgsize;
    }
    return 0;
  }

  unmapPages(iova: Addr, pgsize: number, pgcount: number): number {
    let va = num(iova);
    this.gather = [va, va + pgsize * pgcount - 1];
    let done = 0;
    for (let i = 0; i < pgcount; i++) {
      const leaf = this.leaves.get(va);
      if (!leaf) {
        this.env.counters.warn("fake: hole");
        return done > 0 ? done : -2;
      }
      this.leaves.delete(va);
      done += leaf[1];
      va += leaf[1];
    }
    return done;
  }

  phys(iova: Addr): Addr {
    const hit = this.find(num(iova));
    return hit ? hit[1] + (num(iova) - hit[0]) : 0;
  }

  walk(iova: Addr): string | null {
    if (this.cfg.nowalk) return null;
    return `walk ret=${this.find(num(iova)) ? 0 : -22}`;
  }

  dump(all: boolean): string[] {
    const keys = [...this.leaves.keys()].sort((a, b) => a - b);
    const lines = keys.map((k) => `leaf iova=${hex(k)} pa=${hex(this.leaves.get(k)![0])}`);
    return [...lines, `end leaves=${keys.length}${all ? " all" : ""}`];
  }

  stats(): string {
    return `stats leaves=${this.leaves.size} warns_total=${this.env.counters.warns}`;
  }

  unmapSuffix(): string {
    if (!this.trace) return "";
    return this.gather ? ` gather=${hex(this.gather[0])}-${hex(this.gather[1])}` : "";
  }

  command(name: string, args: readonly string[]): string[] | undefined {
    if (name !== "trace") return undefined;
    this.trace = args[0] === "on";
    return [`ok trace=${this.trace ? "on" : "off"}`];
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** The fake family: `fmt fake [bitmap HEX] [refuse] [warn] [nowalk]`; `selftest` destroys the table. */
export function createFakeFamily(): ScriptFamily & { created: FakeTable[] } {
  const created: FakeTable[] = [];
  return {
    created,
    formats: ["fake"],
    parseFmt(_format, args): FakeCfg | undefined {
      const cfg: FakeCfg = { bitmap: 0x201000, refuse: false, warn: false, nowalk: false };
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        if (a === "bitmap") {
          const v = args[++i];
          if (v === undefined || !/^[0-9a-f]+$/.test(v)) return undefined;
          cfg.bitmap = Number.parseInt(v, 16);
        } else if (a === "refuse" || a === "warn" || a === "nowalk") cfg[a] = true;
        else return undefined;
      }
      return cfg;
    },
    create(parsed, env): FmtResult {
      const cfg = parsed as FakeCfg;
      if (cfg.warn) env.counters.warn("fake: fmt");
      if (cfg.refuse) return { kind: "refused", line: "err alloc" };
      const table = new FakeTable(cfg, env);
      created.push(table);
      return { kind: "ok", line: `ok fmt=fake pgsize_bitmap=${hex(cfg.bitmap)}`, table };
    },
    command(name, _args, _env, current) {
      if (name !== "selftest") return undefined;
      current?.destroy();
      return { lines: ["selftest: completed"], destroyed: true };
    },
  };
}
