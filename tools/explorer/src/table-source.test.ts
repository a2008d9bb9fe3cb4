import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { iommuUnmap } from "@iommu/core";
import { decodeTableImage } from "@iommu/script";
import { describe, expect, it } from "vitest";
import { adoptTable, openTableImage, runTableScript } from "./table-source.js";

const TWO_BLOCKS = fileURLToPath(new URL("../../cli/examples/two-blocks.img", import.meta.url));

describe("runTableScript", () => {
  it("keeps the live table and each line's result, errors marked on their line", () => {
    const t = runTableScript("fmt arm64-s1\nmap 40000000 80000000 200000 rw\nmap zz\n# note\n");
    expect(t.title).toBe("fmt arm64-s1");
    expect(t.lines.map((l) => [l.line, l.error])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(t.lines[1]!.out).toEqual(["ok mapped=0x200000"]);
    expect(t.lines[2]!.out).toEqual(["err bad-args"]);
    const w = t.inspector!.walk(0x40001000);
    expect(w.end).toBe("leaf");
    expect(w.phys).toBe(0x80001000n);
    expect(w.length).toBe(0x200000);
  });

  it("has no table when the script has no fmt", () => {
    const t = runTableScript("map 0 0 1000 rw\n");
    expect(t.table).toBeNull();
    expect(t.lines[0]!.out).toEqual(["err no-fmt"]);
  });

  it("copies are independent tables", () => {
    const t = runTableScript("fmt arm64-s1\nmap 0 0 1000 rw\n");
    const c = t.copy();
    expect(c.table).not.toBe(t.table);
    expect(c.inspector!.walk(0).end).toBe("leaf");
  });
});

describe("openTableImage", () => {
  it("adopts tools/cli/examples/two-blocks.img (iommu script --save-image of two-blocks.txt)", () => {
    const t = openTableImage("two-blocks.img", new Uint8Array(readFileSync(TWO_BLOCKS)));
    if ("error" in t) throw new Error(t.error);
    const st = t.inspector!.stats();
    expect(st.tables).toBe(4);
    expect([...st.leavesBySize]).toEqual([
      [0x200000, 1],
      [0x1000, 3],
    ]);
    expect(t.inspector!.walk(0x40201000).phys).toBe(0x90001000n);
  });

  it("adopts the same table from the raw memory behind the image, given format, root and base", () => {
    const d = decodeTableImage(new Uint8Array(readFileSync(TWO_BLOCKS)));
    if (!d.ok) throw new Error(d.error);
    const { format, fmtArgs, root, base, bytes } = d.image;
    const t = adoptTable("raw", { format, fmtArgs, root, base, bytes });
    if ("error" in t) throw new Error(t.error);
    expect(t.inspector!.walk(0x40000000).phys).toBe(0x80000000n);
    expect(t.image()?.bytes).toBe(bytes);
    // The comparison unmaps a copy; the file's bytes stay as they were.
    const before = bytes.slice();
    const c = t.copy();
    iommuUnmap(c.table!.domain, 0x40000000, 0x200000);
    expect(c.inspector!.walk(0x40000000).end).toBe("hole");
    expect(t.inspector!.walk(0x40000000).end).toBe("leaf");
    expect(bytes).toEqual(before);
    expect(adoptTable("raw", { format, fmtArgs, root: base + bytes.length, base, bytes })).toEqual({
      error: `root 0x${(base + bytes.length).toString(16)} is outside the image [0x${base.toString(16)}, 0x${(base + bytes.length).toString(16)})`,
    });
    expect(adoptTable("raw", { format: "nope", fmtArgs, root, base, bytes })).toEqual({
      error: "unknown format nope",
    });
  });

  it("says why a file is not an image", () => {
    expect(openTableImage("x", new Uint8Array([1, 2, 3]))).toEqual({
      error: "not a table image: no IOMMUIMG header",
    });
  });
});
