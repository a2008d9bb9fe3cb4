import { describe, expect, it } from "vitest";
import { layoutTable } from "./layout.js";
import { axisTicks, rowAtY, shapesOf, svgOf, viewHeight } from "./shapes.js";
import { leafColour } from "./sizes.js";
import { runTableScript } from "./table-source.js";

describe("shapesOf", () => {
  const l = layoutTable(
    runTableScript("fmt arm64-s1\nmap 0 100000 400000 rw\nmap 40000000 80000000 200000 rw\n").inspector!,
  );

  it("collapses sub-pixel leaves into one shape per pixel column", () => {
    // 4 MiB of 4 KiB pages over 100 px: 1024 leaves, 100 columns.
    const small = layoutTable(runTableScript("fmt arm64-s1\nmap 0 1000 400000 rw\n").inspector!);
    expect(small.leafBlocks).toBe(1024);
    const { shapes, leavesInView } = shapesOf(small, { start: 0, span: 0x400000 }, { width: 100 });
    expect(leavesInView).toBe(1024);
    expect(shapes.filter((s) => s.kind === "leaf")).toHaveLength(100);
  });

  it("visits only the window, colours leaves by size and labels wide ones", () => {
    const { shapes, leavesInView } = shapesOf(l, { start: 0x40000000, span: 0x400000 }, { width: 800 });
    expect(leavesInView).toBe(1);
    const leaves = shapes.filter((s) => s.kind === "leaf");
    expect(leaves).toEqual([
      expect.objectContaining({ x: 0, w: 400, fill: leafColour(0x200000), label: "2M → 0x80000000" }),
    ]);
    expect(shapes.filter((s) => s.kind === "hole").map((h) => h.label)).toContain("hole 1022M");
  });

  it("maps rows to y and back, and exports the same shapes as SVG", () => {
    expect(rowAtY(viewHeight(4) - 10, 4)).toBe(3);
    expect(rowAtY(5, 4)).toBe(-1);
    const svg = svgOf(l, { start: 0x40000000, span: 0x400000 }, { width: 800 });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain(`fill="${leafColour(0x200000)}"`);
    expect(svg).toContain("2M → 0x80000000");
    expect(axisTicks({ start: 0, span: 0x400000 }, 800).map((t) => t.label)).toContain("0x200000");
  });
});
