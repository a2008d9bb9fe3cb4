/**
 * Which entries of a radix page table hold a next-level table: the part of a format's state
 * that translations do not show (tables outlive their leaves in io-pgtable), needed to predict
 * a format's exact return values and hole spans at the `io_pgtable_ops` level. Used with a
 * {@link ReferenceMap} for the leaves.
 */
export class TableShadow {
  private readonly sets: Array<Set<number>>;

  /**
   * @param spans bytes covered by one entry of each level, top level first (e.g. ARM LPAE 4K
   * with 4 levels: 512G, 1G, 2M, 4K). The last level holds leaves only.
   */
  constructor(readonly spans: readonly number[]) {
    this.sets = spans.map(() => new Set<number>());
  }

  /** Whether the entry of `level` (index into spans) covering `iova` holds a table. */
  has(level: number, iova: number): boolean {
    return this.sets[level]?.has(Math.floor(iova / this.spans[level]!)) ?? false;
  }

  /** Install a table under the entry of `level` covering `iova`. */
  install(level: number, iova: number): void {
    if (level >= this.spans.length - 1)
      throw new Error("TableShadow.install: the last level holds no tables");
    this.sets[level]!.add(Math.floor(iova / this.spans[level]!));
  }

  /** Tables on the path to a leaf of `leafLevel` at `iova`: every level above it. */
  ensurePath(iova: number, leafLevel: number): void {
    for (let l = 0; l < leafLevel; l++) this.install(l, iova);
  }

  /** The entry of `level` covering `iova` loses its table and every table below it. */
  drop(level: number, iova: number): void {
    const span = this.spans[level]!;
    const lo = Math.floor(iova / span) * span;
    for (let m = level; m < this.sets.length; m++) {
      const b = this.spans[m]!;
      for (const k of [...this.sets[m]!]) if (k * b >= lo && k * b < lo + span) this.sets[m]!.delete(k);
    }
  }

  /** Level (index into spans) of the first entry on `iova`'s path that holds no table. */
  depth(iova: number): number {
    let l = 0;
    while (l < this.spans.length - 1 && this.has(l, iova)) l++;
    return l;
  }

  /** Span of the entry a walk of an unmapped `iova` stops at. */
  holeSpan(iova: number): number {
    return this.spans[this.depth(iova)]!;
  }

  /** Tables below the top table (the top table itself not counted). */
  get count(): number {
    let n = 0;
    for (const s of this.sets) n += s.size;
    return n;
  }
}
