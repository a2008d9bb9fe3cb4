/**
 * Test kit (not published) for the io-pgtable inspectors (drivers/iommu/io-pgtable*.c read
 * back): reference computations written from the formats' internals — as the script engine
 * computed its `walk` / `dump` / prot letters before it formatted inspectors (that text now
 * lives in tools/script's inspect-text.ts) — returning data, and the same data taken from a
 * PageTableInspector alone, so tests can show the inspector carries everything those lines need.
 */
import {
  type Addr,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type PageTableInspector,
  type PteInfo,
  toBigInt,
} from "@iommu/core";
import type { AppleDartIoPgtable } from "../apple-dart/apple-dart.js";
import {
  APPLE_DART_PTE_VALID,
  APPLE_DART1_PTE_PROT_NO_READ,
  APPLE_DART1_PTE_PROT_NO_WRITE,
  APPLE_DART2_PTE_PROT_NO_CACHE,
  APPLE_DART2_PTE_PROT_NO_READ,
  APPLE_DART2_PTE_PROT_NO_WRITE,
  appleDartAttrsHi,
  appleDartAttrsLo,
  appleDartIopteToPaddr,
} from "../apple-dart/pte.js";
import {
  HI_DBM,
  HI_XN,
  LO_AP_RDONLY,
  LO_AP_UNPRIV,
  LO_HAP_READ,
  LO_HAP_WRITE,
} from "../arm-lpae/constants.js";
import type { ArmLpaeIoPgtable } from "../arm-lpae/pgtable.js";
import type { ArmV7sIoPgtable } from "../arm-v7s/arm-v7s.js";
import {
  ARM_V7S_CONT_SECTION,
  ARM_V7S_L1_ATTR_SHIFT,
  ARM_V7S_L2_ATTR_SHIFT,
  ARM_V7S_L2_ENTRIES,
  ARM_V7S_PTE_AP_RDONLY,
  ARM_V7S_PTE_AP_UNPRIV,
  ARM_V7S_PTE_TYPE_PAGE,
  ARM_V7S_PTE_TYPE_TABLE,
  ARM_V7S_TEX_MASK,
  ARM_V7S_TEX_SHIFT,
} from "../arm-v7s/defs.js";
import { armV7sIopteToPaddr, armV7sPteIsCont } from "../arm-v7s/pte.js";
import { IO_PGTABLE_QUIRK_NO_PERMS, IoPgtableFmt, type IoPgtableOps } from "../io-pgtable.js";

const U64_MAX = (1n << 64n) - 1n;

const PROT_ORDER: ReadonlyArray<readonly [number, string]> = [
  [IOMMU_READ, "r"],
  [IOMMU_WRITE, "w"],
  [IOMMU_CACHE, "c"],
  [IOMMU_NOEXEC, "x"],
  [IOMMU_MMIO, "m"],
  [IOMMU_PRIV, "p"],
];

/** Prot flags as SCRIPT-FORMAT.md letters (`rwcxmp` order): the encoding of the prot references below. */
export function protLetters(prot: number): string {
  return PROT_ORDER.map(([bit, ch]) => (prot & bit ? ch : "")).join("");
}

/** {@link protLetters} of a prot that may be absent (an unmapped IOVA). */
export function lettersOf(prot: number | undefined): string | undefined {
  return prot === undefined ? undefined : protLetters(prot);
}

/**
 * One entry as the harness's `dump` lists it: the data its line prints (the text around it is
 * tools/script's). `attrs` only where it is not a fixed mask of `raw` (DART tables).
 */
export interface DumpEntry {
  /** The level the line names (`L<l>`). */
  readonly level: number;
  /** Index path from the top (`i/j/k`; DART: the TTBR index first). */
  readonly path: string;
  /** DART's TTBR lines are `ttbr`. */
  readonly kind: "ttbr" | "table" | "leaf" | "invalid";
  /** Tables, TTBRs and leaves: the first IOVA covered (as the dump prints it). */
  readonly iova?: bigint;
  readonly raw: bigint;
  /** Leaves: the item's size. */
  readonly size?: number;
  /** v7s leaves: a copy of a 64K / 16M entry (` cont`). */
  readonly cont?: boolean;
  /** DART tables: the entry without its address field. */
  readonly attrs?: bigint;
}

// ---------------------------------------------------------------------------------------------
// From the inspector alone

/** The prot flags of the leaf translating `iova`, from `walk()`; undefined when unmapped. */
export function walkLeafProt(insp: PageTableInspector, iova: Addr): number | undefined {
  const w = insp.walk(iova);
  return w.end === "leaf" ? w.steps.at(-1)!.prot : undefined;
}

/** What pgtable_walk records (`ret`, the entry read at each level 0..3), from the inspector. */
export interface LpaeWalkData {
  readonly ret: number;
  readonly ptes: readonly bigint[];
}

/**
 * The LPAE `pgtable_walk` result from `walk()`. The kernel's pgtable_walk masks the top index
 * instead of range-checking, so an out-of-range IOVA walks its alias inside the table; and
 * 2^64 − 1 walks nothing (the walker's `end = iova + 1` wraps), ret 0.
 */
export function lpaeWalkOf(insp: PageTableInspector, iova: Addr): LpaeWalkData {
  const g = insp.geometry();
  let va = toBigInt(iova) & U64_MAX;
  const ptes = [0n, 0n, 0n, 0n];
  if (va === U64_MAX) return { ret: 0, ptes };
  let w = insp.walk(va);
  if (w.end === "out-of-range") {
    const m = (1n << BigInt(g.iasBits)) - 1n;
    va = g.signExtended ? (va | ~m) & U64_MAX : va & m;
    w = insp.walk(va);
  }
  for (const s of w.steps) ptes[s.level] = s.raw;
  return { ret: w.end === "leaf" ? 0 : -22, ptes };
}

/** Every visited entry with its index path from the top (`i/j/k`). */
function withPaths(insp: PageTableInspector, f: (e: PteInfo, path: string) => void): void {
  const stack: number[] = [];
  insp.visit((e) => {
    stack.length = e.depth;
    stack.push(e.index);
    f(e, stack.join("/"));
  });
}

/** The LPAE dump entries from `visit()` (IOVAs unsigned within ias, as the harness prints them). */
export function lpaeVisitEntries(insp: PageTableInspector): DumpEntry[] {
  const mask = (1n << BigInt(insp.geometry().iasBits)) - 1n;
  const out: DumpEntry[] = [];
  withPaths(insp, (e, path) => {
    const { level, kind, raw } = e;
    if (kind === "invalid") out.push({ level, path, kind, raw });
    else if (kind === "table") out.push({ level, path, kind, iova: e.iova & mask, raw });
    else out.push({ level, path, kind, iova: e.iova & mask, raw, size: e.itemSize });
  });
  return out;
}

/** The v7s dump entries from `visit()`: a leaf whose unit is larger than its item is a copy (` cont`). */
export function v7sVisitEntries(insp: PageTableInspector): DumpEntry[] {
  const out: DumpEntry[] = [];
  withPaths(insp, (e, path) => {
    const { level, kind, raw, iova } = e;
    if (kind === "invalid") out.push({ level, path, kind, raw });
    else if (kind === "table") out.push({ level, path, kind, iova, raw });
    else out.push({ level, path, kind, iova, raw, size: e.itemSize, cont: e.leafSize !== e.itemSize });
  });
  return out;
}

/**
 * The DART dump entries from `visit()`: depth 0 is the TTBR set (one level above the top
 * table); a table's attrs are its raw bits without the bits of its address field (`NLTA`).
 */
export function dartVisitEntries(insp: PageTableInspector): DumpEntry[] {
  const out: DumpEntry[] = [];
  withPaths(insp, (e, path) => {
    const { kind, raw, iova } = e;
    if (e.depth === 0) out.push({ level: e.level - 1, path, kind: "ttbr", iova, raw });
    else if (kind === "table") {
      const [hi, lo] = e.fields
        .find((f) => f.name === "NLTA")!
        .bits.split(":")
        .map(BigInt) as [bigint, bigint];
      const attrs = raw & ~(((1n << (hi + 1n)) - 1n) & ~((1n << lo) - 1n));
      out.push({ level: e.level, path, kind, iova, raw, attrs });
    } else if (kind === "leaf") out.push({ level: e.level, path, kind, iova, raw, size: e.itemSize });
    else out.push({ level: e.level, path, kind, raw });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The engine's former computations from the formats' internals (the reference)

/** tools/script `LpaeTable.walk()`'s data: pgtable_walk's return and recorded entries. */
export function legacyLpaeWalk(ops: IoPgtableOps, iova: Addr): LpaeWalkData {
  const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
  const ret = ops.pgtableWalk!(iova, wd);
  return { ret, ptes: wd.ptes };
}

/** tools/script's former `LpaeTable.dump()` walker, as data. */
export function legacyLpaeDumpEntries(d: ArmLpaeIoPgtable): DumpEntry[] {
  const mem = d.mem;
  const out: DumpEntry[] = [];
  const visit = (lvl: number, pa: number, entries: number, iovaBase: bigint, path: string): void => {
    const size = d.blockSize[lvl]!;
    for (let i = 0; i < entries; i++) {
      const raw = mem.read64(pa + 8 * i);
      if (raw === 0n) continue;
      const p = path === "" ? `${i}` : `${path}/${i}`;
      const iova = iovaBase + BigInt(i) * BigInt(size);
      const type = Number(raw & 3n);
      if (lvl < 3 && type === 3) {
        out.push({ level: lvl, path: p, kind: "table", iova, raw });
        visit(lvl + 1, d.ptePa(Number(raw & 0xffffffffn), Number(raw >> 32n)), d.ptesPerTable, iova, p);
      } else if (type === (lvl === 3 && !d.isMali ? 3 : 1))
        out.push({ level: lvl, path: p, kind: "leaf", iova, raw, size });
      else out.push({ level: lvl, path: p, kind: "invalid", raw });
    }
  };
  visit(d.startLevel, d.pgdPa, 2 ** d.pgdBits, 0n, "");
  return out;
}

/** io-pgtable's former `armV7sDumpLines()` walker, as data. */
export function legacyV7sDumpEntries(iop: ArmV7sIoPgtable): DumpEntry[] {
  const mem = iop.cfg.allocator.mem;
  const out: DumpEntry[] = [];
  for (let i = 0; i < iop.l1Entries; i++) {
    const e = iop.l1Entry(i);
    if (e === 0) continue;
    const iova = i * 2 ** 20;
    if ((e & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      out.push({ level: 1, path: `${i}`, kind: "table", iova: BigInt(iova), raw: BigInt(e >>> 0) });
      const tpa = armV7sIopteToPaddr(e, 1, iop.mtk);
      const c = mem.chunk(tpa);
      if (!c) continue;
      const base = (tpa - c.pa) / 4;
      for (let j = 0; j < ARM_V7S_L2_ENTRIES; j++) {
        const e2 = c.words[base + j]!;
        if (e2 === 0) continue;
        const path = `${i}/${j}`;
        if ((e2 & 3) === 0) {
          out.push({ level: 2, path, kind: "invalid", raw: BigInt(e2) });
          continue;
        }
        const cont = (e2 & ARM_V7S_PTE_TYPE_PAGE) === 0;
        const va = BigInt(iova + j * 4096);
        out.push({ level: 2, path, kind: "leaf", iova: va, raw: BigInt(e2), size: 4096, cont });
      }
    } else if ((e & 3) !== 0) {
      const cont = (e & ARM_V7S_CONT_SECTION) !== 0;
      out.push({
        level: 1,
        path: `${i}`,
        kind: "leaf",
        iova: BigInt(iova),
        raw: BigInt(e >>> 0),
        size: 2 ** 20,
        cont,
      });
    } else out.push({ level: 1, path: `${i}`, kind: "invalid", raw: BigInt(e >>> 0) });
  }
  return out;
}

/** io-pgtable's former `appleDartDumpLines()` walker, as data (attrs: `iopte & ~PADDR_MASK`). */
export function legacyDartDumpEntries(iop: AppleDartIoPgtable): DumpEntry[] {
  const mem = iop.cfg.allocator.mem;
  const dart2 = iop.isDart2;
  const bpl = iop.bitsPerLevel;
  const top = iop.levels - 1;
  const out: DumpEntry[] = [];
  const visit = (tpa: number, level: number, path: string, iova: bigint): void => {
    const c = mem.chunk(tpa);
    if (!c) return;
    const base = (tpa - c.pa) / 4;
    const span = 1n << BigInt(level * bpl + 3);
    for (let i = 0; i < iop.ptesPerTable; i++) {
      const lo = c.words[base + 2 * i]!;
      const hi = c.words[base + 2 * i + 1]!;
      if (lo === 0 && hi === 0) continue;
      const p = `${path}/${i}`;
      const va = iova + BigInt(i) * span;
      const raw = (BigInt(hi) << 32n) | BigInt(lo);
      if (level > 1) {
        const attrs = (BigInt(appleDartAttrsHi(hi, dart2)) << 32n) | BigInt(appleDartAttrsLo(lo, dart2));
        out.push({ level, path: p, kind: "table", iova: va, raw, attrs });
        visit(appleDartIopteToPaddr(lo, hi, dart2), level - 1, p, va);
      } else if (lo & APPLE_DART_PTE_VALID)
        out.push({ level: 1, path: p, kind: "leaf", iova: va, raw, size: iop.pgsize });
      else out.push({ level: 1, path: p, kind: "invalid", raw });
    }
  };
  const ttbrSpan = 1n << BigInt(iop.levels * bpl + 3);
  for (let t = 0; t < iop.nTtbrs; t++) {
    const iova = BigInt(t) * ttbrSpan;
    out.push({ level: top, path: `${t}`, kind: "ttbr", iova, raw: BigInt(iop.pgd[t]!) });
    visit(iop.pgd[t]!, top, String(t), iova);
  }
  return out;
}

/** tools/script's former `LpaeTable.leafProt()`. */
export function legacyLpaeLeafProt(ops: IoPgtableOps, d: ArmLpaeIoPgtable, iova: Addr): string | undefined {
  const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
  if (ops.pgtableWalk!(iova, wd) !== 0) return undefined;
  const pte = wd.ptes[wd.level]!;
  const lo = Number(pte & 0xffffffffn);
  const hi = Number(pte >> 32n);
  const fmt = d.fmt;
  const s1 = fmt === IoPgtableFmt.ARM_64_LPAE_S1 || fmt === IoPgtableFmt.ARM_32_LPAE_S1;
  const s2 = fmt === IoPgtableFmt.ARM_64_LPAE_S2 || fmt === IoPgtableFmt.ARM_32_LPAE_S2;
  const attr = s2 ? (lo >> 2) & 0xf : (lo >> 2) & 7;
  let s = "";
  if (s1) s += `r${!(lo & LO_AP_RDONLY) || hi & HI_DBM ? "w" : ""}`;
  else s += `${lo & LO_HAP_READ ? "r" : ""}${lo & LO_HAP_WRITE ? "w" : ""}`;
  if (s2 ? attr === 0xf || attr === 0x6 : attr === 1) s += "c";
  if ((hi & HI_XN) !== 0) s += "x";
  if (s2 ? attr === 0x1 : attr === 2) s += "m";
  if (s1 && !(lo & LO_AP_UNPRIV)) s += "p";
  return s;
}

/** tools/script's former `V7sScriptTable.leafProt()`. */
export function legacyV7sLeafProt(iop: ArmV7sIoPgtable, iova: Addr): string | undefined {
  const leaf = iop.leafAt(iova);
  if (!leaf) return undefined;
  const { pte, lvl } = leaf;
  const noPerms = (iop.quirks & IO_PGTABLE_QUIRK_NO_PERMS) !== 0;
  const attr = pte >>> (lvl === 1 ? ARM_V7S_L1_ATTR_SHIFT : ARM_V7S_L2_ATTR_SHIFT);
  let prot = IOMMU_READ;
  if (noPerms || !(attr & ARM_V7S_PTE_AP_RDONLY)) prot |= IOMMU_WRITE;
  if (!noPerms && !(attr & ARM_V7S_PTE_AP_UNPRIV)) prot |= IOMMU_PRIV;
  const tex =
    lvl === 2 && armV7sPteIsCont(pte, 2)
      ? (pte >>> 12) & ARM_V7S_TEX_MASK
      : (attr >>> ARM_V7S_TEX_SHIFT) & ARM_V7S_TEX_MASK;
  if (tex === 0) prot |= IOMMU_MMIO;
  else if (pte & 0x8) prot |= IOMMU_CACHE;
  const xn = lvl === 1 ? pte & 0x10 : armV7sPteIsCont(pte, 2) ? pte & 0x8000 : pte & 0x1;
  if (xn && !noPerms) prot |= IOMMU_NOEXEC;
  return protLetters(prot);
}

/** tools/script's former `DartScriptTable.leafProt()`. */
export function legacyDartLeafProt(iop: AppleDartIoPgtable, iova: Addr): string | undefined {
  const lo = iop.leafLowWord(iova);
  if (lo === undefined) return undefined;
  let prot = 0;
  if (iop.isDart2) {
    if (!(lo & APPLE_DART2_PTE_PROT_NO_READ)) prot |= IOMMU_READ;
    if (!(lo & APPLE_DART2_PTE_PROT_NO_WRITE)) prot |= IOMMU_WRITE;
    if (!(lo & APPLE_DART2_PTE_PROT_NO_CACHE)) prot |= IOMMU_CACHE;
  } else {
    if (!(lo & APPLE_DART1_PTE_PROT_NO_READ)) prot |= IOMMU_READ;
    if (!(lo & APPLE_DART1_PTE_PROT_NO_WRITE)) prot |= IOMMU_WRITE;
  }
  return protLetters(prot);
}

/**
 * Every field of an entry agrees with its raw bits (address fields aside): the decode
 * loses nothing and invents nothing.
 */
export function fieldsMatchRaw(e: PteInfo): boolean {
  for (const f of e.fields) {
    if (typeof f.value === "bigint") continue;
    const [hi, lo = hi] = f.bits.split(":").map(Number) as [number, number?];
    const v = (e.raw >> BigInt(lo!)) & ((1n << BigInt(hi - lo! + 1)) - 1n);
    if (Number(v) !== f.value) return false;
  }
  return true;
}
