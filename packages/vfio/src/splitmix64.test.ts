import { describe, expect, it } from "vitest";
import { SplitMix64 } from "./splitmix64.js";

describe("SplitMix64", () => {
  it("produces the reference sequence for seed 0", () => {
    const r = new SplitMix64(0);
    expect(r.next()).toBe(0xe220a8397b1dcdafn);
    expect(r.next()).toBe(0x6e789e6aa1b965f4n);
    expect(r.next()).toBe(0x06c45d188009454fn);
  });

  it("wraps the state at 2^64 and reduces modulo n exactly", () => {
    const a = new SplitMix64(2n ** 64n - 1n);
    const b = new SplitMix64(-1n & (2n ** 64n - 1n));
    expect(a.next()).toBe(b.next());
    const r = new SplitMix64(7);
    const v = new SplitMix64(7).next();
    expect(r.nextBelow(60)).toBe(Number(v % 60n));
  });
});
