/**
 * `iommu dump`: adopt a page table that already sits in a raw memory image and print it the
 * way the script `dump` does, followed by its mapped ranges. Everything printed comes from the
 * table's inspector through ../script/inspect-text.ts: a damaged or partial image (an entry
 * pointing outside it) lists that table as ` missing` instead of failing.
 */
import { hex, IommuCounters, iommuDomainInspector, PhysMem } from "@iommu/core";
import { formatRange, mappedRanges } from "../script/inspect-text.js";
import type { ScriptFamily } from "../script/target.js";

export interface ImageDumpOptions {
  /** Script format name (`arm64-s1`, `v7s`, `dart2`, `amdv1`...). */
  format: string;
  /** The `fmt` arguments after the format name (`granule 4k ias 48 ...`). */
  fmtArgs: readonly string[];
  /** Physical address of the top-level table. */
  root: number;
  /** Raw memory contents and the physical address of their first byte... */
  image?: Uint8Array;
  imageBase?: number;
  /** ...or memory that already holds the tables (e.g. rebuilt from a VT-d debugfs dump). */
  mem?: PhysMem;
  families: readonly ScriptFamily[];
  stderr?: (s: string) => void;
}

export type ImageDumpResult =
  | {
      ok: true;
      lines: string[];
      /** Table entries that point outside the image (listed with ` missing`). */
      missing: number;
    }
  | { ok: false; error: string };

export function dumpImage(o: ImageDumpOptions): ImageDumpResult {
  let mem = o.mem;
  if (!mem) {
    const image = o.image ?? new Uint8Array(0);
    if (image.length === 0) return { ok: false, error: "the image is empty" };
    mem = new PhysMem();
    mem.importRange(o.imageBase ?? o.root, image);
  }
  // What the image holds, and whether [pa, pa + bytes) lies inside it.
  const held = mem.ranges();
  if (held.length === 0) return { ok: false, error: "the image is empty" };
  const imageStart = o.mem ? held[0]!.pa : (o.imageBase ?? o.root);
  const imageEnd = o.mem ? held.at(-1)!.pa + held.at(-1)!.bytes : imageStart + o.image!.length;
  const holds = (pa: number) =>
    o.mem ? held.some((r) => pa >= r.pa && pa < r.pa + r.bytes) : pa >= imageStart && pa < imageEnd;
  if (!holds(o.root))
    return {
      ok: false,
      error: `root ${hex(o.root)} is outside the image [${hex(imageStart)}, ${hex(imageEnd)})`,
    };
  const family = o.families.find((f) => f.formats.includes(o.format));
  if (!family) return { ok: false, error: `unknown format ${o.format}` };
  if (!family.adopt) return { ok: false, error: `format ${o.format} cannot adopt an existing table` };
  const parsed = family.parseFmt(o.format, o.fmtArgs);
  if (parsed === undefined) return { ok: false, error: `bad configuration: ${o.fmtArgs.join(" ")}` };
  const stderr = o.stderr ?? (() => {});
  const counters = new IommuCounters();
  counters.onWarn = (m) => stderr(`WARNING: ${m}\n`);
  const r = family.adopt(
    parsed,
    { counters, stderr: (l) => stderr(`${l}\n`), session: new Map() },
    { mem, root: o.root },
  );
  if (r.kind !== "ok") return { ok: false, error: r.kind === "refused" ? r.line : "bad configuration" };
  // The image is only read: the adopted table is dropped with the memory, never torn down
  // (tearing down would walk — and free — whatever the image's entries point at).
  const t = r.table;
  const insp = t.inspector?.() ?? iommuDomainInspector(t.domain);
  if (!insp) return { ok: false, error: `format ${o.format} cannot be inspected` };
  // The top table must be where the root says, whole: a misaligned root or one whose table
  // runs past the image's end would be read as zeros.
  const g = insp.geometry();
  const topBytes = g.topEntries * g.entryBytes;
  const align = topBytes >= 64 ? 2 ** Math.floor(Math.log2(topBytes)) : topBytes;
  if (align > 0 && o.root % align !== 0)
    return {
      ok: false,
      error: `root ${hex(o.root)} is not aligned to the ${g.format} top table's size (${hex(align)} bytes)`,
    };
  if (!holds(o.root + topBytes - 1))
    return {
      ok: false,
      error: `the ${g.format} top table [${hex(o.root)}, ${hex(o.root + topBytes)}) runs past the image's end ${hex(imageEnd)}`,
    };
  let missing = 0;
  insp.visit((e) => {
    if (e.tableMissing) missing++;
  });
  const ranges = mappedRanges(insp);
  return {
    ok: true,
    lines: [r.line, ...t.dump(false), `mapped ranges=${ranges.length}`, ...ranges.map(formatRange)],
    missing,
  };
}
