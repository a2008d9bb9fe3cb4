// Every format the registry offers builds, and its table lays out and draws: the explorer has
// no per-format code, so this is where a format's inspector meets the view.
import { fmtNames } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { layoutTable } from "./layout.js";
import { shapesOf } from "./shapes.js";
import { runTableScript } from "./table-source.js";

describe("every registry format in the view", () => {
  it.each(fmtNames())("%s", (name) => {
    const t = runTableScript(`fmt ${name}\nmap 100000 100000 1000 rw\n`);
    const fmt = t.lines[0]!;
    if (!fmt.out[0]?.startsWith("ok")) {
      // A format that needs cfg arguments says so on its line; nothing to draw.
      expect(fmt.error).toBe(true);
      expect(t.table).toBeNull();
      return;
    }
    if (!t.inspector) return;
    const l = layoutTable(t.inspector);
    expect(l.rows).toHaveLength(l.geometry.levels);
    const mapped = !t.lines[1]!.error;
    if (mapped) {
      expect(l.leafBlocks).toBe(1);
      const w = t.inspector.walk(0x100000);
      expect(w.end).toBe("leaf");
      expect(w.phys).toBe(0x100000n);
    }
    const { shapes } = shapesOf(
      l,
      { start: l.extent[0], span: Math.max(l.extent[1] - l.extent[0], 4096) },
      { width: 600 },
    );
    expect(shapes.filter((s) => s.kind === "leaf")).toHaveLength(mapped ? 1 : 0);
    t.close();
  });
});
