// lib/interval_tree.c (include/linux/interval_tree_generic.h): the augmented tree of
// `struct viommu_mapping` the driver keeps per domain, and the device per domain.
//
// Hot path: the translation of every lookup. Nodes live in typed arrays (struct of arrays,
// handles are indices) and the tree is a treap whose nodes carry the largest end of their
// subtree, like the kernel's `__subtree_last`: insert, remove and the overlap search are
// O(log n) and allocate nothing (the arrays double when full). Intervals are half-open
// [start, end) numbers: exact for granule-aligned addresses (multiples of 4 KiB up to 2^64).

const NIL = -1;

/**
 * `struct rb_root_cached` of `struct interval_tree_node`, with the mapping's payload
 * (`paddr`, `flags`) kept beside each node. Overlapping intervals are allowed (the driver does
 * not check); equal starts keep insertion order, as `interval_tree_insert()` puts an equal key
 * to the right. Node handles stay valid until that node is removed.
 */
export class IntervalTree {
  private start = new Float64Array(16);
  private end = new Float64Array(16);
  private maxEnd = new Float64Array(16);
  private paddr = new Float64Array(16);
  private flagsOf = new Uint32Array(16);
  /** Insertion sequence: the tie-break of equal starts. */
  private seq = new Float64Array(16);
  private prio = new Uint32Array(16);
  private left = new Int32Array(16);
  private right = new Int32Array(16);
  private root = NIL;
  private used = 0;
  private freeHead = NIL;
  private count = 0;
  private nextSeq = 0;
  private rng = 0x9e3779b9;
  // split() results (no tuple allocation).
  private sl = NIL;
  private sr = NIL;
  /** Largest end of the intervals ordered before the last {@link lookup} result. */
  private skipped = 0;
  private readonly stack: number[] = [];
  private readonly iterStack: number[] = [];
  private iterDepth = 0;

  /** Number of intervals. */
  get size(): number {
    return this.count;
  }

  /** Start of node `n` (inclusive). */
  startOf(n: number): number {
    return this.start[n]!;
  }
  /** End of node `n` (exclusive): `iova.last + 1`. */
  endOf(n: number): number {
    return this.end[n]!;
  }
  paddrOf(n: number): number {
    return this.paddr[n]!;
  }
  flagsAt(n: number): number {
    return this.flagsOf[n]!;
  }

  /** `interval_tree_insert()`: add [start, end) → paddr; returns the node. */
  insert(start: number, end: number, paddr: number, flags: number): number {
    const n = this.allocNode();
    this.start[n] = start;
    this.end[n] = end;
    this.maxEnd[n] = end;
    this.paddr[n] = paddr;
    this.flagsOf[n] = flags;
    const q = this.nextSeq++;
    this.seq[n] = q;
    this.rng ^= this.rng << 13;
    this.rng ^= this.rng >>> 17;
    this.rng ^= this.rng << 5;
    this.prio[n] = this.rng >>> 0;
    this.left[n] = NIL;
    this.right[n] = NIL;
    this.split(this.root, start, q);
    const r = this.sr;
    this.root = this.merge(this.merge(this.sl, n), r);
    this.count++;
    return n;
  }

  /** `interval_tree_remove()` */
  remove(n: number): void {
    const s = this.start[n]!;
    const q = this.seq[n]!;
    this.split(this.root, s, q);
    const l = this.sl;
    this.split(this.sr, s, q + 1); // sl = {n}
    this.root = this.merge(l, this.sr);
    this.left[n] = this.freeHead;
    this.freeHead = n;
    this.count--;
  }

  /** Remove every interval. */
  clear(): void {
    this.root = NIL;
    this.used = 0;
    this.freeHead = NIL;
    this.count = 0;
  }

  /**
   * `interval_tree_iter_first(root, lo, last)`: the first interval in start order that
   * overlaps [lo, hi) — start < hi and end > lo — or -1.
   */
  first(lo: number, hi: number): number {
    return this.search(lo, hi, false);
  }

  /**
   * `interval_tree_iter_first(root, x, x)`: the first interval containing `x`, or -1. Also
   * records the largest end among the intervals ordered before it ({@link endBefore}).
   */
  lookup(x: number): number {
    return this.search(x, x, true);
  }

  /** After a successful {@link lookup}: the largest end of the intervals before the result (≤ x). */
  get endBefore(): number {
    return this.skipped;
  }

  private search(lo: number, hi: number, inclusive: boolean): number {
    let n = this.root;
    this.skipped = 0;
    if (n === NIL || this.maxEnd[n]! <= lo) return NIL;
    const left = this.left;
    const maxEnd = this.maxEnd;
    for (;;) {
      const l = left[n]!;
      if (l !== NIL) {
        if (maxEnd[l]! > lo) {
          n = l;
          continue;
        }
        if (maxEnd[l]! > this.skipped) this.skipped = maxEnd[l]!;
      }
      const s = this.start[n]!;
      if (inclusive ? s <= hi : s < hi) {
        const e = this.end[n]!;
        if (e > lo) return n;
        if (e > this.skipped) this.skipped = e;
        const r = this.right[n]!;
        if (r !== NIL && maxEnd[r]! > lo) {
          n = r;
          continue;
        }
      }
      return NIL;
    }
  }

  /**
   * `interval_tree_iter_first(root, lo, hi − 1)` then `interval_tree_iter_next()` until the
   * end: call `fn(n, before)` for every interval overlapping [lo, hi), in order (start, then
   * insertion), pruning subtrees whose largest end is ≤ lo as the kernel's iterator does.
   * `before` is the largest end of the intervals ordered before the first overlapping one
   * (each ≤ lo). `fn` must not change the tree; returning exactly false stops. Returns the
   * start of the first interval at or after `hi` the walk read (+Infinity when it reached the
   * end of the tree or was stopped); {@link lastReads} then says how many nodes it read.
   * O(log n + k); nested calls (from `fn`) are allowed.
   */
  visitOverlaps(lo: number, hi: number, fn: (node: number, before: number) => unknown): number {
    const stack = this.iterDepth++ === 0 ? this.iterStack : [];
    stack.length = 0;
    const left = this.left;
    const right = this.right;
    const maxEnd = this.maxEnd;
    let before = 0;
    let found = false;
    let reads = 0;
    let next = Number.POSITIVE_INFINITY;
    let n = this.root;
    try {
      for (;;) {
        while (n !== NIL) {
          if (maxEnd[n]! <= lo) {
            // The whole subtree ends at or before lo: skipped, in order.
            if (!found && maxEnd[n]! > before) before = maxEnd[n]!;
            break;
          }
          stack.push(n);
          n = left[n]!;
        }
        if (stack.length === 0) break;
        n = stack.pop()!;
        reads++;
        const s = this.start[n]!;
        if (s >= hi) {
          next = s;
          break;
        }
        const e = this.end[n]!;
        if (e > lo) {
          found = true;
          if (fn(n, before) === false) break;
        } else if (!found && e > before) before = e;
        n = right[n]!;
      }
    } finally {
      this.iterDepth--;
      stack.length = 0;
    }
    this.lastReads = reads;
    return next;
  }

  /** Nodes the last {@link visitOverlaps} read (overlapping ones and the one past the range). */
  lastReads = 0;

  /** Largest end among the intervals starting at or before `x` (0 if none). */
  maxEndAtOrBefore(x: number): number {
    let n = this.root;
    let best = 0;
    while (n !== NIL) {
      if (this.start[n]! <= x) {
        const l = this.left[n]!;
        if (l !== NIL && this.maxEnd[l]! > best) best = this.maxEnd[l]!;
        if (this.end[n]! > best) best = this.end[n]!;
        n = this.right[n]!;
      } else n = this.left[n]!;
    }
    return best;
  }

  /** Smallest start above `x`, or Infinity. */
  startAfter(x: number): number {
    let n = this.root;
    let best = Number.POSITIVE_INFINITY;
    while (n !== NIL) {
      const s = this.start[n]!;
      if (s > x) {
        if (s < best) best = s;
        n = this.left[n]!;
      } else n = this.right[n]!;
    }
    return best;
  }

  /**
   * Every interval in order (`interval_tree_iter_first/next` over [0, ULONG_MAX]); `fn`
   * must not change the tree nor visit it again. Stop early by returning false.
   */
  visit(fn: (node: number) => unknown): void {
    const stack = this.stack;
    stack.length = 0;
    let n = this.root;
    while (n !== NIL || stack.length > 0) {
      while (n !== NIL) {
        stack.push(n);
        n = this.left[n]!;
      }
      n = stack.pop()!;
      if (fn(n) === false) {
        stack.length = 0;
        return;
      }
      n = this.right[n]!;
    }
  }

  /** The nodes in order (tests and tools). */
  nodes(): number[] {
    const out: number[] = [];
    this.visit((n) => {
      out.push(n);
    });
    return out;
  }

  private allocNode(): number {
    if (this.freeHead !== NIL) {
      const n = this.freeHead;
      this.freeHead = this.left[n]!;
      return n;
    }
    if (this.used === this.start.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const cap = this.start.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.start = f64(this.start);
    this.end = f64(this.end);
    this.maxEnd = f64(this.maxEnd);
    this.paddr = f64(this.paddr);
    this.seq = f64(this.seq);
    const u32 = (a: Uint32Array) => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    this.flagsOf = u32(this.flagsOf);
    this.prio = u32(this.prio);
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.left = i32(this.left);
    this.right = i32(this.right);
  }

  /** The augmentation: `__subtree_last` of `n` from its children. */
  private pull(n: number): void {
    let m = this.end[n]!;
    const l = this.left[n]!;
    const r = this.right[n]!;
    if (l !== NIL && this.maxEnd[l]! > m) m = this.maxEnd[l]!;
    if (r !== NIL && this.maxEnd[r]! > m) m = this.maxEnd[r]!;
    this.maxEnd[n] = m;
  }

  /** Split `t` into keys < (s, q) → sl and ≥ (s, q) → sr. */
  private split(t: number, s: number, q: number): void {
    if (t === NIL) {
      this.sl = NIL;
      this.sr = NIL;
      return;
    }
    const ts = this.start[t]!;
    if (ts < s || (ts === s && this.seq[t]! < q)) {
      this.split(this.right[t]!, s, q);
      this.right[t] = this.sl;
      this.pull(t);
      this.sl = t;
    } else {
      this.split(this.left[t]!, s, q);
      this.left[t] = this.sr;
      this.pull(t);
      this.sr = t;
    }
  }

  /** Join `a` and `b` (every key of a below every key of b). */
  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.prio[a]! > this.prio[b]!) {
      this.right[a] = this.merge(this.right[a]!, b);
      this.pull(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]!);
    this.pull(b);
    return b;
  }
}
