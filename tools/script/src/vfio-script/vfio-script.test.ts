import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runVfioScript } from "./run.js";

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "../fixtures/vectors/vfio");
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => f.slice(0, -4));

const read = (name: string, ext: string) => readFileSync(join(dir, `${name}.${ext}`), "utf8");
const walks = (line: string) => /iova_to_phys=(\d+)/.exec(line)?.[1];

describe("iommu vfio-script: public VFIO vectors on io-pgtable ARM_64_LPAE_S1", () => {
  it.each(vectors)("%s matches the kernel byte for byte", (name) => {
    expect(runVfioScript(read(name, "txt"))).toBe(read(name, "out"));
  });

  it.each(vectors)("%s with --unmap-mode length differs only in (fewer) lookups", (name) => {
    const want = read(name, "out").split("\n");
    const got = runVfioScript(read(name, "txt"), { unmapMode: "length" }).split("\n");
    const strip = (l: string) => l.replace(/iova_to_phys=\d+/, "iova_to_phys=*");
    expect(got.map(strip)).toEqual(want.map(strip));
    for (let i = 0; i < got.length; i++) {
      const g = walks(got[i]!);
      if (g !== undefined) expect(Number(g)).toBeLessThanOrEqual(Number(walks(want[i]!)));
    }
  });

  it.each(vectors)("%s also matches on arm-smmu-v3 driver domains", (name) => {
    expect(runVfioScript(read(name, "txt"), { domains: "smmu" })).toBe(read(name, "out"));
  });

  it("headline walk counts: legacy vs length", () => {
    const counts = (name: string, mode: "legacy" | "length") =>
      runVfioScript(read(name, "txt"), { unmapMode: mode })
        .split("\n")
        .filter((l) => l.startsWith("counts"))
        .map((l) => Number(walks(l)))
        .filter((n) => n > 0);
    expect(counts("vfio-headline-1g-hugetlb", "legacy")).toEqual([262144]);
    expect(counts("vfio-headline-1g-hugetlb", "length")).toEqual([1]);
    expect(counts("vfio-headline-1g-thp", "length")).toEqual([512]);
    expect(counts("vfio-headline-2m", "length")).toEqual([1, 1, 512]);
    expect(counts("vfio-headline-scattered", "length")).toEqual([4, 512, 16384]);
    expect(counts("vfio-replay", "length")).toEqual([19, 2, 17]);
  });
});

describe("error paths on the real page table", () => {
  it("a 64K-granule domain refuses scattered 4K memory at iommu_map and undoes the pins", () => {
    const out = runVfioScript(
      [
        "container",
        "mem 7f0000000000 20000 scattered",
        "domain attach pgsizes 10000",
        "map_dma 7f0000000000 100000 20000 rw",
        "counts",
        "dmas",
      ].join("\n"),
    );
    expect(out).toBe(
      [
        "ok container type=v2 dma_entry_limit=65535 limit_locked=unlimited",
        "ok mem vaddr=0x7f0000000000 size=0x20000 kind=scattered seed=1 runs=32",
        "ok attach group=1 driver=1 domains=1 pgsize_bitmap=0x10000",
        "err -22 (EINVAL)",
        "counts iova_to_phys=0 unmap_calls=0 map_calls=1 iotlb_sync=0 locked_vm=0 pinned=0 unmap_fast=0 pt_map_pages=0 pt_unmap_pages=0 dma_avail=65535",
        "end dmas=0",
        "",
      ].join("\n"),
    );
  });

  it("a domain the format cannot build fails the attach; ias is clamped to the granule's limit", () => {
    expect(runVfioScript("container\ndomain attach pgsizes 40000000\ndomain attach ias 53\ninfo\n")).toBe(
      [
        "ok container type=v2 dma_entry_limit=65535 limit_locked=unlimited",
        "err -12 (ENOMEM)",
        "ok attach group=2 driver=2 domains=1 pgsize_bitmap=0x40201000",
        "info pgsizes=0x40201000 mig_pgsizes=0x1000 dma_avail=65535 iova_ranges=0x0-0xffffffffffff",
        "",
      ].join("\n"),
    );
  });
});

describe("random scripts on real page tables", () => {
  const mem = [
    "mem 7f0000000000 100000 scattered seed 4",
    "mem 7f0001000000 600000 thp seed 5",
    "mem 7f0002000000 800000 hugetlb2m seed 6",
  ];
  const vaddrs = [0x7f0000000000, 0x7f0001000000, 0x7f0002000000];
  const line = fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 15 }),
        fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(512, 1024, 513)),
        fc.constantFrom("r", "w", "rw"),
      )
      .map(([r, off, slot, pages, prot]) => {
        const v = vaddrs[r]! + off * 0x1000;
        return `map_dma ${v.toString(16)} ${(slot * 0x400000 + off * 0x1000).toString(16)} ${(pages * 0x1000).toString(16)} ${prot}`;
      }),
    fc
      .tuple(
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 2048 }),
      )
      .map(
        ([slot, off, pages]) =>
          `unmap_dma ${(slot * 0x400000 + off * 0x1000).toString(16)} ${(pages * 0x1000).toString(16)}`,
      ),
    fc.constantFrom("domain attach", "domain attach driver 1", "domain detach 2", "counts", "dmas"),
  );

  it("legacy and length modes agree on everything but lookups, and release frees every pin", () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (body) => {
        const script = [
          "container",
          ...mem,
          "domain attach",
          ...body,
          "unmap_dma 0 0 all",
          "release",
          "container",
          "counts",
        ].join("\n");
        const legacy = runVfioScript(script).split("\n");
        const length = runVfioScript(script, { unmapMode: "length" }).split("\n");
        const strip = (l: string) => l.replace(/iova_to_phys=\d+/, "iova_to_phys=*");
        expect(length.map(strip)).toEqual(legacy.map(strip));
        expect(legacy.some((l) => l.includes("warn="))).toBe(false);
        expect(legacy.at(-2)).toMatch(/ locked_vm=0 pinned=0 .* dma_avail=65535$/);
      }),
      { numRuns: 25 },
    );
  });
});
