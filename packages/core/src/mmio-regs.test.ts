import { describe, expect, it } from "vitest";
import { MmioRegs } from "./mmio-regs.js";

describe("MmioRegs", () => {
  it("reads back the last u32 written, 0 before; initial values by offset", () => {
    const r = new MmioRegs(0x100, { 0: 0x21 });
    expect([r.read(0), r.read(0x50)]).toEqual([0x21, 0]);
    r.write(0x50, -1);
    r.write(0x54, 2 ** 32 + 5);
    expect([r.read(0x50), r.read(0x54)]).toEqual([0xffff_ffff, 5]);
  });

  it("offsets outside the window or unaligned are registers of their own", () => {
    const r = new MmioRegs(0x100);
    r.write(0x228, 0x80);
    r.write(0x2, 7);
    r.write(-4, 9);
    expect([r.read(0x228), r.read(0x2), r.read(0), r.read(-4), r.read(0x22c)]).toEqual([0x80, 7, 0, 9, 0]);
  });
});
