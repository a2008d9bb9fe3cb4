// include/linux/interval_tree.h + drivers/iommu/iommufd/double_span.h: the interval trees of
// an io_pagetable / iopt_pages and the span iterators pages.c and io_pagetable.c walk them with.

/** `struct interval_tree_node`: a closed interval [start, last]. */
export interface ItNode {
  start: number;
  last: number;
}

/**
 * `struct rb_root_cached` of interval nodes, as a sorted array (by start, then last). The
 * model's trees hold a handful of nodes, so a linear scan is the honest cost of an rb-tree
 * here; overlapping nodes are allowed (access_itree has them).
 */
export class IntervalTree<T extends ItNode> {
  readonly nodes: T[] = [];

  get isEmpty(): boolean {
    return this.nodes.length === 0;
  }

  /** `interval_tree_insert` */
  insert(node: T): void {
    let i = this.nodes.length;
    while (i > 0) {
      const p = this.nodes[i - 1]!;
      if (p.start < node.start || (p.start === node.start && p.last <= node.last)) break;
      i--;
    }
    this.nodes.splice(i, 0, node);
  }

  /** `interval_tree_remove` (by identity; absent nodes are ignored). */
  remove(node: T): void {
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  /** `interval_tree_iter_first`: the lowest-start node overlapping [start, last]. */
  iterFirst(start: number, last: number): T | undefined {
    for (const n of this.nodes) {
      if (n.start > last) return undefined;
      if (n.last >= start) return n;
    }
    return undefined;
  }

  /** `interval_tree_iter_next` as a list: every node overlapping [start, last], in order. */
  overlapping(start: number, last: number): T[] {
    const out: T[] = [];
    for (const n of this.nodes) {
      if (n.start > last) break;
      if (n.last >= start) out.push(n);
    }
    return out;
  }

  /**
   * The span of `interval_tree_span_iter` starting at `pos`: the last index of the maximal
   * used (covered by the union of nodes; touching nodes merge) or hole run that starts at
   * `pos`, clamped to `last`. Sets {@link spanUsed}.
   */
  spanEnd(pos: number, last: number): number {
    let covered = pos - 1;
    let next = Number.POSITIVE_INFINITY;
    for (const n of this.nodes) {
      if (n.last < pos) continue;
      if (n.start <= covered + 1) {
        if (n.last > covered) covered = n.last;
      } else {
        next = n.start;
        break;
      }
    }
    if (covered >= pos) {
      this.spanUsed = true;
      return Math.min(covered, last);
    }
    this.spanUsed = false;
    return Math.min(next - 1, last);
  }

  /** Whether the last {@link spanEnd} found a used span. */
  spanUsed = false;
}

/**
 * `interval_tree_for_each_span`: calls `fn(isHole, start, last)` for the alternating used and
 * hole spans of [first, last].
 */
export function forEachSpan<T extends ItNode>(
  tree: IntervalTree<T>,
  first: number,
  last: number,
  fn: (isHole: boolean, start: number, last: number) => boolean | undefined,
): void {
  let pos = first;
  while (pos <= last) {
    const end = tree.spanEnd(pos, last);
    if (fn(!tree.spanUsed, pos, end) === false) return;
    pos = end + 1;
  }
}

/**
 * `interval_tree_for_each_double_span` (double_span.h): spans of [first, last] over two trees.
 * `isUsed` is 1 where the first tree covers the index (it wins), 2 where only the second does,
 * 0 for a hole in both. `fn` returning false stops the walk.
 */
export function forEachDoubleSpan<A extends ItNode, B extends ItNode>(
  t0: IntervalTree<A>,
  t1: IntervalTree<B>,
  first: number,
  last: number,
  fn: (isUsed: 0 | 1 | 2, start: number, last: number) => boolean | undefined,
): void {
  let pos = first;
  while (pos <= last) {
    const e0 = t0.spanEnd(pos, last);
    const e1 = t1.spanEnd(pos, last);
    let end: number;
    let used: 0 | 1 | 2;
    if (t0.spanUsed) {
      used = 1;
      end = e0;
    } else if (t1.spanUsed) {
      used = 2;
      end = Math.min(e1, e0);
    } else {
      used = 0;
      end = Math.min(e1, e0);
    }
    if (fn(used, pos, end) === false) return;
    pos = end + 1;
  }
}
