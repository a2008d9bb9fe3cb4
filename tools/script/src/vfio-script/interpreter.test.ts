import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createLpaeVfioDrivers } from "./drivers.js";
import { errLine, VfioScript } from "./interpreter.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/vectors/vfio");
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => f.slice(0, -4));

function run(text: string, unmapMode?: "legacy" | "length"): string {
  return new VfioScript(createLpaeVfioDrivers(), { unmapMode }).run(text);
}

function lines(text: string): string[] {
  return run(text).trimEnd().split("\n");
}

// Formerly on @iommu/vfio's LPAE-like test domain; the interpreter now lives with the real
// drivers and runs on the io-pgtable ARM_64_LPAE_S1 tables the reference harness builds.
describe("VFIO vectors on io-pgtable ARM_64_LPAE_S1 drivers", () => {
  it.each(vectors)("%s matches byte for byte", (name) => {
    const out = run(readFileSync(join(dir, `${name}.txt`), "utf8"));
    expect(out).toBe(readFileSync(join(dir, `${name}.out`), "utf8"));
  });

  it.each(vectors)("%s in length mode differs only in iova_to_phys counts", (name) => {
    const want = readFileSync(join(dir, `${name}.out`), "utf8").split("\n");
    const got = run(readFileSync(join(dir, `${name}.txt`), "utf8"), "length").split("\n");
    expect(got).toHaveLength(want.length);
    const strip = (l: string) => l.replace(/iova_to_phys=\d+/, "iova_to_phys=*");
    expect(got.map(strip)).toEqual(want.map(strip));
    for (let i = 0; i < got.length; i++) {
      const g = /iova_to_phys=(\d+)/.exec(got[i]!);
      const w = /iova_to_phys=(\d+)/.exec(want[i]!);
      if (g && w) expect(Number(g[1])).toBeLessThanOrEqual(Number(w[1]));
    }
  });
});

describe("script language", () => {
  it("needs a container for container commands, refuses a second one", () => {
    expect(
      lines("counts\nmap_dma 0 0 1000 rw\nphys 0\ndmas\ninfo\nrelease\ndomain attach\nunmap_dma 0 1000"),
    ).toEqual(Array(8).fill("err no-container"));
    expect(lines("container\ncontainer v1")).toEqual([
      "ok container type=v2 dma_entry_limit=65535 limit_locked=unlimited",
      "err container-exists",
    ]);
  });

  it("echoes, ignores comments and blank lines, numbers unknown commands by input line", () => {
    expect(lines("# comment\n\necho  a   b # c\nfrobnicate 1\n  \nnope")).toEqual([
      "a b",
      "err unknown-command line 4",
      "err unknown-command line 6",
    ]);
  });

  it("prints container options and rejects bad syntax", () => {
    expect(lines("container v1 limit_locked 10000 dma_entry_limit 3 cap_ipc_lock")).toEqual([
      "ok container type=v1 dma_entry_limit=3 limit_locked=0x10000 cap_ipc_lock",
    ]);
    expect(lines("container bogus\ncontainer limit_locked zz\nmem 1000\nmem 0 1000 huge")).toEqual(
      Array(4).fill("err bad-args"),
    );
  });

  it("parses numbers like strtoull: optional 0x, leading zeros, 64-bit range", () => {
    expect(
      lines(
        "mem 0x10000 0X1000 scattered seed 007\nmem 00000000000000000020000 1000 thp\nmem 10000000000000000 1000 thp",
      ),
    ).toEqual([
      "ok mem vaddr=0x10000 size=0x1000 kind=scattered seed=7 runs=1",
      "ok mem vaddr=0x20000 size=0x1000 kind=thp seed=1 runs=1",
      "err bad-args",
    ]);
  });

  it("reports mem errors and layout holes", () => {
    expect(
      lines(
        "mem 10000 3000 scattered seed 2 ro\nmem 12000 1000 scattered\nmem 100000 1000 hugetlb2m\nlayout f000 3000",
      ),
    ).toEqual([
      "ok mem vaddr=0x10000 size=0x3000 kind=scattered seed=2 runs=3 ro",
      "err overlap",
      "err bad-args",
      "hole vaddr=0xf000 size=0x1000",
      expect.stringMatching(/^run vaddr=0x10000 size=0x1000 pa=0x[0-9a-f]+$/),
      expect.stringMatching(/^run vaddr=0x11000 size=0x1000 pa=0x[0-9a-f]+$/),
      "end runs=2",
    ]);
  });

  it("prints errno lines, info, dmas, phys, detach and release", () => {
    const out = lines(
      [
        "container dma_entry_limit 2",
        "mem 7f0000000000 400000 hugetlb2m seed 3",
        "info",
        "domain attach ias 40",
        "map_dma 7f0000000000 200000 200000 r",
        "map_dma 7f0000000000 200000 200000 rw",
        "map_dma 7f0000200000 600000 200000 -",
        "map_dma 7f0000200000 600000 200000 w",
        "map_dma 7f0000200000 a00000 1000 w",
        "phys 200000 domain 1",
        "dmas",
        "info",
        "unmap_dma 201000 1000",
        "domain detach 1",
        "domain detach 9",
        "release",
        "counts",
        "container",
        "domain attach pgsizes 1000",
        "domain attach driver 2",
      ].join("\n"),
    );
    expect(out).toEqual([
      "ok container type=v2 dma_entry_limit=2 limit_locked=unlimited",
      "ok mem vaddr=0x7f0000000000 size=0x400000 kind=hugetlb2m seed=3 runs=2",
      "info pgsizes=0xfffffffffffff000 mig_pgsizes=0x1000 dma_avail=2 iova_ranges=",
      "ok attach group=1 driver=1 domains=1 pgsize_bitmap=0x40201000",
      "ok",
      "err -17 (EEXIST)",
      "err -22 (EINVAL)",
      "ok",
      "err -28 (ENOSPC)",
      "err no-domain",
      expect.stringMatching(/^dma iova=0x200000 size=0x200000 vaddr=0x7f0000000000 prot=r locked_vm=512$/),
      "dma iova=0x600000 size=0x200000 vaddr=0x7f0000200000 prot=w locked_vm=512",
      "end dmas=2",
      "info pgsizes=0x40201000 mig_pgsizes=0x1000 dma_avail=0 iova_ranges=0x0-0xffffffffff",
      "err -22 (EINVAL)",
      "ok detach group=1 domains=0 pgsize_bitmap=0xfffffffffffff000",
      "err bad-args",
      "ok release",
      "err no-container",
      "ok container type=v2 dma_entry_limit=65535 limit_locked=unlimited",
      "ok attach group=2 driver=2 domains=1 pgsize_bitmap=0x1000",
      "ok attach group=3 driver=2 domains=1 pgsize_bitmap=0x1000",
    ]);
  });

  it("suffixes kernel WARNs and names unprinted errnos E?", () => {
    expect(errLine(-95)).toBe("err -95 (E?)");
    expect(errLine(-34)).toBe("err -34 (ERANGE)");
  });

  it("honours a container's unmap mode", () => {
    const script = [
      "container unmap length",
      "mem 7f0000000000 200000 hugetlb2m",
      "domain attach",
      "map_dma 7f0000000000 0 200000 rw",
      "unmap_dma 0 200000",
      "counts",
    ].join("\n");
    expect(lines(script)[0]).toBe("ok container type=v2 dma_entry_limit=65535 limit_locked=unlimited");
    expect(lines(script)[5]).toMatch(/^counts iova_to_phys=1 unmap_calls=1 /);
  });
});
