/**
 * `iommu dump`: adopt a page table that already sits in a raw memory image and print it the
 * way the script `dump` does, followed by its mapped ranges. Everything printed comes from the
 * table's inspector through ../script/inspect-text.ts: a damaged or partial image (an entry
 * pointing outside it) lists that table as ` missing` instead of failing.
 */
import { IommuCounters, iommuDomainInspector, PhysMem } from "@iommu/core";
import { formatRange, mappedRanges } from "../script/inspect-text.js";
import type { ScriptFamily } from "../script/target.js";

export interface ImageDumpOptions {
  /** Script format name (`arm64-s1`, `v7s`, `dart2`, `amdv1`...). */
  format: string;
  /** The `fmt` arguments after the format name (`granule 4k ias 48 ...`). */
  fmtArgs: readonly string[];
  /** Physical address of the top-level table. */
  root: number;
  /** Raw memory contents and the physical address of their first byte. */
  image: Uint8Array;
  imageBase: number;
  families: readonly ScriptFamily[];
  stderr?: (s: string) => void;
}

export type ImageDumpResult = { ok: true; lines: string[] } | { ok: false; error: string };

export function dumpImage(o: ImageDumpOptions): ImageDumpResult {
  const family = o.families.find((f) => f.formats.includes(o.format));
  if (!family) return { ok: false, error: `unknown format ${o.format}` };
  if (!family.adopt) return { ok: false, error: `format ${o.format} cannot adopt an existing table` };
  const parsed = family.parseFmt(o.format, o.fmtArgs);
  if (parsed === undefined) return { ok: false, error: `bad configuration: ${o.fmtArgs.join(" ")}` };
  const mem = new PhysMem();
  mem.importRange(o.imageBase, o.image);
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
  const ranges = mappedRanges(insp);
  return {
    ok: true,
    lines: [r.line, ...t.dump(false), `mapped ranges=${ranges.length}`, ...ranges.map(formatRange)],
  };
}
