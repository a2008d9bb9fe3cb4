/**
 * Model-only inspection of the 32-bit two-level tables of exynos-iommu.c, rockchip-iommu.c and
 * sun50i-iommu.c (read back as their debug paths would): a level-1 table of `l1Entries` 32-bit
 * entries of `l1Span` bytes each, whose table entries point at level-2 tables of `l2Entries`
 * entries of `l2Span` bytes, over a 32-bit IOVA space. The walk and the visit are the same for
 * all of them; what an entry means — its bit layout — is each driver's {@link TwoLevelTable32.info}.
 * Not a hot path: bigints throughout, like every inspector.
 */
import type { Addr } from "./addr.js";
import { u64Of } from "./inspect.js";
import type { PageTableVisitOptions, PageTableWalk, PteInfo } from "./inspector.js";
import type { PhysMem } from "./phys-mem.js";

const U32 = 1n << 32n;

/** Model-only: where a two-level 32-bit table lives, its shape, and how its driver decodes an entry. */
export interface TwoLevelTable32 {
  readonly mem: PhysMem;
  /** PA of the level-1 table. */
  readonly root: number;
  readonly l1Entries: number;
  /** IOVA bytes one level-1 entry covers (`l2Entries · l2Span`). */
  readonly l1Span: number;
  readonly l2Entries: number;
  readonly l2Span: number;
  /** Entry `index` (raw value `ent`, first IOVA `iova`) of the level-`level` table at `tableAddr`, decoded. */
  info(level: 1 | 2, tableAddr: number, index: number, ent: number, iova: bigint): PteInfo;
  /** Level-1 values a visit passes over as empty besides 0 (exynos: the zero level-2 link). */
  l1Empty?(ent: number): boolean;
}

/**
 * Model-only `PageTableInspector.walk` of a {@link TwoLevelTable32}: the level-1 entry, then the
 * level-2 entry below a table entry; a leaf's translation is its unit's first byte + the offset
 * in the unit (`leafSize`, contiguous copies rewound by `contigIndex`).
 */
export function walkTwoLevel32(t: TwoLevelTable32, iova: Addr): PageTableWalk {
  const va = u64Of(iova);
  if (va >= U32) return { iova: va, steps: [], end: "out-of-range" };
  const { mem, root } = t;
  if (mem.chunk(root) === undefined) return { iova: va, steps: [], end: "missing-table" };
  const v = Number(va);
  const i = Math.floor(v / t.l1Span);
  const steps: PteInfo[] = [];
  let e = t.info(1, root, i, mem.read32(root + 4 * i), BigInt(i * t.l1Span));
  steps.push(e);
  if (e.kind === "table") {
    if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
    const j = Math.floor((v - i * t.l1Span) / t.l2Span);
    const table = e.nextTable!;
    e = t.info(2, table, j, mem.read32(table + 4 * j), BigInt(i * t.l1Span + j * t.l2Span));
    steps.push(e);
  }
  if (e.kind !== "leaf") return { iova: va, steps, end: "hole", length: e.itemSize };
  const unit = e.leafSize ?? e.itemSize;
  const first = e.phys! - BigInt((e.contigIndex ?? 0) * e.itemSize);
  return { iova: va, steps, end: "leaf", phys: first + (va % BigInt(unit)), length: unit };
}

/**
 * Model-only `PageTableInspector.visit` of a {@link TwoLevelTable32}: every non-empty level-1
 * entry overlapping the window, and below each table entry (unless the visitor returned false
 * for it, or its table is not in memory) every non-zero level-2 entry overlapping the window.
 */
export function visitTwoLevel32(
  t: TwoLevelTable32,
  visitor: (entry: PteInfo) => unknown,
  options?: PageTableVisitOptions,
): void {
  const { mem, root } = t;
  if (mem.chunk(root) === undefined) return;
  const from = options?.from === undefined ? 0n : u64Of(options.from);
  const to = options?.to === undefined ? U32 - 1n : u64Of(options.to);
  const l1Span = BigInt(t.l1Span);
  const l2Span = BigInt(t.l2Span);
  for (let i = 0; i < t.l1Entries; i++) {
    const lo = BigInt(i) * l1Span;
    if (lo + l1Span - 1n < from || lo > to) continue;
    const ent = mem.read32(root + 4 * i);
    if (ent === 0 || t.l1Empty?.(ent)) continue;
    const e = t.info(1, root, i, ent, lo);
    if (visitor(e) === false || e.kind !== "table" || e.tableMissing) continue;
    const table = e.nextTable!;
    for (let j = 0; j < t.l2Entries; j++) {
      const va = lo + BigInt(j) * l2Span;
      if (va + l2Span - 1n < from || va > to) continue;
      const pte = mem.read32(table + 4 * j);
      if (pte !== 0) visitor(t.info(2, table, j, pte, va));
    }
  }
}
