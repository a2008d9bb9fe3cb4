/**
 * The engine's floor for the cold figure (issue 9 §3): the smallest table a JavaScript model
 * could be — arm64-s1 4K's shape (four levels of 512 eight-byte entries, the leaf at level 3,
 * tables linked by address) in one `Uint32Array`, bump-allocated 4 KiB tables, no counters,
 * walk cache, prot encoding, range checks or TLB callbacks — run like `iommu script`'s
 * `bench-map` / `bench-walk` / `bench-unmap`: 262,144 × 4K from 0x40000000, one op per call,
 * each loop alone in a small function, three passes in a fresh process. Its first pass is what
 * V8 itself costs before its optimising compiler has caught up: no model of the real formats
 * can have a faster one on the same runtime. Not a page-table format: the bench's yardstick.
 *
 * Run as a program (`node --import tsx cold-floor.ts [n]`) it prints nine `ns/op=` figures in
 * the script's order; `cold.ts` runs it in fresh processes beside the CLI.
 */
import { pathToFileURL } from "node:url";

/** 32-bit words of memory: room for the root and the tables of a 1 GiB identity region, 4K leaves. */
const WORDS = 1100 * 1024;
const TABLE_WORDS = 1024;
const BASE = 0x4000_0000;
const TABLE = 3;
const PAGE_ATTRS = 0x743; // page descriptor, AF, inner shareable, AP read/write, attr index 0

/** A minimal four-level table over 32-bit IOVAs. */
export class FloorTable {
  private readonly mem = new Uint32Array(WORDS);
  private next = TABLE_WORDS; // word index of the next free table; the root is at 0

  /** Index of `iova`'s entry at `lvl` (0 = root; a 32-bit IOVA is in its first entry). */
  private static idx(iova: number, lvl: number): number {
    return lvl === 0 ? 0 : (iova >>> (39 - 9 * lvl)) & 511;
  }

  /** Map one 4K page; 0 or -17 (occupied). */
  map(iova: number, pa: number): number {
    const mem = this.mem;
    let t = 0;
    for (let lvl = 0; lvl < 3; lvl++) {
      const w = t + 2 * FloorTable.idx(iova, lvl);
      let lo = mem[w]!;
      if (lo === 0) {
        const n = this.next;
        if (n + TABLE_WORDS > WORDS) return -12;
        this.next = n + TABLE_WORDS;
        lo = ((n << 2) | TABLE) >>> 0;
        mem[w] = lo;
      } else if ((lo & 3) !== TABLE) return -17;
      t = (lo & ~0xfff) >>> 2;
    }
    const w = t + 2 * FloorTable.idx(iova, 3);
    if (mem[w] !== 0) return -17;
    mem[w] = ((pa & ~0xfff) | PAGE_ATTRS) >>> 0;
    return 0;
  }

  /** The physical address `iova` translates to, or -1. */
  walk(iova: number): number {
    const mem = this.mem;
    let t = 0;
    for (let lvl = 0; lvl < 3; lvl++) {
      const lo = mem[t + 2 * FloorTable.idx(iova, lvl)]!;
      if ((lo & 3) !== TABLE) return -1;
      t = (lo & ~0xfff) >>> 2;
    }
    const lo = mem[t + 2 * FloorTable.idx(iova, 3)]!;
    return (lo & 3) === 3 ? ((lo & ~0xfff) >>> 0) + (iova & 0xfff) : -1;
  }

  /** Unmap one 4K page: bytes unmapped. */
  unmap(iova: number): number {
    const mem = this.mem;
    let t = 0;
    for (let lvl = 0; lvl < 3; lvl++) {
      const lo = mem[t + 2 * FloorTable.idx(iova, lvl)]!;
      if ((lo & 3) !== TABLE) return 0;
      t = (lo & ~0xfff) >>> 2;
    }
    const w = t + 2 * FloorTable.idx(iova, 3);
    if (mem[w] === 0) return 0;
    mem[w] = 0;
    mem[w + 1] = 0;
    return 4096;
  }
}

function mapLoop(t: FloorTable, n: number): number {
  let failed = 0;
  for (let i = 0; i < n; i++) if (t.map(BASE + i * 4096, BASE + i * 4096) !== 0) failed++;
  return failed;
}

function walkLoop(t: FloorTable, n: number): number {
  let failed = 0;
  for (let i = 0; i < n; i++) if (t.walk(BASE + i * 4096) !== BASE + i * 4096) failed++;
  return failed;
}

function unmapLoop(t: FloorTable, n: number): number {
  let failed = 0;
  for (let i = 0; i < n; i++) if (t.unmap(BASE + i * 4096) !== 4096) failed++;
  return failed;
}

/** Three passes of map, walk, unmap over `n` pages (n ≤ 262,144): nine ns/op figures and the failures. */
export function floorPasses(n: number): { nsPerOp: number[]; failed: number } {
  if (!(n > 0 && n <= 262_144)) throw new RangeError("cold floor: 1 ≤ n ≤ 262144");
  const t = new FloorTable();
  const nsPerOp: number[] = [];
  let failed = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (const loop of [mapLoop, walkLoop, unmapLoop]) {
      const t0 = process.hrtime.bigint();
      failed += loop(t, n);
      nsPerOp.push(Number(process.hrtime.bigint() - t0) / n);
    }
  }
  return { nsPerOp, failed };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { nsPerOp, failed } = floorPasses(Number(process.argv[2] ?? 262_144));
  for (const x of nsPerOp) console.log(`ns/op=${x.toFixed(1)}`);
  if (failed) {
    console.error(`cold floor: ${failed} failed operations`);
    process.exitCode = 1;
  }
}
