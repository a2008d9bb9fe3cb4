/**
 * The demo table's content: header, column alignment, the rows' grouping under driver
 * headings and one row of cells per measured scenario, in a compact layout (fits 100
 * columns) and a wide one (every counter). Drawing it (cli-table3 in the CLI, HTML in the
 * report) is the caller's.
 */
import { type DemoRow, type Pair, rowCheck, walkRatio } from "./row.js";
import { sizeName } from "./scenarios.js";

const int = new Intl.NumberFormat("en-US");

/** `legacy → length` with thousands separators. */
export function arrow(p: Pair): string {
  return `${int.format(p.legacy)} → ${int.format(p.length)}`;
}

/** legacy / length, one decimal below 10. */
export function ratio(p: Pair): string {
  const r = walkRatio(p);
  if (r === null) return "∞";
  return p.length === 0 ? "1×" : `${r >= 10 ? int.format(Math.round(r)) : r.toFixed(1)}×`;
}

function ms(ns: number): string {
  const v = ns / 1e6;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** ✓ when the walks are what the walk-count model predicts, else the prediction. */
function modelCheck(r: DemoRow): string {
  const c = rowCheck(r);
  return c === "none" ? "" : c === "pass" ? "✓" : `✗ ${arrow(r.expected!)}`;
}

export const DEMO_TABLE_HEAD: readonly string[] = [
  "scenario",
  "driver",
  "granule",
  "leaf",
  "region",
  "walks (legacy → length)",
  "ratio",
  "model",
  "PTE reads",
  "runs: walks / PTE reads",
  "unmap calls",
  "IOTLB syncs",
  "wall ms",
];

export const DEMO_TABLE_ALIGN: readonly ("left" | "center" | "right")[] = [
  "left",
  "left",
  "right",
  "right",
  "right",
  "right",
  "right",
  "center",
  "right",
  "right",
  "right",
  "right",
  "right",
];

/** The cells of one row, in {@link DEMO_TABLE_HEAD} order. */
export function demoTableCells(r: DemoRow): string[] {
  return [
    r.scenario,
    `${r.driver} ${r.format.replace("ARM_64_LPAE_", "")}`,
    sizeName(r.granule),
    sizeName(r.leafSize),
    sizeName(r.regionSize),
    arrow(r.walks),
    ratio(r.walks),
    modelCheck(r),
    arrow(r.pteReads),
    r.runs ? `${int.format(r.runs.walks)} / ${int.format(r.runs.pteReads)}` : "—",
    arrow(r.unmapCalls),
    arrow(r.iotlbSyncs),
    `${ms(r.ns.legacy)} → ${ms(r.ns.length)}`,
  ];
}

/** One driver's rows under its heading (`arm-smmu-v3 · ARM_64_LPAE_S1 · 4K granule`). */
export interface DemoTableSection {
  title: string;
  rows: string[][];
}

export interface DemoTableLayout {
  head: readonly string[];
  align: readonly ("left" | "center" | "right")[];
  sections: DemoTableSection[];
}

const COMPACT_HEAD = ["scenario", "leaf", "region", "walks", "ratio", "model", "wall ms"] as const;
const COMPACT_ALIGN = ["left", "right", "right", "right", "right", "center", "right"] as const;

/** The heading a row is grouped under: caller (when not VFIO), driver, format, granule. */
export function demoSectionTitle(r: DemoRow): string {
  const caller = r.caller && r.caller !== "vfio" ? `${r.caller}: ` : "";
  return `${caller}${r.driver} · ${r.format} · ${sizeName(r.granule)} granule`;
}

/**
 * The table grouped by driver heading, rows in run order within each group (groups in order
 * of first appearance). Compact (default): scenario, leaf, region, walks, ratio, model check,
 * wall time — under 100 columns; `wide`: every counter ({@link DEMO_TABLE_HEAD} without the
 * driver and granule, which the heading carries).
 */
export function demoTableLayout(rows: readonly DemoRow[], options: { wide?: boolean } = {}): DemoTableLayout {
  const sections = new Map<string, string[][]>();
  for (const r of rows) {
    const title = demoSectionTitle(r);
    const cells = options.wide
      ? demoTableCells(r).filter((_, i) => i !== 1 && i !== 2)
      : [
          r.scenario,
          sizeName(r.leafSize),
          sizeName(r.regionSize),
          arrow(r.walks),
          ratio(r.walks),
          modelCheck(r),
          `${ms(r.ns.legacy)} → ${ms(r.ns.length)}`,
        ];
    const list = sections.get(title);
    if (list) list.push(cells);
    else sections.set(title, [cells]);
  }
  const keep = <T>(a: readonly T[]) => (options.wide ? a.filter((_, i) => i !== 1 && i !== 2) : a);
  return {
    head: options.wide ? keep(DEMO_TABLE_HEAD) : COMPACT_HEAD,
    align: options.wide ? keep(DEMO_TABLE_ALIGN) : COMPACT_ALIGN,
    sections: [...sections].map(([title, list]) => ({ title, rows: list })),
  };
}
