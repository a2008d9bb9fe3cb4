/** The demo's one table, drawn with cli-table3 from @iommu/script's cells. */
import { DEMO_TABLE_ALIGN, DEMO_TABLE_HEAD, type DemoRow, demoTableCells } from "@iommu/script";
import Table from "cli-table3";

export function renderTable(rows: readonly DemoRow[], options: { color?: boolean } = {}): string {
  const table = new Table({
    head: [...DEMO_TABLE_HEAD],
    colAligns: [...DEMO_TABLE_ALIGN],
    // compact: no rule between rows (70-odd of them), only under the header.
    style: { head: options.color ? ["cyan"] : [], border: options.color ? ["grey"] : [], compact: true },
  });
  for (const r of rows) table.push(demoTableCells(r));
  return table.toString();
}
