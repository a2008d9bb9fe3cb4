/**
 * The `fsl-pamu` script family: an UNMANAGED domain without map ops — the core's WARN and
 * errors for map/unmap, `err unsupported` for the raw ops, identity `phys` inside the aperture.
 */
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";

const run = (lines: string[]) => runScript([...lines, ""].join("\n"), { families: createFamilies() });

describe("fmt fsl-pamu", () => {
  it("no map/unmap ops: the core's WARN and errors; identity phys inside [0, 2^36 − 1]", () => {
    expect(
      run([
        "fmt fsl-pamu",
        "map 0 0 1000 r",
        "unmap 0 1000",
        "phys 0",
        "phys fffffffff",
        "phys 1000000000",
        "lookup 0",
        "lookup 1000000000",
        "map_pages 0 0 1000 1 r",
        "fmt fsl-pamu x",
      ]),
    ).toBe(
      [
        "ok fmt=fsl-pamu pgsize_bitmap=0x0 aperture=0x0-0xfffffffff",
        "err -19 (ENODEV) mapped=0x0 unrolled=0x0 warn=1",
        "unmapped=0x0 warn=1",
        "phys=0x0",
        "phys=0xfffffffff",
        "phys=0x0",
        "lookup mapped=1 phys=0x0 length=0x1000000000",
        "lookup mapped=0 phys=0x0 length=0x1000000000",
        "err unsupported",
        "err bad-args",
        "",
      ].join("\n"),
    );
  });
});
