/**
 * Test helper: the text drivers/iommu/intel/debugfs.c prints for a domain's page table
 * (`domain_translation_struct`), produced from a model table's inspector — so the parser can
 * be checked against tables whose every entry is known. Formats per the spec digest
 * (debugfs-dumps.md §2.4): the header, the column line, one row per present leaf in index
 * order with the raw entry of every level on its path, in the current layout (columns below
 * the leaf omitted) or the old one (always five, zeros below the leaf).
 */
import type { PageTableInspector } from "@iommu/core";

const h16 = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;

export function vtdDebugfsText(
  insp: PageTableInspector,
  o: { device: string; pasid?: number; layout: "current" | "old" },
): string {
  const g = insp.geometry();
  const out: string[] = [];
  out.push(
    o.layout === "current"
      ? `Device ${o.device} ${o.pasid === undefined ? "" : `with pasid ${o.pasid.toString(16)} `}@0x${g.root.toString(16)}`
      : `Device ${o.device} with pasid ${o.pasid ?? 0} @0x${g.root.toString(16)}`,
  );
  out.push(
    o.layout === "current"
      ? `${"IOVA_PFN".padEnd(17)}\t${"PML5E".padEnd(18)}\t${"PML4E".padEnd(18)}\t${"PDPE".padEnd(18)}\t${"PDE".padEnd(18)}\tPTE`
      : "IOVA_PFN\tPML5E\tPML4E\tPDPE\tPDE\tPTE",
  );
  // path[l] = the entry at VT-d level l (5 = PML5E … 1 = PTE) on the way to the current leaf.
  const path: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
  insp.visit((e) => {
    const level = e.level + 1;
    for (let l = level; l >= 1; l--) path[l] = 0n;
    path[level] = e.raw;
    if (e.kind !== "leaf") return;
    const cols = [path[5]!, path[4]!, path[3]!];
    if (o.layout === "old") cols.push(path[2]!, path[1]!);
    else {
      if (path[2] !== 0n) cols.push(path[2]!);
      if (path[1] !== 0n) cols.push(path[1]!);
    }
    out.push(
      `0x${(e.iova >> 12n).toString(16).padStart(13, "0")} |${cols.map((c) => `\t${h16(c)}`).join("")}`,
    );
  });
  return `${out.join("\n")}\n\n`;
}
