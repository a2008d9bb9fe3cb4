/**
 * `phys_to_virt()` of a page table, as the model pays for it: the kernel reaches a table's
 * entries from its physical address for free, the model looks the address up in
 * {@link PhysMem} (a map lookup). Drivers keep the last table a walk resolved in a
 * `TableView`, so a run of walks through one table looks memory up once (rockchip, sun50i
 * page tables, omap L2 tables). Hot path: allocates nothing.
 */
import type { PhysMem } from "./phys-mem.js";

const NO_WORDS = new Uint32Array(0);

/** Model-only: the last page table resolved — its PA, its memory's words, the index of its entry 0. */
export class TableView {
  /** PA of the table viewed; -1: none. */
  pa = -1;
  /** Words of the memory holding the table (empty: none). */
  words: Uint32Array = NO_WORDS;
  /** Word index of the table's entry 0 in {@link words}. */
  base = 0;

  /**
   * View the table at `pa` (it must lie in one memory chunk, as every naturally aligned table
   * of at most 4 KiB does): the word index of its entry 0 in {@link words}, or -1 where no
   * memory is (the view is left as it was).
   */
  resolve(mem: PhysMem, pa: number): number {
    if (pa === this.pa) return this.base;
    const c = mem.chunk(pa);
    if (c === undefined) return -1;
    this.pa = pa;
    this.words = c.words;
    this.base = (pa - c.pa) >>> 2;
    return this.base;
  }

  /** Forget the view: the table may be freed and its address come back as other memory. */
  drop(): void {
    this.pa = -1;
    this.words = NO_WORDS;
    this.base = 0;
  }
}
