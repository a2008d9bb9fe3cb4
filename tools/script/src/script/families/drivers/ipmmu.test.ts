/**
 * `fmt driver=ipmmu`: the io-pgtable ARM_32_LPAE_S1 4K 32/40 vector replayed through the
 * IPMMU driver's cfg path (ipmmu_attach_device → ipmmu_domain_init_context →
 * alloc_io_pgtable_ops), and the options. The driver's cfg is the vector's plus what the
 * kernel driver adds: IO_PGTABLE_QUIRK_ARM_NS, a non-coherent walk and its own flush ops. So
 * every line is the kernel's except, exactly: leaves carry NS (bit 5), table entries NSTABLE
 * (bit 63) and, written for a non-coherent walker, the SW_SYNC mark (bit 55); and `stats`
 * counts no tlb_add_page callbacks (ipmmu_flush_ops has none). Against the bare format with
 * the same cfg (`quirks ns noncoherent`) only that last difference remains.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";
import { createIpmmuFamily } from "./ipmmu.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, "../../../fixtures/vectors/io-pgtable");
const NAME = "lpae-a32s1-4k-i32o40-random";

function run(text: string): string {
  const families = createFamilies();
  if (!families.some((f) => f.formats.includes("driver=ipmmu"))) families.push(createIpmmuFamily());
  return runScript(text, { families });
}

const script = readFileSync(join(vectors, `${NAME}.txt`), "utf8");
const kernel = readFileSync(join(vectors, `${NAME}.out`), "utf8");
const withFmt = (fmt: string) => script.replace(/^fmt .*$/m, fmt);

/** ARM_LPAE_PTE_NS, ARM_LPAE_PTE_NSTABLE, ARM_LPAE_PTE_SW_SYNC. */
const NS = 1n << 5n;
const NSTABLE = 1n << 63n;
const SW_SYNC = 1n << 55n;

function hex16(v: bigint): string {
  return `0x${v.toString(16).padStart(16, "0")}`;
}

describe(`${NAME} through ipmmu-vmsa`, () => {
  it("the kernel's output with the NS quirk's and non-coherent walk's bits, and no add_page callbacks", () => {
    let leaves = 0;
    let tables = 0;
    let stats = 0;
    const want = kernel
      .split("\n")
      .map((line) => {
        if (line.startsWith("stats ")) {
          stats++;
          return line.replace(/ tlb_add_page=\d+ /, " tlb_add_page=0 ");
        }
        const leaf = / leaf .* raw=(0x[0-9a-f]{16})$/.exec(line);
        if (leaf) {
          leaves++;
          return line.replace(leaf[1]!, hex16(BigInt(leaf[1]!) | NS));
        }
        const table = / table#\d+ .* attrs=(0x[0-9a-f]+)$/.exec(line);
        if (table) {
          tables++;
          return line.replace(
            /attrs=0x[0-9a-f]+$/,
            `attrs=0x${(BigInt(table[1]!) | NSTABLE | SW_SYNC).toString(16)}`,
          );
        }
        return line;
      })
      .join("\n");
    expect([leaves > 0, tables > 0, stats]).toEqual([true, true, 4]);
    expect(run(withFmt("fmt driver=ipmmu soc=r8a7795"))).toBe(want);
  });

  it("equals the bare format given the driver's cfg, but for the harness's own add_page callbacks", () => {
    const bare = run(withFmt("fmt arm32-s1 granule 4k ias 32 oas 40 quirks ns noncoherent")).replace(
      / tlb_add_page=\d+ /g,
      " tlb_add_page=0 ",
    );
    for (const soc of ["r8a7790", "r8a7795", "r8a779g0"])
      expect(run(withFmt(`fmt driver=ipmmu soc=${soc}`)), soc).toBe(bare);
  });
});

describe("fmt driver=ipmmu options", () => {
  it("info: SoC, features, the context and its registers", () => {
    const out = run(
      ["fmt driver=ipmmu soc=r8a7795", "info", "fmt driver=ipmmu", "info", ""].join("\n"),
    ).split("\n");
    expect(out[1]).toBe(
      "info driver=ipmmu-vmsa soc=r8a7795 family=R-Car_Gen3 compatible=renesas,ipmmu-r8a7795 contexts=8" +
        " free_contexts=6 utlbs=48 cache_snoop=0 ctx=1 imttbcr=0x80000080 imttlbr0=0x80000000 imttubr0=0x0" +
        " imctr=0x5 aperture=0x0-0xffffffff tlb_flushes=1",
    );
    expect(out[3]).toBe(
      "info driver=ipmmu-vmsa soc=r8a7790 family=R-Car_Gen2 compatible=renesas,ipmmu-vmsa contexts=1" +
        " free_contexts=0 utlbs=32 cache_snoop=1 ctx=0 imttbcr=0x80003510 imttlbr0=0x80000000 imttubr0=0x0" +
        " imctr=0x5 aperture=0x0-0xffffffff tlb_flushes=1",
    );
  });

  it("unmap flushes the whole context once per call; map does not flush", () => {
    const out = run(
      ["fmt driver=ipmmu", "map 0 100000000 4000 rw", "info", "unmap 0 4000", "info", ""].join("\n"),
    ).split("\n");
    expect(out[2]).toMatch(/ tlb_flushes=1$/);
    expect(out[4]).toMatch(/ tlb_flushes=2$/);
  });

  it("refusals and bad options", () => {
    // ipmmu_device_is_allowed: H3 ES2.x is denied; a platform device outside the allow list too.
    expect(run("fmt driver=ipmmu soc=r8a7795 rev=ES2.0\n")).toBe("err -19 (ENODEV)\n");
    expect(run("fmt driver=ipmmu soc=r8a77965 pci=0 dev=e6800000.ethernet\n")).toBe("err -19 (ENODEV)\n");
    expect(run("fmt driver=ipmmu soc=r8a77965 pci=0 dev=ee100000.mmc\n")).toMatch(/^ok fmt=arm32-s1 /);
    expect(run("fmt driver=ipmmu utlb=32\n")).toBe("err -22 (EINVAL)\n");
    for (const bad of ["soc=r8a0000", "rev=3", "utlb=x", "pci=2", "frob=1", "ptbase=1000", "soc"])
      expect(run(`fmt driver=ipmmu ${bad}\n`), bad).toBe("err bad-args\n\n");
  });
});
