// Test helper (not published): the reference model the property tests check the GPU page
// tables against — one expected physical address per mapped 4 KiB GPU page — and a checker
// that compares an io-pgtable's translations with it page by page.

import { SZ_4K } from "@iommu/core";
import type { IoPgtableOps } from "@iommu/io-pgtable";
import { ioPgtableIovaToPhys } from "@iommu/io-pgtable";

/** Expected translations: GPU page VA → physical address (absent = unmapped). */
export class PageRef {
  readonly pages = new Map<number, number>();

  set(va: number, phys: number): void {
    this.pages.set(va, phys);
  }

  clear(va: number, size: number): void {
    for (let a = va; a < va + size; a += SZ_4K) this.pages.delete(a);
  }

  get(va: number): number {
    return this.pages.get(va) ?? 0;
  }
}

/**
 * Every page of [from, to) must translate as `ref` says (0 = unmapped). Returns the first
 * disagreement as text, or null. Lookups go straight to the ops (the drivers' walk counters
 * are not touched).
 */
export function diffTranslations(ops: IoPgtableOps, ref: PageRef, from: number, to: number): string | null {
  for (let va = from; va < to; va += SZ_4K) {
    const got = Number(ioPgtableIovaToPhys(ops, va));
    const want = ref.get(va);
    if (got !== want)
      return `va 0x${va.toString(16)}: table 0x${got.toString(16)}, reference 0x${want.toString(16)}`;
  }
  return null;
}
