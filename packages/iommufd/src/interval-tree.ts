// include/linux/interval_tree.h + drivers/iommu/iommufd/double_span.h: the interval trees of
// an io_pagetable / iopt_pages and the span iterators pages.c and io_pagetable.c walk them with.

/** A tree key: `number` for page indices, `bigint` for IOVAs (exact to 2^64 − 1). */
export type ItKey = number | bigint;

/** `struct interval_tree_node`: a closed interval [start, last] of page indices. */
export interface ItNode {
  start: number;
  last: number;
}

/**
 * `struct interval_tree_node` over the IOVA space (`unsigned long` start/last): bigint keys, so
 * every IOVA up to 2^64 − 1 is exact (the area, allowed and reserved trees).
 */
export interface IovaNode {
  start: bigint;
  last: bigint;
}

/** The closed interval of a tree node, with keys of one type. */
export type ItInterval<K extends ItKey> = { start: K; last: K };

/** Model-only: the smaller of two keys of one type (`min()`; Math.min takes no bigint). */
export function keyMin<K extends ItKey>(a: K, b: K): K {
  return b < a ? b : a;
}

/** `x + 1` in the key's own type (no mixing of number and bigint). */
function succ<K extends ItKey>(x: K): K {
  return (typeof x === "bigint" ? x + 1n : (x as number) + 1) as K;
}

/** `x − 1` in the key's own type. */
function pred<K extends ItKey>(x: K): K {
  return (typeof x === "bigint" ? x - 1n : (x as number) - 1) as K;
}

/**
 * `struct rb_root_cached` of interval nodes, as a sorted array (by start, then last). The
 * model's trees hold a handful of nodes, so a linear scan is the honest cost of an rb-tree
 * here; overlapping nodes are allowed (access_itree has them). Keys are numbers (index trees)
 * or bigints (IOVA trees); one tree never mixes them.
 */
export class IntervalTree<T extends ItInterval<K>, K extends ItKey = T["start"]> {
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
  iterFirst(start: K, last: K): T | undefined {
    for (const n of this.nodes) {
      if (n.start > last) return undefined;
      if (n.last >= start) return n;
    }
    return undefined;
  }

  /** `interval_tree_iter_next` as a list: every node overlapping [start, last], in order. */
  overlapping(start: K, last: K): T[] {
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
   * `pos`, clamped to `last`. Sets {@link spanUsed}. Never computes past `last` (a span that
   * ends at 2^64 − 1 does not wrap).
   */
  spanEnd(pos: K, last: K): K {
    let used = false;
    let covered = pos;
    let next: K | null = null;
    for (const n of this.nodes) {
      if (n.last < pos) continue;
      if (n.start <= (used ? succ(covered) : pos)) {
        if (!used || n.last > covered) covered = n.last;
        used = true;
      } else {
        next = n.start;
        break;
      }
    }
    if (used) {
      this.spanUsed = true;
      return keyMin(covered, last);
    }
    this.spanUsed = false;
    if (next === null) return last;
    const end = pred(next);
    return keyMin(end, last);
  }

  /** Whether the last {@link spanEnd} found a used span. */
  spanUsed = false;
}

/**
 * `interval_tree_for_each_span`: calls `fn(isHole, start, last)` for the alternating used and
 * hole spans of [first, last].
 */
export function forEachSpan<T extends ItInterval<K>, K extends ItKey>(
  tree: IntervalTree<T, K>,
  first: K,
  last: K,
  fn: (isHole: boolean, start: K, last: K) => boolean | undefined,
): void {
  if (first > last) return;
  let pos = first;
  for (;;) {
    const end = tree.spanEnd(pos, last);
    if (fn(!tree.spanUsed, pos, end) === false) return;
    if (end >= last) return;
    pos = succ(end);
  }
}

/**
 * `interval_tree_for_each_double_span` (double_span.h): spans of [first, last] over two trees.
 * `isUsed` is 1 where the first tree covers the index (it wins), 2 where only the second does,
 * 0 for a hole in both. `fn` returning false stops the walk.
 */
export function forEachDoubleSpan<A extends ItInterval<K>, B extends ItInterval<K>, K extends ItKey>(
  t0: IntervalTree<A, K>,
  t1: IntervalTree<B, K>,
  first: K,
  last: K,
  fn: (isUsed: 0 | 1 | 2, start: K, last: K) => boolean | undefined,
): void {
  if (first > last) return;
  let pos = first;
  for (;;) {
    const e0 = t0.spanEnd(pos, last);
    const e1 = t1.spanEnd(pos, last);
    let end: K;
    let used: 0 | 1 | 2;
    if (t0.spanUsed) {
      used = 1;
      end = e0;
    } else {
      used = t1.spanUsed ? 2 : 0;
      end = keyMin(e0, e1);
    }
    if (fn(used, pos, end) === false) return;
    if (end >= last) return;
    pos = succ(end);
  }
}
