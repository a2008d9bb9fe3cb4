/**
 * `iommu demo --report FILE.html`: one self-contained page (inline CSS and SVG, no scripts,
 * no external resources) with a log-scale chart of walks per scenario, legacy vs length,
 * followed by the full table.
 */
import type { DemoRow } from "./row.js";
import { demoSectionTitle, demoTableLayout } from "./table-cells.js";

const int = new Intl.NumberFormat("en-US");

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const BAR = 11;
const GAP = 3;
const GROUP = 2 * BAR + GAP + 12;
/** Height of a driver heading in the chart. */
const HEADING = 26;
const LEFT = 230;
const PLOT = 620;
const TOP = 48;
const BOTTOM = 34;

/**
 * The chart alone: rows grouped under their driver headings (`<text class="heading">`), one
 * `<g class="pair">` with a legacy and a length bar per row, the log axis labelled at the top
 * and the bottom. It scales with the window (viewBox, width 100%).
 */
export function renderChart(rows: readonly DemoRow[]): string {
  const max = Math.max(10, ...rows.map((r) => Math.max(r.walks.legacy, r.walks.length)));
  const decades = Math.ceil(Math.log10(max));
  // log10(1 + v) keeps a count of 0 at the axis and 1 visible.
  const x = (v: number) => (Math.log10(1 + v) / decades) * PLOT;
  const titles = rows.map(demoSectionTitle);
  const headings = titles.filter((t, i) => i === 0 || titles[i - 1] !== t).length;
  const height = TOP + headings * HEADING + rows.length * GROUP + BOTTOM;
  const width = LEFT + PLOT + 110;
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" role="img" aria-label="Walks per scenario, legacy vs length-aware (log scale)" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">`,
  );
  parts.push(`<text x="${LEFT}" y="14" class="title">walks per operation (log scale)</text>`);
  parts.push(
    `<rect x="${LEFT + PLOT - 170}" y="4" width="10" height="10" class="legacy"/><text x="${LEFT + PLOT - 155}" y="13" class="legend">legacy</text>`,
  );
  parts.push(
    `<rect x="${LEFT + PLOT - 95}" y="4" width="10" height="10" class="length"/><text x="${LEFT + PLOT - 80}" y="13" class="legend">length-aware</text>`,
  );
  for (let d = 0; d <= decades; d++) {
    const gx = LEFT + (d / decades) * PLOT;
    const tick = esc(int.format(10 ** d));
    parts.push(`<line x1="${gx}" y1="${TOP - 8}" x2="${gx}" y2="${height - BOTTOM + 6}" class="grid"/>`);
    parts.push(`<text x="${gx}" y="${TOP - 14}" class="tick top">${tick}</text>`);
    parts.push(`<text x="${gx}" y="${height - 12}" class="tick bottom">${tick}</text>`);
  }
  let y = TOP;
  rows.forEach((r, i) => {
    if (i === 0 || titles[i - 1] !== titles[i]) {
      parts.push(`<text x="8" y="${y + 17}" class="heading">${esc(titles[i]!)}</text>`);
      y += HEADING;
    }
    parts.push(`<g class="pair" data-scenario="${esc(r.scenario)}" data-granule="${r.granule}">`);
    parts.push(`<text x="${LEFT - 8}" y="${y + BAR + 4}" class="label">${esc(r.scenario)}</text>`);
    for (const [k, dy] of [
      ["legacy", 0],
      ["length", BAR + GAP],
    ] as const) {
      const v = r.walks[k];
      const w = Math.max(1, x(v));
      parts.push(
        `<rect x="${LEFT}" y="${y + dy}" width="${w.toFixed(1)}" height="${BAR}" class="bar ${k}"><title>${esc(`${k}: ${int.format(v)} walks`)}</title></rect>`,
      );
      parts.push(
        `<text x="${LEFT + w + 4}" y="${y + dy + BAR - 2}" class="value">${esc(int.format(v))}</text>`,
      );
    }
    parts.push("</g>");
    y += GROUP;
  });
  parts.push("</svg>");
  return parts.join("\n");
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1500px; }
h1 { font-size: 1.4em; }
.chart { display: block; width: 100%; height: auto; }
.chart text { font: 11px system-ui, sans-serif; fill: #333; }
.chart .title { font-weight: 600; }
.chart .heading { font-weight: 600; font-size: 12px; fill: #111; }
.chart .label { text-anchor: end; }
.chart .tick { text-anchor: middle; fill: #666; }
.chart .grid { stroke: #ddd; }
.chart .legacy { fill: #c0504d; }
.chart .length { fill: #4f81bd; }
table { border-collapse: collapse; margin-top: 2em; font-size: 12px; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { position: sticky; top: 0; background: #f4f4f4; }
tr.group th { text-align: left; background: #e8eef7; font-weight: 600; }
`;

/** The whole page: chart, the model, the table grouped under the same driver headings. */
export function renderReport(
  rows: readonly DemoRow[],
  meta: { generated?: string; version?: string } = {},
): string {
  const layout = demoTableLayout(rows, { wide: true });
  const head = layout.head;
  const body = layout.sections.map(
    (sec) =>
      `<tbody>\n<tr class="group"><th colspan="${head.length}">${esc(sec.title)}</th></tr>\n${sec.rows
        .map((cells) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
        .join("\n")}\n</tbody>`,
  );
  const generated = [
    meta.version ? `iommu ${esc(meta.version)}` : "",
    meta.generated ? `generated ${esc(meta.generated)}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>iommu demo: iova_to_phys_length walk counts</title>
<style>${CSS}</style>
</head>
<body>
<h1>iova_to_phys_length: walks per caller operation, legacy vs length-aware</h1>
<p>Each scenario runs twice on fresh domains (VFIO type1 unmap/replay, and the other callers' rows): once with today's
per-page iommu_iova_to_phys() loop, once stepping by the leaf size iommu_iova_to_phys_length()
reports.${generated ? ` (${generated}.)` : ""}</p>
${renderChart(rows)}
<h2>Model</h2>
<p>With PG = 4 KiB (the CPU page VFIO steps by today), S = region size, N = leaves, R = physically
contiguous runs, H = empty spans (the repository's docs/walk-count-model.md):</p>
<ul>
<li>legacy walks = S/PG + (R − 1), plus one when the mapping ends in a hole;</li>
<li>length-aware walks = N + H (the lookup that ends a run starts the next one);</li>
<li>unmap calls = R; IOTLB syncs = ⌈R / 512⌉, plus one per run after a hole when the driver's
gather cannot span gaps (SMMUv3). Replay maps R runs into the new domain and unmaps nothing.</li>
</ul>
<p>Scenario names follow the 4 KiB granule (2M-on-2M, 1G-on-2M, ...); a 16 KiB or 64 KiB granule
uses its own leaf sizes (32M, 512M) for the same layouts.</p>
<table>
<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead>
${body.join("\n")}
</table>
</body>
</html>
`;
}
