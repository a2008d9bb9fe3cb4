import type { AppleDartIoPgtable } from "./apple-dart.js";
import { APPLE_DART_PTE_VALID, appleDartAttrsHi, appleDartAttrsLo, appleDartIopteToPaddr } from "./pte.js";

function hex64(lo: number, hi: number, pad: boolean): string {
  const l = lo.toString(16);
  if (pad) return hi.toString(16).padStart(8, "0") + l.padStart(8, "0");
  return hi ? hi.toString(16) + l.padStart(8, "0") : l;
}

/**
 * Every non-zero entry of a DART table in the reference harness's `dump` format: the TTBR
 * tables in order, each followed depth-first by its subtree; tables numbered as printed.
 * Reads memory directly (no PTE counting).
 */
export function appleDartDumpLines(iop: AppleDartIoPgtable): string[] {
  const mem = iop.cfg.allocator.mem;
  const dart2 = iop.isDart2;
  const bpl = iop.bitsPerLevel;
  const top = iop.levels - 1;
  const lines: string[] = [];
  let tables = 0;
  let leaves = 0;
  const visit = (tpa: number, level: number, path: string, iova: bigint): void => {
    const c = mem.chunk(tpa);
    if (!c) return;
    const base = (tpa - c.pa) / 4;
    const span = 1n << BigInt(level * bpl + 3);
    for (let i = 0; i < iop.ptesPerTable; i++) {
      const lo = c.words[base + 2 * i]!;
      const hi = c.words[base + 2 * i + 1]!;
      if (lo === 0 && hi === 0) continue;
      const p = `${path}/${i}`;
      const va = iova + BigInt(i) * span;
      if (level > 1) {
        const attrs = hex64(appleDartAttrsLo(lo, dart2), appleDartAttrsHi(hi, dart2), false);
        lines.push(`L${level} ${p} table#${tables++} iova=0x${va.toString(16)} attrs=0x${attrs}`);
        visit(appleDartIopteToPaddr(lo, hi, dart2), level - 1, p, va);
      } else if (lo & APPLE_DART_PTE_VALID) {
        lines.push(
          `L1 ${p} leaf iova=0x${va.toString(16)} size=0x${iop.pgsize.toString(16)} raw=0x${hex64(lo, hi, true)}`,
        );
        leaves++;
      } else {
        lines.push(`L1 ${p} invalid raw=0x${hex64(lo, hi, true)}`);
      }
    }
  };
  const ttbrSpan = 1n << BigInt(iop.levels * bpl + 3);
  for (let t = 0; t < iop.nTtbrs; t++) {
    const iova = BigInt(t) * ttbrSpan;
    lines.push(`L${top} ttbr${t} table#${tables++} iova=0x${iova.toString(16)} entries=${iop.ptesPerTable}`);
    visit(iop.pgd[t]!, top, String(t), iova);
  }
  lines.push(`end tables=${tables} leaves=${leaves}`);
  return lines;
}
