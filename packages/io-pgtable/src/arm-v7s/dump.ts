import type { ArmV7sIoPgtable } from "./arm-v7s.js";
import {
  ARM_V7S_CONT_SECTION,
  ARM_V7S_L2_ENTRIES,
  ARM_V7S_PTE_TYPE_PAGE,
  ARM_V7S_PTE_TYPE_TABLE,
} from "./defs.js";
import { armV7sIopteToPaddr } from "./pte.js";

function hex8(v: number): string {
  return v.toString(16).padStart(8, "0");
}

/**
 * Every non-zero entry of a v7s table in the reference harness's `dump` format: depth-first,
 * index order, tables numbered as printed, each copy of a 64K / 16M entry marked ` cont`.
 * Reads memory directly (no PTE counting): this is inspection, not a kernel walk.
 */
export function armV7sDumpLines(iop: ArmV7sIoPgtable): string[] {
  const lines = [`L1 pgd table#0 entries=${iop.l1Entries}`];
  const mem = iop.cfg.allocator.mem;
  let tables = 1;
  let leaves = 0;
  for (let i = 0; i < iop.l1Entries; i++) {
    const e = iop.l1Entry(i);
    if (e === 0) continue;
    const iova = i * 2 ** 20;
    if ((e & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      lines.push(`L1 ${i} table#${tables++} iova=0x${iova.toString(16)} attrs=0x${(e & 0x3ff).toString(16)}`);
      const tpa = armV7sIopteToPaddr(e, 1, iop.mtk);
      const c = mem.chunk(tpa);
      if (!c) continue;
      const base = (tpa - c.pa) / 4;
      for (let j = 0; j < ARM_V7S_L2_ENTRIES; j++) {
        const e2 = c.words[base + j]!;
        if (e2 === 0) continue;
        if ((e2 & 3) === 0) {
          lines.push(`L2 ${i}/${j} invalid raw=0x${hex8(e2)}`);
          continue;
        }
        const cont = (e2 & ARM_V7S_PTE_TYPE_PAGE) === 0 ? " cont" : "";
        const va = iova + j * 4096;
        lines.push(`L2 ${i}/${j} leaf iova=0x${va.toString(16)} size=0x1000 raw=0x${hex8(e2)}${cont}`);
        leaves++;
      }
    } else if ((e & 3) !== 0) {
      const cont = e & ARM_V7S_CONT_SECTION ? " cont" : "";
      lines.push(`L1 ${i} leaf iova=0x${iova.toString(16)} size=0x100000 raw=0x${hex8(e)}${cont}`);
      leaves++;
    } else {
      lines.push(`L1 ${i} invalid raw=0x${hex8(e)}`);
    }
  }
  lines.push(`end tables=${tables} leaves=${leaves}`);
  return lines;
}
