/**
 * packages/core/docs/iotlb-model.md: the script languages' model-only IOTLB commands —
 * `iotlb on [entries N] [walk N] [policy lru|fifo]`, `iotlb off`, `iotlb show`, and
 * `access IOVA read|write` — over the core's IOTLB model and checker, fed by the invalidation
 * commands of the driver behind the current domain. The feeds are the driver packages' own;
 * {@link IOTLB_FEEDS} lists them (a domain whose driver has none gets `err no-iotlb-feed`).
 * None of these commands exists in the kernel harnesses: vectors never use them.
 */
import {
  hex,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  IotlbChecker,
  type IotlbCommandFeed,
  type IotlbFinding,
  type IotlbModel,
  type IotlbModelOptions,
  type IotlbReplacement,
} from "@iommu/core";
import { amdIotlbFeed, amdIotlbModel, type ProtectionDomain } from "@iommu/drivers-amd";
import { type AppleDartDomain, appleDartIotlbFeed, appleDartIotlbModel } from "@iommu/drivers-apple-dart";
import {
  armSmmuIotlbFeed,
  armSmmuIotlbModel,
  type ArmSmmuDomain as SmmuV2Domain,
} from "@iommu/drivers-arm-smmu";
import { type ArmSmmuDomain, armSmmuV3IotlbFeed, armSmmuV3IotlbModel } from "@iommu/drivers-arm-smmu-v3";
import { ExynosDomain, exynosIotlbFeed, exynosIotlbModel } from "@iommu/drivers-exynos";
import { DmarDomain, intelIotlbFeed, intelIotlbModel } from "@iommu/drivers-intel";
import { type IpmmuVmsaDomain, ipmmuIotlbFeed, ipmmuIotlbModel } from "@iommu/drivers-ipmmu-vmsa";
import { type MsmPriv, msmIotlbFeed, msmIotlbModel } from "@iommu/drivers-msm";
import { type MtkIommuDomain, mtkIommuIotlbFeed, mtkIommuIotlbModel } from "@iommu/drivers-mtk-iommu";
import {
  type MtkIommuV1Domain,
  mtkIommuV1IotlbFeed,
  mtkIommuV1IotlbModel,
} from "@iommu/drivers-mtk-iommu-v1";
import { type OmapDomain, omapIotlbFeed, omapIotlbModel } from "@iommu/drivers-omap";
import { RockchipDomain, rockchipIotlbFeed, rockchipIotlbModel } from "@iommu/drivers-rockchip";
import { type S390Domain, s390IotlbFeed, s390IotlbModel } from "@iommu/drivers-s390";
import { SprdDomain, sprdIotlbFeed, sprdIotlbModel } from "@iommu/drivers-sprd";
import { Sun50iDomain, sun50iIotlbFeed, sun50iIotlbModel } from "@iommu/drivers-sun50i";
import { type TegraSmmuDomain, tegraSmmuIotlbFeed, tegraSmmuIotlbModel } from "@iommu/drivers-tegra-smmu";
import { ViommuDomain, viommuIotlbFeed, viommuIotlbModel } from "@iommu/drivers-virtio-iommu";
import { parseCount, parseHex } from "./parse.js";

type ModelOptions = Omit<IotlbModelOptions, "tag">;

/** Model-only: one driver whose invalidation commands can feed the IOTLB model. */
export interface IotlbFeedEntry {
  /** The driver's name, printed by `iotlb on`. */
  readonly driver: string;
  /** Whether `d` is one of this driver's domains. */
  match(d: IommuDomain): boolean;
  /** The model of the IOTLB `d`'s devices use, and the feed of the driver's commands. */
  kit(d: IommuDomain, options: ModelOptions): { model: IotlbModel; feed: IotlbCommandFeed };
}

const has = (o: unknown, key: string): boolean => typeof o === "object" && o !== null && key in o;

/** Model-only: the drivers with an IOTLB feed, as the registry lists drivers. */
export const IOTLB_FEEDS: readonly IotlbFeedEntry[] = [
  {
    driver: "arm-smmu-v3",
    match: (d) => has(d, "smmu") && has((d as ArmSmmuDomain).smmu, "cmdq"),
    kit: (d, o) => ({
      model: armSmmuV3IotlbModel(d as ArmSmmuDomain, o),
      feed: armSmmuV3IotlbFeed(d as ArmSmmuDomain),
    }),
  },
  {
    driver: "arm-smmu",
    match: (d) => has(d, "smmu") && has((d as SmmuV2Domain).smmu, "hw") && has(d, "cfg"),
    kit: (d, o) => ({
      model: armSmmuIotlbModel(d as SmmuV2Domain, o),
      feed: armSmmuIotlbFeed(d as SmmuV2Domain),
    }),
  },
  {
    driver: "intel",
    match: (d) => d instanceof DmarDomain,
    kit: (d, o) => ({ model: intelIotlbModel(d as DmarDomain, o), feed: intelIotlbFeed(d as DmarDomain) }),
  },
  {
    driver: "amd",
    match: (d) => has(d, "iommus") && has(d, "pdMode"),
    kit: (d, o) => {
      const pd = d as ProtectionDomain;
      const unit = [...pd.iommus.keys()].find((u) => has(u, "cmd")) as
        | Parameters<typeof amdIotlbFeed>[0]
        | undefined;
      if (!unit) throw new Error("the domain is not attached to a unit");
      return { model: amdIotlbModel(pd, o), feed: amdIotlbFeed(unit) };
    },
  },
  {
    driver: "apple-dart",
    match: (d) => has(d, "streamMaps"),
    kit: (d, o) => ({
      model: appleDartIotlbModel(d as AppleDartDomain, o),
      feed: appleDartIotlbFeed(d as AppleDartDomain),
    }),
  },
  // Drivers that own their tables: classes where the package exports one, else fields only that
  // driver's domain has.
  {
    driver: "exynos",
    match: (d) => d instanceof ExynosDomain,
    kit: (d, o) => ({
      model: exynosIotlbModel(d as ExynosDomain, o),
      feed: exynosIotlbFeed(d as ExynosDomain),
    }),
  },
  {
    driver: "rockchip",
    match: (d) => d instanceof RockchipDomain,
    kit: (d, o) => ({
      model: rockchipIotlbModel(d as RockchipDomain, o),
      feed: rockchipIotlbFeed(d as RockchipDomain),
    }),
  },
  {
    driver: "sun50i",
    match: (d) => d instanceof Sun50iDomain,
    kit: (d, o) => ({
      model: sun50iIotlbModel(d as Sun50iDomain, o),
      feed: sun50iIotlbFeed(d as Sun50iDomain),
    }),
  },
  {
    driver: "sprd",
    match: (d) => d instanceof SprdDomain,
    kit: (d, o) => {
      const { walkCache: _none, ...tlbOnly } = o; // sprd's TLB caches no table entries
      return { model: sprdIotlbModel(d as SprdDomain, tlbOnly), feed: sprdIotlbFeed(d as SprdDomain) };
    },
  },
  {
    driver: "tegra-smmu",
    match: (d) => has(d, "pdChunk") && has(d, "ptChunks"),
    kit: (d, o) => ({
      model: tegraSmmuIotlbModel(d as TegraSmmuDomain, o),
      feed: tegraSmmuIotlbFeed(d as TegraSmmuDomain),
    }),
  },
  {
    driver: "mtk-iommu-v1",
    match: (d) => has(d, "pgtChunk") && has(d, "m4u"),
    kit: (d, o) => ({
      model: mtkIommuV1IotlbModel(d as MtkIommuV1Domain, o),
      feed: mtkIommuV1IotlbFeed(d as MtkIommuV1Domain),
    }),
  },
  {
    driver: "s390",
    match: (d) => has(d, "zdev") && has(d, "dmaTable"),
    kit: (d, o) => {
      const sd = d as S390Domain;
      if (!sd.devices[0]) throw new Error("the domain has no attached zPCI device");
      return { model: s390IotlbModel(sd, o), feed: s390IotlbFeed(sd) };
    },
  },
  {
    driver: "omap",
    match: (d) => has(d, "l2Cache") && has(d, "orphans"),
    kit: (d, o) => ({ model: omapIotlbModel(d as OmapDomain, o), feed: omapIotlbFeed(d as OmapDomain) }),
  },
  // Drivers on io-pgtable and the paravirtual one.
  {
    driver: "ipmmu-vmsa",
    match: (d) => has(d, "contextId") && has(d, "pgtblCfg"),
    kit: (d, o) => ({
      model: ipmmuIotlbModel(d as IpmmuVmsaDomain, o),
      feed: ipmmuIotlbFeed(d as IpmmuVmsaDomain),
    }),
  },
  {
    driver: "msm",
    match: (d) => has(d, "listAttached") && has(d, "v2pMismatches"),
    kit: (d, o) => ({ model: msmIotlbModel(d as MsmPriv, o), feed: msmIotlbFeed(d as MsmPriv) }),
  },
  {
    driver: "mtk-iommu",
    match: (d) => has(d, "bank") && has(d, "m4u"),
    kit: (d, o) => ({
      model: mtkIommuIotlbModel(d as MtkIommuDomain, o),
      feed: mtkIommuIotlbFeed(d as MtkIommuDomain),
    }),
  },
  {
    driver: "virtio-iommu",
    match: (d) => d instanceof ViommuDomain,
    kit: (d, o) => ({
      model: viommuIotlbModel(d as ViommuDomain, o),
      feed: viommuIotlbFeed(d as ViommuDomain),
    }),
  },
];

/** Model-only: the feed entry for `d`'s driver, if it has one. */
export function iotlbFeedFor(d: IommuDomain): IotlbFeedEntry | undefined {
  return IOTLB_FEEDS.find((f) => f.match(d));
}

/** Model-only: `iotlb on` arguments, or undefined when they do not parse. */
export function parseIotlbOn(args: readonly string[]): ModelOptions | undefined {
  const o: { capacity?: number; walkCache?: number; replacement?: IotlbReplacement } = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!;
    const val = args[i + 1];
    if (val === undefined) return undefined;
    if (key === "entries" || key === "walk") {
      const n = parseCount(val);
      if (n === undefined || !Number.isSafeInteger(n) || n < (key === "entries" ? 1 : 0) || n > 65536)
        return undefined;
      if (key === "entries") o.capacity = n;
      else o.walkCache = n;
    } else if (key === "policy" && (val === "lru" || val === "fifo")) o.replacement = val;
    else return undefined;
  }
  return o;
}

function protText(prot: number): string {
  if (prot < 0) return "?";
  return `${prot & IOMMU_READ ? "r" : ""}${prot & IOMMU_WRITE ? "w" : ""}` || "-";
}

/** Model-only: one finding as a script line. */
export function findingLine(f: IotlbFinding): string {
  return `finding ${f.kind} op=${f.op} iova=${hex(f.address ?? f.iova)} size=${hex(f.size)} cache=${f.cache}: ${f.message}`;
}

/** Model-only: an IOTLB model attached to a script's current domain, with its checker. */
export class ScriptIotlb {
  readonly checker: IotlbChecker;
  /** Findings already printed. */
  private printed = 0;

  private constructor(
    readonly domain: IommuDomain,
    readonly driver: string,
    model: IotlbModel,
    feed: IotlbCommandFeed,
  ) {
    this.checker = new IotlbChecker(domain, model, feed);
  }

  /**
   * `iotlb on ...` for `domain`: the attached model, or the error line (`err bad-args`,
   * `err no-iotlb-feed driver-has-none`, `err iotlb-feed <why>`).
   */
  static attach(domain: IommuDomain, args: readonly string[]): ScriptIotlb | string {
    const options = parseIotlbOn(args);
    if (!options) return "err bad-args";
    const entry = iotlbFeedFor(domain);
    if (!entry) return "err no-iotlb-feed";
    try {
      const { model, feed } = entry.kit(domain, options);
      return new ScriptIotlb(domain, entry.driver, model, feed);
    } catch (e) {
      return `err iotlb-feed ${(e as Error).message.replace(/\s+/g, "-")}`;
    }
  }

  get model(): IotlbModel {
    return this.checker.model;
  }

  /** The `ok iotlb ...` line of a successful attach. */
  onLine(): string {
    const m = this.model;
    return `ok iotlb driver=${this.driver} tag=${hex(m.tag)} entries=${m.capacity} walk=${m.walkCapacity} policy=${m.replacement}`;
  }

  /** Lines for the findings not printed yet. */
  newFindings(): string[] {
    const f = this.checker.findings;
    const out: string[] = [];
    for (; this.printed < f.length; this.printed++) out.push(findingLine(f[this.printed]!));
    return out;
  }

  /** After a syncing operation on [iova, +size) (`unmapped` bytes): the check, then new findings. */
  after(op: string, iova: number | bigint, size: number | bigint, syncing: boolean, unmapped = 0): string[] {
    // Sizes from a script may be any u64: rounded, they still name the range to re-walk.
    this.checker.observe(op, Number(iova), Number(size), syncing, unmapped);
    return this.newFindings();
  }

  /** After an operation whose range is not known: re-walk every cached entry, then report what is stale. */
  afterAll(op: string): string[] {
    this.checker.observe(op, 0, 2 ** 64, true);
    return this.newFindings();
  }

  /** `access IOVA read|write`: the translation line, then any finding. */
  access(args: readonly string[]): string[] {
    if (args.length !== 2 || (args[1] !== "read" && args[1] !== "write")) return ["err bad-args"];
    const iova = parseHex(args[0]!);
    if (iova === undefined) return ["err bad-args"];
    const r = this.checker.access(iova, args[1]);
    const how = r.hit ? "hit" : r.walkHit ? "miss walk walk-cache" : "miss walk";
    const head = r.ok ? `ok phys=${hex(r.phys)}` : r.permissionFault ? "err perm-fault" : "err fault";
    const e = r.entry;
    const leaf = e ? ` leaf=${hex(e.iova)}+${hex(e.size)} prot=${protText(e.prot)}` : "";
    return [`${head} ${how}${leaf}`, ...this.newFindings()];
  }

  /** `iotlb show`: stats, cached entries, walk-cache entries, findings, end line. */
  show(): string[] {
    const m = this.model;
    const s = m.stats;
    const o = this.checker.overInvalidation();
    const lines = [
      `iotlb driver=${this.driver} tag=${hex(m.tag)} entries=${m.entries.length}/${m.capacity}` +
        ` walk=${m.walkEntries.length}/${m.walkCapacity} policy=${m.replacement}` +
        ` accesses=${s.accesses} hits=${s.hits} misses=${s.misses} walks=${s.walks}` +
        ` walk_hits=${s.walkCacheHits} faults=${s.faults} evictions=${s.evictions}` +
        ` invalidations=${s.invalidations} full=${s.fullInvalidations} syncs=${s.syncs}` +
        ` pending=${m.pending.length} bytes_unmapped=${hex(o.bytesUnmapped)}` +
        ` bytes_invalidated=${hex(o.bytesInvalidated)}`,
    ];
    const byIova = <T extends { iova: number }>(a: T, b: T) => a.iova - b.iova;
    for (const e of [...m.entries].sort(byIova))
      lines.push(
        `entry tag=${hex(e.tag)} iova=${hex(e.iova)} size=${hex(e.size)} phys=${hex(e.phys)} prot=${protText(e.prot)}${e.stale ? ` stale(${e.stale.op})` : ""}`,
      );
    for (const w of [...m.walkEntries].sort(byIova))
      lines.push(
        `walk tag=${hex(w.tag)} depth=${w.depth} iova=${hex(w.iova)} size=${hex(w.size)} table=${hex(w.table)}${w.stale ? ` stale(${w.stale.op})` : ""}`,
      );
    for (const f of this.checker.findings) lines.push(findingLine(f));
    this.printed = this.checker.findings.length;
    lines.push(
      `end entries=${m.entries.length} walk=${m.walkEntries.length} findings=${this.checker.findings.length}`,
    );
    return lines;
  }
}

/**
 * Model-only: the `iotlb` command (`on ...`, `off`, `show`) against `current` (the attached
 * model, if any) for `domain` (the live domain, if any). Returns the lines and the model to
 * keep.
 */
export function iotlbCommand(
  args: readonly string[],
  domain: IommuDomain | null,
  current: ScriptIotlb | null,
): { lines: string[]; iotlb: ScriptIotlb | null } {
  const sub = args[0];
  if (sub === "on") {
    if (!domain) return { lines: ["err no-domain"], iotlb: current };
    const r = ScriptIotlb.attach(domain, args.slice(1));
    if (typeof r === "string") return { lines: [r], iotlb: current };
    return { lines: [r.onLine()], iotlb: r };
  }
  if (sub === "off" && args.length === 1) return { lines: ["ok iotlb off"], iotlb: null };
  if (sub === "show" && args.length === 1)
    return current ? { lines: current.show(), iotlb: current } : { lines: ["err iotlb-off"], iotlb: current };
  return { lines: ["err bad-args"], iotlb: current };
}
