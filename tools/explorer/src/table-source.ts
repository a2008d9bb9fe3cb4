// tools/explorer: where the explorer's table comes from — an `iommu script` run (ScriptSession,
// the families of the one registry) or a table adopted from a memory image (the way `iommu dump`
// does it). Everything the UI shows is read from the table's PageTableInspector and domain.
import { hex, IommuCounters, iommuDomainInspector, type PageTableInspector, PhysMem } from "@iommu/core";
import {
  createFamilies,
  decodeTableImage,
  ScriptSession,
  type ScriptTable,
  splitLines,
  type TableImageFile,
} from "@iommu/script";
import { type IotlbSnapshot, iotlbSnapshot } from "./iotlb-view.js";

/** The output of one script line. */
export interface ScriptLineResult {
  /** 1-based line number in the script text. */
  readonly line: number;
  readonly text: string;
  /** The engine's result lines for it (empty for comments and blank lines). */
  readonly out: readonly string[];
  /** Whether any result line is an `err ...` line. */
  readonly error: boolean;
}

/** A live table with what it was made from. */
export interface LoadedTable {
  /** `fmt ...` line of a script table, or `image <name>` for an adopted one. */
  readonly title: string;
  readonly table: ScriptTable | null;
  readonly inspector: PageTableInspector | null;
  /** Per script line (empty for an image). */
  readonly lines: readonly ScriptLineResult[];
  /** The IOTLB model attached to the table's domain at the end of the script, if any. */
  readonly iotlb: IotlbSnapshot | null;
  /**
   * With the IOTLB toggle on: the result of attaching the model (`ok iotlb …`, or why not:
   * `err no-iotlb-feed` for a table whose driver has no feed); "" with the toggle off.
   */
  readonly iotlbStatus: string;
  /** The table as an image file (`encodeTableImage`), when the family can give it. */
  image(): TableImageFile | undefined;
  /** A fresh copy of the same table (the unmap comparison runs on copies). */
  copy(): LoadedTable;
  /** Release the table. */
  close(): void;
}

function inspectorOf(t: ScriptTable | null): PageTableInspector | null {
  if (!t) return null;
  return t.inspector?.() ?? iommuDomainInspector(t.domain);
}

/** How a script runs. */
export interface RunOptions {
  /** Attach the IOTLB model (`iotlb on`) to each table a `fmt` line makes (the panel's toggle). */
  readonly iotlb?: boolean;
}

/** Run an `iommu script` text as one fresh harness process and keep its live table. */
export function runTableScript(script: string, options: RunOptions = {}): LoadedTable {
  const session = new ScriptSession({ families: createFamilies() });
  const lines: ScriptLineResult[] = [];
  let title = "";
  let iotlbStatus = "";
  splitLines(script).forEach((text, i) => {
    let out: string[];
    try {
      out = session.line(text);
    } catch (e) {
      // A model exception is a bug, never a kernel error: show it on its line.
      out = [`err internal ${(e as Error).message}`];
    }
    if (/^\s*fmt\b/.test(text) && out[0]?.startsWith("ok")) {
      title = text.trim();
      // The toggle: the model goes on every new table, as an `iotlb on` line would put it.
      if (options.iotlb && session.current && !session.iotlb) iotlbStatus = session.line("iotlb on")[0] ?? "";
    }
    lines.push({ line: i + 1, text, out, error: out.some((l) => l.startsWith("err")) });
  });
  const table = session.current;
  const io = session.iotlb;
  return {
    title,
    table,
    inspector: inspectorOf(table),
    lines,
    iotlb: io ? iotlbSnapshot(io) : null,
    iotlbStatus: io ? `ok iotlb driver=${io.driver}` : iotlbStatus,
    image: () => session.image(),
    copy: () => runTableScript(script, options),
    close: () => session.close(),
  };
}

/** Where a raw memory image sits and how to read it. */
export interface RawImage {
  readonly format: string;
  readonly fmtArgs: readonly string[];
  readonly root: number;
  /** Physical address of the first byte (default: root). */
  readonly base?: number;
  readonly bytes: Uint8Array;
}

/** Adopt the table at `root` in a memory image (what `dumpImage` does); a one-line reason on failure. */
export function adoptTable(name: string, raw: RawImage): LoadedTable | { error: string } {
  if (raw.bytes.length === 0) return { error: "the image is empty" };
  const base = raw.base ?? raw.root;
  if (raw.root < base || raw.root >= base + raw.bytes.length)
    return {
      error: `root ${hex(raw.root)} is outside the image [${hex(base)}, ${hex(base + raw.bytes.length)})`,
    };
  const family = createFamilies().find((f) => f.formats.includes(raw.format));
  if (!family) return { error: `unknown format ${raw.format}` };
  if (!family.adopt) return { error: `format ${raw.format} cannot adopt an existing table` };
  const parsed = family.parseFmt(raw.format, raw.fmtArgs);
  if (parsed === undefined) return { error: `bad configuration: ${raw.fmtArgs.join(" ")}` };
  const mem = new PhysMem();
  // A copy: the comparison unmaps, and the file's bytes must stay as they were.
  mem.importRange(base, raw.bytes.slice());
  const r = family.adopt(
    parsed,
    { counters: new IommuCounters(), stderr: () => {}, session: new Map() },
    { mem, root: raw.root },
  );
  if (r.kind !== "ok") return { error: r.kind === "refused" ? r.line : "bad configuration" };
  const table = r.table;
  const inspector = inspectorOf(table);
  if (!inspector) return { error: `format ${raw.format} cannot be inspected` };
  const image: TableImageFile = {
    format: raw.format,
    fmtArgs: raw.fmtArgs,
    root: raw.root,
    base,
    bytes: raw.bytes,
  };
  return {
    title: `image ${name}: fmt ${[raw.format, ...raw.fmtArgs].join(" ")} root=${hex(raw.root)}`,
    table,
    inspector,
    lines: [],
    iotlb: null,
    iotlbStatus: "",
    image: () => image,
    copy: () => adoptTable(name, raw) as LoadedTable,
    // An adopted table is only dropped, never torn down (teardown would free what the image points at).
    close: () => {},
  };
}

/** Open an `IOMMUIMG` table-image file (`iommu script --save-image`). */
export function openTableImage(name: string, bytes: Uint8Array): LoadedTable | { error: string } {
  const d = decodeTableImage(bytes);
  if (!d.ok) return { error: d.error };
  return adoptTable(name, d.image);
}
