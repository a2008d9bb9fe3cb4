/**
 * Table images in and out: the script's `save-image` snapshot, the file encoding, and
 * dumpImage's checks of what it is given (empty image, root outside / misaligned / truncated,
 * entries pointing outside the image).
 */
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { ScriptSession } from "../script/engine.js";
import { dumpImage } from "./image-dump.js";
import { decodeTableImage, encodeTableImage, isTableImage, type TableImageFile } from "./table-image.js";

function session(lines: string[]): { out: string[]; s: ScriptSession } {
  const s = new ScriptSession({ families: createFamilies() });
  const out = lines.flatMap((l) => s.line(l));
  return { out, s };
}

function dumpOf(img: TableImageFile) {
  return dumpImage({
    format: img.format,
    fmtArgs: img.fmtArgs,
    root: img.root,
    image: img.bytes,
    imageBase: img.base,
    families: createFamilies(),
  });
}

describe("save-image → file → dump", () => {
  // One script per format family with an inspector and table memory.
  const cases: Array<[string, string[]]> = [
    ["arm64-s1 4K", ["fmt arm64-s1", "map 40000000 80000000 200000 rw", "map 40200000 90000000 3000 r"]],
    [
      "arm64-s2 64K",
      ["fmt arm64-s2 granule 64k", "map 20000000 20000000 20000000 rw", "map 0 40000000 10000 rw"],
    ],
    ["v7s", ["fmt v7s", "map 100000 200000 100000 rw", "map 10000 30000 1000 r"]],
    ["dart2", ["fmt dart2", "map 10000 80000 8000 rw"]],
    ["amdv1", ["fmt amdv1", "map 40400000 7000000 3000 rw", "map 80000000 100000000 40000000 rw"]],
    ["vtdss", ["fmt vtdss", "map 200000 400000 200000 rw"]],
  ];
  for (const [name, script] of cases)
    it(`${name}: the dump of the saved image equals the live table's dump`, () => {
      const { out, s } = session([...script, "save-image", "dump"]);
      const saved = out.find((l) => l.startsWith("ok image"));
      expect(saved, out.join("\n")).toMatch(/^ok image root=0x[0-9a-f]+ base=0x[0-9a-f]+ bytes=0x[0-9a-f]+$/);
      const live = out.slice(out.indexOf(saved!) + 1);
      const img = s.image()!;
      expect(img.format).toBe(script[0]!.split(" ")[1]);
      const file = encodeTableImage(img);
      expect(isTableImage(file)).toBe(true);
      const back = decodeTableImage(file);
      if (!back.ok) throw new Error(back.error);
      expect(back.image).toEqual({ ...img, fmtArgs: [...img.fmtArgs] });
      const d = dumpOf(back.image);
      if (!d.ok) throw new Error(d.error);
      expect(d.missing).toBe(0);
      // The dump lines after the `ok fmt=` line are the live table's, byte for byte.
      expect(d.lines.slice(1, 1 + live.length)).toEqual(live);
    });

  it("the last save-image wins; without one the live table at the end is saved", () => {
    const { s } = session(["fmt arm64-s1", "map 0 0 1000 rw", "save-image", "map 200000 0 1000 rw"]);
    const early = s.image()!;
    const { s: s2 } = session(["fmt arm64-s1", "map 0 0 1000 rw", "map 200000 0 1000 rw"]);
    const late = s2.image()!;
    const count = (img: TableImageFile) => {
      const d = dumpOf(img);
      if (!d.ok) throw new Error(d.error);
      return d.lines.filter((l) => l.includes(" leaf ")).length;
    };
    expect([count(early), count(late)]).toEqual([1, 2]);
  });

  it("save-image without a table is err no-fmt; with arguments err bad-args", () => {
    expect(session(["save-image"]).out).toEqual(["err no-fmt"]);
    expect(session(["fmt arm64-s1", "save-image now"]).out.at(-1)).toBe("err bad-args");
  });
});

describe("decodeTableImage refuses what is not a whole image", () => {
  const img = session(["fmt arm64-s1", "map 0 0 1000 rw"]).s.image()!;
  const file = encodeTableImage(img);

  it("a truncated body, a wrong version, no magic", () => {
    expect(decodeTableImage(file.slice(0, file.length - 1))).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^not a table image: the header says 0x[0-9a-f]+ bytes of memory, the file holds/,
      ),
    });
    const v2 = file.slice();
    new DataView(v2.buffer).setUint32(8, 2, true);
    expect(decodeTableImage(v2)).toEqual({
      ok: false,
      error: "not a table image: version 2 (this tool reads 1)",
    });
    expect(decodeTableImage(new Uint8Array(64))).toEqual({
      ok: false,
      error: "not a table image: no IOMMUIMG header",
    });
  });
});

describe("dumpImage checks the image before reading it", () => {
  const img = session(["fmt arm64-s1", "map 40000000 80000000 200000 rw"]).s.image()!;
  const base = { format: "arm64-s1", fmtArgs: [], families: createFamilies() };

  it("an empty image", () => {
    expect(dumpImage({ ...base, root: img.root, image: new Uint8Array(0), imageBase: img.base })).toEqual({
      ok: false,
      error: "the image is empty",
    });
  });

  it("a root outside the image", () => {
    expect(dumpImage({ ...base, root: 0x1000, image: img.bytes, imageBase: img.base })).toEqual({
      ok: false,
      error: `root 0x1000 is outside the image [0x80000000, 0x${(img.base + img.bytes.length).toString(16)})`,
    });
  });

  it("a root not aligned to the top table's size", () => {
    const r = dumpImage({ ...base, root: img.root + 0x800, image: img.bytes, imageBase: img.base });
    expect(r).toEqual({
      ok: false,
      error: "root 0x80000800 is not aligned to the ARM_64_LPAE_S1 top table's size (0x1000 bytes)",
    });
  });

  it("a top table running past the image's end (truncated image)", () => {
    const r = dumpImage({ ...base, root: img.root, image: img.bytes.slice(0, 0x800), imageBase: img.base });
    expect(r).toEqual({
      ok: false,
      error: "the ARM_64_LPAE_S1 top table [0x80000000, 0x80001000) runs past the image's end 0x80000800",
    });
  });

  it("entries pointing outside the image are counted (and listed as missing)", () => {
    // Only the pgd: its entry for 0x40000000 points at an L1 table the image lacks.
    const r = dumpImage({ ...base, root: img.root, image: img.bytes.slice(0, 0x1000), imageBase: img.base });
    if (!r.ok) throw new Error(r.error);
    expect(r.missing).toBe(1);
    expect(r.lines.filter((l) => l.endsWith(" missing"))).toHaveLength(1);
  });
});
