/**
 * Round trip: build an arm64-s1 table with @iommu/io-pgtable, export its memory as a raw
 * image, and let `iommu dump`'s dumpImage adopt it again. The dump lines must equal what the script
 * `dump` prints for the same mappings, and the range listing must merge contiguous leaves.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuCounters, PhysMem, SizeOut, TableAllocator } from "@iommu/core";
import { allocIoPgtableOps, IoPgtableFmt } from "@iommu/io-pgtable";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { runScript } from "../script/engine.js";
import type { ScriptEnv, ScriptTable } from "../script/target.js";
import { dumpImage } from "./image-dump.js";

const MAPS: Array<[iova: number, pa: number, pgsize: number, count: number, prot: number]> = [
  [0x1000, 0x5000, 0x1000, 2, 3],
  [0x3000, 0x9000, 0x1000, 1, 1],
  [0x40000000, 0x80000000, 0x200000, 2, 3],
  [0x40400000, 0x80400000, 0x1000, 1, 3],
  [0x7f8000000000, 0x123400000, 0x40000000, 1, 3],
];
const PROT_LETTERS = ["", "r", "w", "rw"];

describe("iommu dump --image", () => {
  it("adopts an exported arm64-s1 table and prints the script dump and merged ranges", () => {
    const families = createFamilies();
    const family = families.find((f) => f.formats.includes("arm64-s1"));
    expect(family?.adopt, "the arm64-s1 family (with adopt) must be registered").toBeDefined();

    const mem = new PhysMem();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(mem, { counters });
    const cfg = {
      quirks: 0,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator,
      counters,
    };
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, cfg);
    expect(ops).not.toBeNull();
    const mapped = new SizeOut();
    for (const [iova, pa, pgsize, count, prot] of MAPS)
      expect(ops!.mapPages(iova, pa, pgsize, count, prot, 0, mapped)).toBe(0);
    const image = mem.exportRange(allocator.base, allocator.allocatedTotal * 0x1000);

    const r = dumpImage({
      format: "arm64-s1",
      // What `iommu dump --granule 4k --ias 48 --oas 48` passes (the CLI's fmtArgsOf).
      fmtArgs: ["granule", "4k", "ias", "48", "oas", "48"],
      root: allocator.base,
      image,
      imageBase: allocator.base,
      families,
    });
    if (!r.ok) throw new Error(r.error);

    const script = [
      "fmt arm64-s1 granule 4k ias 48 oas 48",
      ...MAPS.map(
        ([iova, pa, pgsize, count, prot]) =>
          `map_pages ${iova.toString(16)} ${pa.toString(16)} ${pgsize.toString(16)} ${count} ${PROT_LETTERS[prot]}`,
      ),
      "dump",
    ].join("\n");
    const scriptOut = runScript(script, { families: createFamilies() }).split("\n").slice(0, -1);
    const dumpLines = scriptOut.slice(1 + MAPS.length);
    expect(r.lines[0]).toBe(scriptOut[0]);
    expect(r.lines.slice(1, 1 + dumpLines.length)).toEqual(dumpLines);
    expect(r.lines.slice(1 + dumpLines.length)).toEqual([
      "mapped ranges=4",
      "0x1000..0x2fff → 0x5000..0x6fff 8K rw",
      "0x3000..0x3fff → 0x9000..0x9fff 4K r",
      "0x40000000..0x40400fff → 0x80000000..0x80400fff 4100K rw",
      "0x7f8000000000..0x7f803fffffff → 0x123400000..0x1633fffff 1G rw",
    ]);
  }, 30_000);
});

/** Where the adopted tables' top table sits: below every family's default table arena (0x80000000). */
const ROOT = 0x7fff_0000;
const ROOT_BYTES = 0x1_0000;

/** Every format of every registered family that can adopt a table (`iommu dump` formats). */
const ADOPT_FORMATS: readonly string[] = createFamilies().flatMap((f) => (f.adopt ? f.formats : []));

/** `fmt` arguments where a format's defaults do not make a table (the 32-bit and Mali address sizes). */
const FMT_ARGS: Readonly<Record<string, readonly string[]>> = {
  "arm32-s1": ["ias", "32", "oas", "40"],
  "arm32-s2": ["ias", "40", "oas", "40"],
  mali: ["oas", "40"],
};
const fmtArgs = (format: string): readonly string[] => FMT_ARGS[format] ?? [];

const quietEnv = (): ScriptEnv => ({ counters: new IommuCounters(), stderr: () => {}, session: new Map() });

/**
 * A live table of `format` (default fmt arguments) over `mem`, its top table adopted at ROOT
 * (zeroed), with a few smallest pages mapped: new tables land in the family's arena, above ROOT.
 */
function liveTable(format: string, mem: PhysMem): ScriptTable {
  const family = createFamilies().find((f) => f.formats.includes(format))!;
  mem.addChunk(ROOT, ROOT_BYTES);
  const r = family.adopt!(family.parseFmt(format, fmtArgs(format))!, quietEnv(), { mem, root: ROOT });
  if (r.kind !== "ok") throw new Error(`${format}: ${r.kind}`);
  const t = r.table;
  let pgsize = 1;
  while (Math.floor(t.domain.pgsizeBitmap / pgsize) % 2 === 0) pgsize *= 2;
  // Three ranges: the first two are IOVA- but not PA-contiguous.
  for (const [iova, pa] of [
    [0x4000_0000, 0x5000_0000],
    [0x4000_0000 + pgsize, 0x6000_0000],
    [0x1000_0000, 0x7000_0000],
  ] as const) {
    const mapped = new SizeOut();
    expect(t.mapPages(iova, pa, pgsize, 1, IOMMU_READ | IOMMU_WRITE, mapped)).toBe(0);
  }
  return t;
}

describe("iommu dump of partial and damaged images", () => {
  it("lists every adopting format (the registry's LPAE, v7s, DART and generic_pt formats)", () => {
    expect(ADOPT_FORMATS).toEqual(
      expect.arrayContaining(["arm64-s1", "mali", "v7s", "dart1", "dart2", "amdv1", "riscv"]),
    );
  });

  for (const format of ADOPT_FORMATS) {
    it(`${format}: a table entry pointing outside the image is listed as a missing table`, () => {
      const mem = new PhysMem();
      const live = liveTable(format, mem);
      const liveDump = live.dump(false);
      expect(liveDump.some((l) => l.endsWith(" missing"))).toBe(false);
      expect(liveDump.filter((l) => / leaf /.test(l)).length).toBeGreaterThan(0);
      // The whole memory as one image (the gap up to the arena reads as zero): the live dump.
      const ranges = mem.ranges();
      const last = ranges[ranges.length - 1]!;
      const whole = dumpImage({
        format,
        fmtArgs: fmtArgs(format),
        root: ROOT,
        image: mem.exportRange(ROOT, last.pa + last.bytes - ROOT),
        imageBase: ROOT,
        families: createFamilies(),
      });
      if (!whole.ok) throw new Error(whole.error);
      expect(whole.lines.slice(1, 1 + liveDump.length)).toEqual(liveDump);
      expect(whole.lines).toContain("mapped ranges=3");
      // Only the top table: every table below it is outside the image.
      const top = dumpImage({
        format,
        fmtArgs: fmtArgs(format),
        root: ROOT,
        image: mem.exportRange(ROOT, ROOT_BYTES),
        imageBase: ROOT,
        families: createFamilies(),
      });
      if (!top.ok) throw new Error(top.error);
      const missing = top.lines.filter((l) => l.endsWith(" missing"));
      expect(missing.length).toBeGreaterThan(0);
      for (const l of missing) expect(l).toMatch(/ (table#\d+|ttbr\d+ table#\d+) /);
      expect(top.lines.some((l) => / leaf /.test(l))).toBe(false);
      expect(top.lines.at(-1)).toBe("mapped ranges=0");
    });
  }

  it("random bytes as the image, every adopting format: a listing, never a throw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ADOPT_FORMATS),
        fc.uint8Array({ minLength: ROOT_BYTES, maxLength: ROOT_BYTES }),
        (format, image) => {
          const r = dumpImage({
            format,
            fmtArgs: fmtArgs(format),
            root: ROOT,
            image,
            imageBase: ROOT,
            families: createFamilies(),
          });
          if (!r.ok) throw new Error(`${format}: ${r.error}`);
          const end = r.lines.findIndex((l) => l.startsWith("end tables="));
          expect(end).toBeGreaterThan(0);
          expect(r.lines[end + 1]).toMatch(/^mapped ranges=\d+$/);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it("random words written over a real table image, every adopting format: a listing, never a throw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ADOPT_FORMATS),
        fc.array(fc.tuple(fc.nat(), fc.nat(0xffff_ffff)), { minLength: 1, maxLength: 64 }),
        (format, words) => {
          const mem = new PhysMem();
          liveTable(format, mem);
          const ranges = mem.ranges();
          const last = ranges[ranges.length - 1]!;
          const image = mem.exportRange(ROOT, last.pa + last.bytes - ROOT);
          const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
          // Mostly over the tables themselves (the top table and the arena's first pages).
          const hot = [0, 0x1_0000, 0x1_1000, 0x1_2000, 0x1_4000];
          for (const [at, w] of words) {
            const off = (hot[at % hot.length]! + ((at >>> 3) % 0x1000) * 4) % image.length;
            view.setUint32(off - (off % 4), w, true);
          }
          const r = dumpImage({
            format,
            fmtArgs: fmtArgs(format),
            root: ROOT,
            image,
            imageBase: ROOT,
            families: createFamilies(),
          });
          if (!r.ok) throw new Error(`${format}: ${r.error}`);
          expect(r.lines.some((l) => /^mapped ranges=\d+$/.test(l))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
