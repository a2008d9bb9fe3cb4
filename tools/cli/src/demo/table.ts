/** The demo's table, drawn with cli-table3 from @iommu/script's layout: one heading row per driver. */
import { type DemoRow, demoTableLayout } from "@iommu/script";
import Table from "cli-table3";

export interface TableOptions {
  color?: boolean;
  /** Every counter column (PTE reads, unmap calls, IOTLB syncs); default: fits 100 columns. */
  wide?: boolean;
}

export function renderTable(rows: readonly DemoRow[], options: TableOptions = {}): string {
  const layout = demoTableLayout(rows, { wide: options.wide });
  const table = new Table({
    head: [...layout.head],
    colAligns: [...layout.align],
    // compact: no rule between rows, only under the header and around driver headings.
    style: { head: options.color ? ["cyan"] : [], border: options.color ? ["grey"] : [], compact: true },
  });
  for (const s of layout.sections) {
    table.push([{ colSpan: layout.head.length, content: s.title, hAlign: "left" }]);
    for (const cells of s.rows) table.push(cells);
  }
  const legend = "walks: iommu_iova_to_phys() calls, legacy → length-aware; model: docs/walk-count-model.md";
  return `${table.toString()}\n${legend}`;
}
