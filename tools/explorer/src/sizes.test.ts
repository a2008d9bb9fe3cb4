import { describe, expect, it } from "vitest";
import { hexAddr, leafColour, sizeLabel } from "./sizes.js";

/** WCAG 2 contrast ratio of a colour against white. */
function contrastWithWhite(css: string): number {
  let rgb: number[];
  const hsl = /^hsl\((\d+) (\d+)% (\d+)%\)$/.exec(css);
  if (hsl) {
    const [h, s, l] = [Number(hsl[1]), Number(hsl[2]) / 100, Number(hsl[3]) / 100];
    const a = s * Math.min(l, 1 - l);
    const f = (n: number) => {
      const k = (n + h / 30) % 12;
      return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    };
    rgb = [f(0), f(8), f(4)];
  } else rgb = [1, 3, 5].map((i) => Number.parseInt(css.slice(i, i + 2), 16) / 255);
  const lin = rgb.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const lum = 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
  return 1.05 / (lum + 0.05);
}

describe("leaf colours", () => {
  it("keep white labels readable (WCAG AA, 4.5:1) for every power-of-two size", () => {
    for (let b = 10; b <= 40; b++)
      expect(contrastWithWhite(leafColour(2 ** b)), `2^${b}`).toBeGreaterThanOrEqual(4.5);
  });

  it("tell the common sizes apart", () => {
    const common = [2 ** 12, 2 ** 16, 2 ** 21, 2 ** 25, 2 ** 29, 2 ** 30].map(leafColour);
    expect(new Set(common).size).toBe(common.length);
  });
});

describe("labels", () => {
  it("name sizes and addresses the way the script's dump does", () => {
    expect([sizeLabel(0x1000), sizeLabel(0x200000), sizeLabel(2 ** 30), sizeLabel(0x3000)]).toEqual([
      "4K",
      "2M",
      "1G",
      "12K",
    ]);
    expect(hexAddr(0x40000000)).toBe("0x40000000");
    expect(hexAddr(-(2 ** 47))).toBe("0xffff800000000000");
  });
});
