/**
 * The SMMU's own stage-1 table walker, as the hardware runs it for an ATS1PR address
 * translation operation (ARM IHI 0062 §13.x, ATS1PR/PAR; ARMv8 VMSA descriptor formats):
 * AArch64 and AArch32 long-descriptor contexts (TTBR0/TTBR1 selected by the VA, T0SZ/T1SZ
 * and TG0/TG1 from the TCR the driver programmed) and AArch32 short-descriptor contexts
 * (TTBR0, TTBCR.N = 0). It reads the table bytes from simulated physical memory and
 * produces the PAR value.
 *
 * Written independently of io-pgtable's walker (and of its inspector) on purpose: the
 * driver's hardware path is then checked against a second reading of the same bytes —
 * through the registers the driver wrote, not the format's own bookkeeping — so a wrong
 * TCR/TTBR or a descriptor the hardware would read differently shows up as a mismatch.
 *
 * Hot path: no allocation, no BigInt for TTBR0 walks; the result goes into the context
 * bank's PAR fields (`parLo`/`parHi`, the two 32-bit halves). The walker's descriptor reads
 * are counted in `reads` (hardware reads, not the CPU's `pteReads`).
 */
import type { PhysMem } from "@iommu/core";

const TWO32 = 2 ** 32;

/** What the walker needs of a context bank: its programmed translation registers. */
export interface AtsWalkRegs {
  /** `aarch64`, `aarch32-l` or `aarch32-s` (CBA2R.VA64 / TCR.EAE as programmed). */
  ctxFmt: "aarch64" | "aarch32-l" | "aarch32-s";
  /** TCR (32 bits; for AArch32-S the TTBCR, always N = 0 here). */
  tcr: number;
  /** TTBR0 / TTBR1 table base addresses (the BADDR field; ASID and attribute bits removed). */
  ttbr0Base: number;
  ttbr1Base: number;
  /** The memory the tables live in. */
  mem: PhysMem | null;
}

/** The walker's result: PAR halves and the number of descriptors it read. */
export interface AtsResult {
  parLo: number;
  parHi: number;
  reads: number;
}

/** Read the 64-bit descriptor at `pa` as two halves into `d` (0 where no memory exists). */
function read64(mem: PhysMem, pa: number, d: Uint32Array): void {
  const c = mem.chunk(pa);
  if (!c) {
    d[0] = 0;
    d[1] = 0;
    return;
  }
  const w = (pa - c.pa) / 4;
  d[0] = c.words[w]!;
  d[1] = c.words[w + 1]!;
}

function read32(mem: PhysMem, pa: number): number {
  const c = mem.chunk(pa);
  return c ? c.words[(pa - c.pa) / 4]! : 0;
}

const desc = new Uint32Array(2);

/** Long-descriptor fault PAR: F = 1, FST = translation fault at `level` (0b0001LL). */
function lpaeFault(out: AtsResult, level: number): void {
  out.parLo = (((0b000100 | level) << 1) | 1) >>> 0;
  out.parHi = 0;
}

/**
 * Long-descriptor walk of `off` (the VA's offset inside the region, < 2^vaBits) from `base`.
 * Block entries are accepted where the granule allows them (4K: levels 1–2; 16K/64K: level 2).
 * The VA is handled as two 32-bit halves so every index and mask is integer arithmetic.
 */
function walkLpae(
  mem: PhysMem,
  base: number,
  vaBits: number,
  gShift: number,
  off: number,
  out: AtsResult,
): void {
  const offHi = Math.floor(off / TWO32) >>> 0;
  const offLo = off >>> 0;
  const bpl = gShift - 3;
  const start = 4 - (((vaBits - gShift + bpl - 1) / bpl) | 0);
  let level = start;
  let table = base;
  for (;;) {
    const shift = gShift + (3 - level) * bpl;
    const bits = level === start ? vaBits - shift : bpl;
    const idx =
      (shift >= 32 ? offHi >>> (shift - 32) : (offLo >>> shift) | (offHi << (32 - shift))) &
      ((1 << bits) - 1);
    read64(mem, table + idx * 8, desc);
    out.reads++;
    const lo = desc[0]!;
    const hi = desc[1]!;
    const type = lo & 3;
    if ((type & 1) === 0) {
      lpaeFault(out, level);
      return;
    }
    if (level === 3) {
      if (type !== 3) {
        lpaeFault(out, level);
        return;
      }
    } else if (type === 3) {
      table = (hi & 0xffff) * TWO32 + (((lo >>> gShift) << gShift) >>> 0);
      level++;
      continue;
    } else {
      const blockOk = gShift === 12 ? level >= 1 : level === 2;
      if (!blockOk || shift >= 32) {
        lpaeFault(out, level);
        return;
      }
    }
    // Leaf: output address bits [47:shift], then the VA's bits below `shift`; PAR keeps [47:12].
    const mask = (-1 << shift) >>> 0;
    out.parHi = hi & 0xffff;
    out.parLo = ((((lo & mask) | (offLo & ~mask)) >>> 12) << 12) >>> 0;
    return;
  }
}

/** TG0 encodings (TCR[15:14]) → granule shift; TG1 (TCR[31:30]) has its own. */
const TG0_SHIFT = [12, 16, 14, 0];
const TG1_SHIFT = [0, 14, 12, 16];

/**
 * One ATS1PR operation on `va` (bits [11:0] already clear) with the context bank's
 * registers: fills `out` with the 64-bit PAR (long-descriptor contexts) or the 32-bit PAR
 * (short-descriptor), F = 1 on a translation fault.
 */
export function atsWalk(regs: AtsWalkRegs, va: number | bigint, out: AtsResult): void {
  out.reads = 0;
  out.parHi = 0;
  const mem = regs.mem;
  if (!mem) {
    lpaeFault(out, 0);
    return;
  }
  const tcr = regs.tcr;
  if (regs.ctxFmt === "aarch32-s") {
    walkV7s(mem, regs.ttbr0Base, Number(va) % TWO32, out);
    return;
  }
  if (regs.ctxFmt === "aarch32-l") {
    // AArch32 TTBCR: T0SZ is 3 bits, the VA 32 bits, 4 KiB granule; the write was 32 bits.
    const v = typeof va === "bigint" ? Number(BigInt.asUintN(32, va)) : va % TWO32;
    const vaBits = 32 - (tcr & 7);
    if (vaBits < 32 && v >= 2 ** vaBits) {
      lpaeFault(out, 1);
      return;
    }
    walkLpae(mem, regs.ttbr0Base, vaBits, 12, v, out);
    return;
  }
  const epd0 = (tcr & (1 << 7)) !== 0;
  const epd1 = (tcr & (1 << 23)) !== 0;
  // TTBR1 region: VA[63:64-T1SZ] all ones. Only such VAs need a BigInt.
  if (typeof va === "bigint" || va >= 2 ** 53) {
    const v = BigInt.asUintN(64, BigInt(va));
    const t1sz = (tcr >>> 16) & 0x3f;
    const vaBits = 64 - t1sz;
    const upper = v >> BigInt(vaBits);
    if (!epd1 && upper === (1n << BigInt(64 - vaBits)) - 1n) {
      const g = TG1_SHIFT[(tcr >>> 30) & 3]!;
      if (!g) {
        lpaeFault(out, 0);
        return;
      }
      walkLpae(mem, regs.ttbr1Base, vaBits, g, Number(v & ((1n << BigInt(vaBits)) - 1n)), out);
      return;
    }
    if (v >= 1n << 53n) {
      lpaeFault(out, 0);
      return;
    }
    va = Number(v);
  }
  const t0sz = tcr & 0x3f;
  const vaBits = 64 - t0sz;
  if (epd0 || va >= 2 ** vaBits) {
    lpaeFault(out, 0);
    return;
  }
  const g = TG0_SHIFT[(tcr >>> 14) & 3]!;
  if (!g) {
    lpaeFault(out, 0);
    return;
  }
  walkLpae(mem, regs.ttbr0Base, vaBits, g, va, out);
}

/** Short-descriptor fault PAR: F = 1, FS = translation fault (section 0b00101, page 0b00111). */
function v7sFault(out: AtsResult, page: boolean): void {
  out.parLo = (((page ? 0b00111 : 0b00101) << 1) | 1) >>> 0;
  out.parHi = 0;
}

/** Short-descriptor walk (TTBCR.N = 0: a 16 KiB first-level table of 4096 entries). */
function walkV7s(mem: PhysMem, base: number, va: number, out: AtsResult): void {
  const l1 = read32(mem, base + Math.floor(va / 0x10_0000) * 4);
  out.reads++;
  const t1 = l1 & 3;
  if (t1 === 2) {
    // Section or (bit 18) supersection. PAR: PA[31:12], SS (bit 1) for a supersection.
    if (l1 & (1 << 18)) {
      const pa = (l1 & 0xff00_0000) + (va % 0x100_0000);
      out.parLo = ((pa - (pa % 0x1000)) | 2) >>> 0;
    } else {
      const pa = (l1 & 0xfff0_0000) + (va % 0x10_0000);
      out.parLo = (pa - (pa % 0x1000)) >>> 0;
    }
    return;
  }
  if (t1 !== 1) {
    v7sFault(out, false);
    return;
  }
  const l2base = (l1 & 0xffff_fc00) >>> 0;
  const l2 = read32(mem, l2base + (Math.floor(va / 0x1000) % 256) * 4);
  out.reads++;
  if (l2 & 2) {
    out.parLo = (l2 & 0xffff_f000) >>> 0;
    return;
  }
  if (l2 & 1) {
    const pa = (l2 & 0xffff_0000) + (va % 0x1_0000);
    out.parLo = (pa - (pa % 0x1000)) >>> 0;
    return;
  }
  v7sFault(out, true);
}
