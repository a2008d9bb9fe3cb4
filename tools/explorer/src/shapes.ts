// tools/explorer: the view as a list of shapes, one backend-free step between the layout and
// the canvas (drawn every frame) or an SVG export. Only what is inside the IOVA window is
// visited (binary search per row), and leaves narrower than a pixel collapse into one shape
// per pixel column, so a 1 GiB table of 4 KiB pages draws as fast as one of 2 MiB blocks.
import type { PageTableWalk } from "@iommu/core";
import { type Block, firstEndingAfter, type TableLayout } from "./layout.js";
import { hexAddr, leafColour, sizeLabel } from "./sizes.js";

/** The IOVA window drawn across the width. */
export interface View {
  readonly start: number;
  readonly span: number;
}

export type ShapeKind =
  | "table-page"
  | "leaf"
  | "table-entry"
  | "invalid"
  | "hole"
  | "walk"
  | "range"
  | "focus";

export interface Shape {
  readonly kind: ShapeKind;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly fill?: string;
  readonly stroke?: string;
  readonly dash?: boolean;
  readonly lineWidth?: number;
  readonly label?: string;
  readonly labelColour?: string;
}

export const AXIS_H = 20;
export const ROW_H = 58;
export const BAND_H = 16;
const GAP = 6;

/** Canvas height for `rows` levels. */
export function viewHeight(rows: number): number {
  return AXIS_H + rows * ROW_H + 4;
}

/** Row of a y coordinate, or -1. */
export function rowAtY(y: number, rows: number): number {
  const r = Math.floor((y - AXIS_H) / ROW_H);
  return r >= 0 && r < rows ? r : -1;
}

export interface ShapeOptions {
  readonly width: number;
  readonly walk?: PageTableWalk | null;
  readonly range?: { readonly from: number; readonly size: number } | null;
  readonly focus?: Block | null;
  /** IOVA of the loop step being shown (comparison playback). */
  readonly probe?: number | null;
}

export interface ShapeList {
  readonly shapes: Shape[];
  /** Leaf blocks inside the window (collapsed ones included). */
  readonly leavesInView: number;
}

/** Shapes of `layout` seen through `view`, back to front. */
export function shapesOf(layout: TableLayout, view: View, o: ShapeOptions): ShapeList {
  const shapes: Shape[] = [];
  const scale = o.width / view.span;
  const end = view.start + view.span;
  const xOf = (iova: number) => (iova - view.start) * scale;
  const clip = (a: number, b: number): [number, number] => {
    const x0 = Math.max(-1, xOf(a));
    const x1 = Math.min(o.width + 1, xOf(b));
    return [x0, x1 - x0];
  };
  let leavesInView = 0;
  for (const row of layout.rows) {
    const y = AXIS_H + row.depth * ROW_H;
    const ey = y + BAND_H + 2;
    const eh = ROW_H - BAND_H - GAP - 2;
    const level = row.blocks[0]?.pte.level ?? (row.depth === 0 ? layout.geometry.topLevel : "?");
    for (let i = firstEndingAfter(row.tables, view.start); i < row.tables.length; i++) {
      const t = row.tables[i]!;
      if (t.start >= end) break;
      const [x, w] = clip(t.start, t.start + t.size);
      if (w < 0.5) continue;
      shapes.push({
        kind: "table-page",
        x,
        y,
        w,
        h: BAND_H,
        fill: t.missing ? "#f6d5d5" : "#e4e7ec",
        stroke: "#4a5160",
        label: w > 90 ? `L${level} table ${hexAddr(t.addr)}${t.missing ? " missing" : ""}` : undefined,
        labelColour: "#111827",
      });
    }
    for (let i = firstEndingAfter(row.holes, view.start); i < row.holes.length; i++) {
      const h = row.holes[i]!;
      if (h.start >= end) break;
      const [x, w] = clip(h.start, h.start + h.size);
      if (w < 3) continue;
      shapes.push({
        kind: "hole",
        x: x + 1,
        y: ey,
        w: w - 2,
        h: eh,
        stroke: "#9aa1ad",
        dash: true,
        label: w > 44 ? `hole ${sizeLabel(h.size)}` : undefined,
        labelColour: "#374151",
      });
    }
    let lastPx = Number.NEGATIVE_INFINITY;
    for (let i = firstEndingAfter(row.blocks, view.start); i < row.blocks.length; i++) {
      const b = row.blocks[i]!;
      if (b.start >= end) break;
      if (b.kind === "leaf") leavesInView++;
      const [x, w] = clip(b.start, b.start + b.size);
      if (w < 1) {
        // Sub-pixel entries: one shape per pixel column.
        const px = Math.floor(x);
        if (px === lastPx) continue;
        lastPx = px;
        shapes.push({ kind: kindOf(b), x: px, y: ey, w: 1, h: eh, fill: fillOf(b) });
        continue;
      }
      shapes.push({
        kind: kindOf(b),
        x,
        y: ey,
        w,
        h: eh,
        fill: fillOf(b),
        stroke: w > 4 ? "#ffffff" : undefined,
        label: w > 40 ? labelOf(b) : undefined,
        labelColour: b.kind === "table" ? "#111827" : "#ffffff",
      });
    }
  }
  const bottom = AXIS_H + layout.rows.length * ROW_H;
  if (o.range && o.range.size > 0) {
    const [x, w] = clip(o.range.from, o.range.from + o.range.size);
    if (w > -1)
      shapes.push({
        kind: "range",
        x,
        y: AXIS_H,
        w: Math.max(w, 2),
        h: bottom - AXIS_H,
        fill: "rgba(250, 204, 21, 0.25)",
        stroke: "#a16207",
      });
  }
  if (o.walk) {
    for (const s of o.walk.steps) {
      const size = s.kind === "leaf" ? (s.leafSize ?? s.itemSize) : s.itemSize;
      const start =
        Number(s.iova) - (s.kind === "leaf" && size > s.itemSize ? (s.contigIndex ?? 0) * s.itemSize : 0);
      const [x, w] = clip(start, start + size);
      const y = AXIS_H + s.depth * ROW_H + BAND_H + 2;
      shapes.push({
        kind: "walk",
        x: x - 1,
        y: y - 1,
        w: Math.max(w, 3) + 2,
        h: ROW_H - BAND_H - GAP,
        stroke: "#000000",
        lineWidth: 3,
      });
    }
    const [x] = clip(Number(o.walk.iova), Number(o.walk.iova));
    shapes.push({ kind: "walk", x, y: AXIS_H, w: 0, h: bottom - AXIS_H, stroke: "#dc2626", lineWidth: 2 });
  }
  if (o.probe !== undefined && o.probe !== null) {
    const [x] = clip(o.probe, o.probe);
    shapes.push({ kind: "walk", x, y: AXIS_H, w: 0, h: bottom - AXIS_H, stroke: "#2563eb", lineWidth: 2 });
  }
  if (o.focus) {
    const b = o.focus;
    const [x, w] = clip(b.start, b.start + b.size);
    shapes.push({
      kind: "focus",
      x: x - 2,
      y: AXIS_H + b.depth * ROW_H + BAND_H,
      w: Math.max(w, 3) + 4,
      h: ROW_H - BAND_H - GAP + 2,
      stroke: "#2563eb",
      dash: true,
      lineWidth: 2,
    });
  }
  return { shapes, leavesInView };
}

function kindOf(b: Block): ShapeKind {
  return b.kind === "leaf" ? "leaf" : b.kind === "table" ? "table-entry" : "invalid";
}

function fillOf(b: Block): string {
  if (b.kind === "leaf") return leafColour(b.size);
  if (b.kind === "table") return b.pte.tableMissing ? "#f3b4b4" : "#c9ced8";
  return "#b91c1c";
}

function labelOf(b: Block): string {
  if (b.kind === "leaf")
    return `${sizeLabel(b.size)}${b.items > 1 ? ` ×${b.items}` : ""} → ${hexAddr(b.pte.phys ?? 0n)}`;
  if (b.kind === "table") return `[${b.pte.index}] → ${hexAddr(b.pte.nextTable ?? 0)}`;
  return `invalid ${hexAddr(b.pte.raw)}`;
}

/** Axis ticks: about `n` round IOVAs across the window. */
export function axisTicks(view: View, width: number, n = 6): { x: number; label: string }[] {
  const raw = view.span / n;
  const step = 2 ** Math.max(12, Math.round(Math.log2(raw)));
  const first = Math.ceil(view.start / step) * step;
  const out: { x: number; label: string }[] = [];
  for (let v = first; v < view.start + view.span && out.length < 64; v += step)
    out.push({ x: ((v - view.start) / view.span) * width, label: hexAddr(v) });
  return out;
}

/** The whole view as an SVG document (what "export SVG" saves). */
export function svgOf(layout: TableLayout, view: View, o: ShapeOptions): string {
  const { shapes } = shapesOf(layout, view, o);
  const h = viewHeight(layout.rows.length);
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${h}" viewBox="0 0 ${o.width} ${h}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  for (const t of axisTicks(view, o.width))
    parts.push(`<text x="${t.x.toFixed(1)}" y="13" fill="#374151">${t.label}</text>`);
  for (const s of shapes) {
    const attrs = [
      `x="${s.x.toFixed(1)}" y="${s.y}" width="${Math.max(s.w, 0).toFixed(1)}" height="${s.h}"`,
      `fill="${s.fill ?? "none"}"`,
      s.stroke ? `stroke="${s.stroke}" stroke-width="${s.lineWidth ?? 1}"` : "",
      s.dash ? `stroke-dasharray="4 3"` : "",
    ];
    parts.push(`<rect ${attrs.filter(Boolean).join(" ")}/>`);
    if (s.label)
      parts.push(
        `<text x="${(s.x + 4).toFixed(1)}" y="${s.y + 12}" fill="${s.labelColour ?? "#000"}">${esc(s.label)}</text>`,
      );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
