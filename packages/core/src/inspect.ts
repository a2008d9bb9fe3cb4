/**
 * Helpers over the inspection contract (inspector.ts): reach a domain's inspector, and derive
 * table statistics from any inspector's visit so every format reports them alike.
 */
import type { IommuDomain } from "./domain.js";
import type { PageTableInspector, PageTableStats, PteInfo } from "./inspector.js";

/** Model-only: the inspector of a domain's page table, or null (no table, or not inspectable). */
export function iommuDomainInspector(domain: IommuDomain): PageTableInspector | null {
  return domain.ops?.inspect?.(domain) ?? null;
}

/**
 * Model-only: {@link PageTableStats} computed from a visit. Formats implement `stats()` with
 * it: `stats() { return pageTableStatsOf((v) => this.visit(v)); }`.
 */
export function pageTableStatsOf(visit: (visitor: (e: PteInfo) => void) => void): PageTableStats {
  const tablesByDepth: number[] = [1];
  const leavesBySize = new Map<number, number>();
  let tables = 1;
  let leafItems = 0;
  let invalidNonZero = 0;
  let missingTables = 0;
  let mappedBytes = 0n;
  visit((e) => {
    if (e.kind === "table") {
      if (e.tableMissing) {
        missingTables++;
        return;
      }
      tables++;
      tablesByDepth[e.depth + 1] = (tablesByDepth[e.depth + 1] ?? 0) + 1;
    } else if (e.kind === "leaf") {
      leafItems++;
      mappedBytes += BigInt(e.itemSize);
      if (!e.contigIndex) {
        const size = e.leafSize ?? e.itemSize;
        leavesBySize.set(size, (leavesBySize.get(size) ?? 0) + 1);
      }
    } else invalidNonZero++;
  });
  for (let i = 0; i < tablesByDepth.length; i++) tablesByDepth[i] ??= 0;
  return { tables, tablesByDepth, leafItems, leavesBySize, invalidNonZero, missingTables, mappedBytes };
}
