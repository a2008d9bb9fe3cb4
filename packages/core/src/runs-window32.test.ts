import { describe, expect, it } from "vitest";
import { PhysRunCollector } from "./runs.js";
import { runsOver32BitWindows } from "./runs-window32.js";

const W = 2 ** 20; // frames per 4 GiB window

/** A table with one 4K leaf at frame 5 of the window (phys frame 100), the rest holes. */
function oneLeaf(calls: number[][]) {
  return (_d: null, runs: PhysRunCollector, window: number, from: number, end: number): number => {
    calls.push([window, from, end]);
    for (let f = from; f < Math.min(window + W, end); f++) {
      const ok = f - window === 5 ? runs.leaf(f, 1, 100, 3, 4096) : runs.hole(f, 1, 4096);
      if (!ok) return -1;
    }
    return 1;
  };
}

function collect(
  iova: bigint,
  size: bigint,
  strict: boolean,
  empty: number,
  walk: ReturnType<typeof oneLeaf>,
) {
  const c = new PhysRunCollector();
  const out: string[] = [];
  expect(c.begin(iova, size, (r) => void out.push(r.toString()))).toBe(0);
  runsOver32BitWindows(null, c, strict, empty, walk);
  c.finish();
  return out;
}

describe("runsOver32BitWindows", () => {
  it("walks each 4 GiB window the range touches (aliasing)", () => {
    const calls: number[][] = [];
    const out = collect(2n ** 32n - 4096n, 3n * 4096n + 5n * 4096n, false, 0, oneLeaf(calls));
    expect(calls).toEqual([
      [0, W - 1, W + 7],
      [W, W, W + 7],
    ]);
    expect(out).toEqual([
      "hole iova=0xfffff000 size=0x6000",
      "mapped iova=0x100005000 phys=0x64000 size=0x1000 prot=0x3 leaf=0x1000",
      "hole iova=0x100006000 size=0x1000",
    ]);
  });

  it("strict: one hole from 4 GiB to 2^64, no walk above", () => {
    const calls: number[][] = [];
    const out = collect(2n ** 32n - 4096n, 2n ** 64n - 2n ** 32n + 4096n, true, 0, oneLeaf(calls));
    expect(calls).toEqual([[0, W - 1, 2 ** 52]]);
    expect(out).toEqual(["hole iova=0xfffff000 size=0xffffffff00001000"]);
  });

  it("an empty window ends the lookup with one hole when asked", () => {
    const calls: number[][] = [];
    const empty = (_d: null, runs: PhysRunCollector, window: number, from: number, end: number) => {
      calls.push([window, from]);
      return runs.hole(from, Math.min(window + W, end) - from, 0x40_0000) ? 0 : -1;
    };
    const out = collect(0n, 2n ** 40n, false, 0x40_0000, empty);
    expect(calls).toEqual([[0, 0]]);
    expect(out).toEqual(["hole iova=0x0 size=0x10000000000"]);
  });
});
