/**
 * The demo table's content: header, column alignment and one row of cells per measured
 * scenario. Drawing it (cli-table3 in the CLI, HTML in the report) is the caller's.
 */
import type { DemoRow, Pair } from "./row.js";
import { sizeName } from "./scenarios.js";

const int = new Intl.NumberFormat("en-US");

/** `legacy → length` with thousands separators. */
export function arrow(p: Pair): string {
  return `${int.format(p.legacy)} → ${int.format(p.length)}`;
}

/** legacy / length, one decimal below 10. */
export function ratio(p: Pair): string {
  if (p.length === 0) return p.legacy === 0 ? "1×" : "∞";
  const r = p.legacy / p.length;
  return `${r >= 10 ? int.format(Math.round(r)) : r.toFixed(1)}×`;
}

function ms(ns: number): string {
  const v = ns / 1e6;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** ✓ when the walks are what the §7 formulas predict, else the prediction. */
function modelCheck(r: DemoRow): string {
  const e = r.expected;
  if (!e) return "";
  return e.legacy === r.walks.legacy && e.length === r.walks.length ? "✓" : `✗ ${arrow(e)}`;
}

export const DEMO_TABLE_HEAD: readonly string[] = [
  "scenario",
  "driver",
  "granule",
  "leaf",
  "region",
  "walks (legacy → length)",
  "ratio",
  "§7",
  "PTE reads",
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
    arrow(r.unmapCalls),
    arrow(r.iotlbSyncs),
    `${ms(r.ns.legacy)} → ${ms(r.ns.length)}`,
  ];
}
