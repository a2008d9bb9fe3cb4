/**
 * Address-representation micro-benchmark, for the core's number-vs-bigint design note:
 * what splitting an address costs when it arrives as a number or as a bigint, and what the
 * reusable PhysLength out-record saves over returning a fresh result object per lookup.
 */
import { fromPfn, offOf, PhysLength, pfnOf } from "@iommu/core";
import { type BenchRow, DEFAULT_MEASURE, type MeasureOptions, nsPerOp } from "./measure.js";

/** Page-aligned and unaligned addresses below 2^48, as numbers and as the same bigints. */
function inputs(n: number): { nums: number[]; bigs: bigint[] } {
  const nums: number[] = [];
  let x = 0x12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    nums.push(x * 0x10000 + (i & 0xfff));
  }
  return { nums, bigs: nums.map((v) => BigInt(v)) };
}

/** Results land here so the JIT cannot drop the loops. */
export let sink = 0;

interface Fresh {
  mapped: boolean;
  phys: number;
  length: number;
}

function lookupFresh(iova: number): Fresh {
  return { mapped: true, phys: iova + 0x1000, length: 0x1000 };
}

function lookupInto(iova: number, out: PhysLength): void {
  const pfn = Math.floor(iova / 4096);
  out.setMapped(pfn + 1, iova - pfn * 4096, 0x1000);
}

/** The rows; each loop runs over `n` addresses (default 2^20). */
export function runAddrBench(o: MeasureOptions = DEFAULT_MEASURE, n = 1 << 20): BenchRow[] {
  const N = n;
  const { nums, bigs } = inputs(N);
  const loop = (body: () => number) => () => {
    const t0 = process.hrtime.bigint();
    sink += body();
    return process.hrtime.bigint() - t0;
  };
  const out = new PhysLength();
  return [
    {
      name: "pfnOf + offOf, number input",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += pfnOf(nums[i]!) + offOf(nums[i]!);
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "pfnOf only, number input",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += pfnOf(nums[i]!);
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "offOf only, number input",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += offOf(nums[i]!);
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "a % 4096 on a number above 2^31 (fmod)",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += nums[i]! % 4096;
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "inline split, number: off = a - pfn * 4096 (no %)",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            const a = nums[i]!;
            const pfn = Math.floor(a / 4096);
            s += pfn + (a - pfn * 4096);
          }
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "pfnOf + offOf, bigint input",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += pfnOf(bigs[i]!) + offOf(bigs[i]!);
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "fromPfn (safe range, number result)",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) s += fromPfn(nums[i]! >>> 12, 0x123) as number;
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "fromPfn above 2^53 (bigint result)",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) if (fromPfn(2 ** 42 + i, 0x123) !== 0n) s++;
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "lookup result: reused PhysLength record",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            lookupInto(nums[i]!, out);
            s += out.length + (out.mapped ? out.physPfn : 0);
          }
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "lookup result: fresh object per call",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            const r = lookupFresh(nums[i]!);
            s += r.length + (r.mapped ? r.phys : 0);
          }
          return s;
        }),
        N,
        o,
      ),
    },
    {
      name: "lookup result: fresh object that escapes (kept)",
      ns: nsPerOp(
        loop(() => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            const r = lookupFresh(nums[i]!);
            kept[i & 1023] = r;
            s += r.length;
          }
          return s;
        }),
        N,
        o,
      ),
    },
  ];
}

const kept: Fresh[] = new Array(1024);
