import { describe, expect, it } from "vitest";
import { ScriptSession } from "../script/engine.js";
import { createFakeFamily } from "../script/testing/fake-family.js";
import { formatRange, formatSize, mappedRanges } from "./ranges.js";

describe("mappedRanges", () => {
  it("merges IOVA- and PA-contiguous leaves and skips holes in one step each", () => {
    const s = new ScriptSession({ families: [createFakeFamily()] });
    for (const l of [
      "fmt fake",
      "map 1000 5000 2000 rw", // two 4K leaves, contiguous → one range
      "map 3000 9000 1000 rw", // IOVA-contiguous, PA not → new range
      "map 200000 400000 400000 rw", // two 2M leaves
      "map 600000 800000 1000 rw", // 4K after the 2M run, PA-contiguous → merged
      "map ffff00000000 0 1000 rw",
    ])
      s.line(l);
    const t = s.current!;
    const before = t.domain.counters.walks;
    const ranges = mappedRanges(t, 0, 2 ** 48);
    expect(ranges.map(formatRange)).toEqual([
      "0x1000..0x2fff → 0x5000..0x6fff 8K rw",
      "0x3000..0x3fff → 0x9000..0x9fff 4K rw",
      "0x200000..0x600fff → 0x400000..0x800fff 4100K rw",
      "0xffff00000000..0xffff00000fff → 0x0..0xfff 4K rw",
    ]);
    // One walk per leaf plus one per maximal aligned hole (the fake caps holes at 2^40, like a
    // top-level slot: 256 of them in 2^48), not one per 4K page (2^36).
    expect(t.domain.counters.walks - before).toBeLessThan(400);
  });

  it("clips a range to the scan window", () => {
    const s = new ScriptSession({ families: [createFakeFamily()] });
    s.line("fmt fake");
    s.line("map 200000 400000 200000 rw");
    expect(mappedRanges(s.current!, 0x300000, 0x380000).map(formatRange)).toEqual([
      "0x300000..0x37ffff → 0x500000..0x57ffff 512K rw",
    ]);
  });
});

describe("formatSize", () => {
  it("uses the largest exact binary unit", () => {
    expect(formatSize(0x1000)).toBe("4K");
    expect(formatSize(0x3000)).toBe("12K");
    expect(formatSize(0x200000)).toBe("2M");
    expect(formatSize(2 ** 30)).toBe("1G");
    expect(formatSize(2 ** 42)).toBe("4T");
    expect(formatSize(0x123)).toBe("0x123");
  });
});
