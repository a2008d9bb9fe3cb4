/**
 * `fmt driver=intel` / `fmt driver=amd`: the generic_pt vectors replayed through the x86
 * drivers' cfg path — every bare `fmt` line whose cfg a driver derives from some hardware is
 * rewritten to open the table through that driver, and the output must stay byte-identical —
 * plus option parsing, refusals and driver-only cfgs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { iommuIovaToPhysLength, PhysLength, SZ_1G } from "@iommu/core";
import { AmdIommu } from "@iommu/drivers-amd";
import { IntelIommu, VTD_LEGACY_CAP, VTD_LEGACY_ECAP, VTD_SPR_CAP } from "@iommu/drivers-intel";
import { UserMm, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VfioIommu } from "@iommu/vfio";
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, "../../../fixtures/vectors/generic-pt");

const hexOf = (v: bigint) => `0x${v.toString(16)}`;

/**
 * Bare `fmt` lines and the driver hardware that derives the same cfg:
 * - `amdv1`: an AMD unit with 6-level host tables (HATS 2: 64-bit VA), bare metal, pgtbl_v1
 *   → DYNAMIC_TOP|FLUSH_RANGE|ENCRYPT_TABLES|FORCE_COHERENCE, start level 2, AMD_IOMMU_PGSIZES;
 * - `vtdss`: a legacy-mode VT-d unit, 4-level SAGAW, MGAW 48, coherent → FLUSH_RANGE, 48 bits;
 * - `x86_64`: a scalable-mode unit without FL5LP → SIGN_EXTEND|FLUSH_RANGE, 48 bits, 4 levels;
 * - `x86_64 va_bits 57`: with FL5LP and MGAW 57 → 57 bits, 5 levels.
 */
const REWRITES: ReadonlyMap<string, string> = new Map([
  ["fmt amdv1", "fmt driver=amd"],
  ["fmt vtdss", `fmt driver=intel cap=${hexOf(VTD_LEGACY_CAP)} ecap=${hexOf(VTD_LEGACY_ECAP)}`],
  ["fmt x86_64", `fmt driver=intel cap=${hexOf(VTD_SPR_CAP & ~(1n << 60n))}`],
  ["fmt x86_64 va_bits 57", "fmt driver=intel"],
]);

function rewrite(script: string): { script: string; rewritten: number } {
  let rewritten = 0;
  const lines = script.split("\n").map((l) => {
    const r = REWRITES.get(l.trim());
    if (r === undefined) return l;
    rewritten++;
    return r;
  });
  return { script: lines.join("\n"), rewritten };
}

describe("generic_pt vectors replayed through the driver cfg path", () => {
  const names = readdirSync(vectors)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4))
    .sort();
  let total = 0;
  for (const name of names) {
    const script = readFileSync(join(vectors, `${name}.txt`), "utf8");
    const { script: driven, rewritten } = rewrite(script);
    if (rewritten === 0) {
      it.skip(`${name} — skipped: no fmt line of it has a driver cfg (its formats' drivers are not amd/intel)`, () => {});
      continue;
    }
    total += rewritten;
    it(`${name}: ${rewritten} fmt line(s) through the driver, output byte-identical`, () => {
      const expected = readFileSync(join(vectors, `${name}.out`), "utf8");
      expect(runScript(driven, { families: createFamilies() })).toBe(expected);
    });
  }
  it("rewrote the amdv1, vtdss and x86_64 vectors", () => {
    expect(total).toBeGreaterThanOrEqual(5);
  });
});

function run(script: string): string[] {
  return runScript(script, { families: createFamilies() }).split("\n");
}

describe("fmt driver=intel|amd options", () => {
  it("refuses unknown or malformed options with err bad-args, leaving no table", () => {
    for (const bad of [
      "fmt driver=intel bogus=1",
      "fmt driver=intel cap=zz",
      "fmt driver=intel stage=3",
      "fmt driver=amd pgtable=v3",
      "fmt driver=amd efr=0x1 efr=0x2",
      "fmt driver=amd npcache",
    ])
      expect(run(`${bad}\nphys 0x1000`).slice(0, 3), bad).toEqual(["err bad-args", "", "err no-fmt"]);
  });

  it("prints the driver's refusal errno", () => {
    // MGAW 29: no SAGAW level fits, hw_max_vasz 0 → pt_iommu_vtdss_init -EINVAL.
    const cap = (VTD_LEGACY_CAP & ~(0x3fn << 16n)) | (28n << 16n);
    expect(run(`fmt driver=intel cap=${hexOf(cap)} ecap=${hexOf(VTD_LEGACY_ECAP)}`)[0]).toBe(
      `err -22 (EINVAL) driver=intel cap=${hexOf(cap)} ecap=${hexOf(VTD_LEGACY_ECAP)}`,
    );
    // DIRTY_TRACKING on a unit without HDSUP.
    expect(run("fmt driver=amd efr=0x0 flags=2")[0]).toBe("err -95 (EOPNOTSUPP) driver=amd efr=0x0");
  });

  it("opens the cfgs only a driver derives", () => {
    const [amd4k] = run("fmt driver=amd nohugepages=on");
    expect(amd4k).toMatch(/^ok fmt=amdv1 pgsize_bitmap=0x1000 va_bits=64 /);
    const [vm] = run("fmt driver=amd npcache=on");
    expect(vm).toContain("features=0xe4(dynamic_top,flush_range_no_gaps,encrypt_tables,force_coherence)");
    const [v2] = run("fmt driver=amd pgtable=v2");
    expect(v2).toMatch(
      /^ok fmt=x86_64 pgsize_bitmap=0x40201000 va_bits=56 oa_bits=52 top_level=4 levels=5 va_start=0x0 va_end=0xffffffffffffff features=0x50\(flush_range,amd_encrypt_tables\)/,
    );
    const [ss] = run("fmt driver=intel stage=2");
    expect(ss).toMatch(
      /^ok fmt=vtdss pgsize_bitmap=0x40201000 va_bits=57 oa_bits=52 top_level=4 levels=5 va_start=0x0 va_end=0x1ffffffffffffff features=0x10\(flush_range\) aw=3 /,
    );
    const [sp] = run("fmt driver=intel sp=off");
    expect(sp).toMatch(/^ok fmt=x86_64 pgsize_bitmap=0x1000 va_bits=57 /);
  });
});

describe("VFIO type1 on the x86 drivers (attachGroup(group, { driver: unit.forDevice() }))", () => {
  const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  const VADDR = 0x7f00_0000_0000;

  function container() {
    const mm = new UserMm();
    mm.memory.addRegion({ vaddr: VADDR, size: SZ_1G, kind: "hugetlb1g", seed: 1 });
    return new VfioIommu({ mm });
  }

  it("intel: a 1 GiB hugetlb region maps as one 1G leaf; its unmap is one PSI with AM 18", () => {
    const dmar = new IntelIommu({ scalableMode: false });
    const c = container();
    expect(c.attachGroup(1, { driver: dmar.forDevice() })).toBe(0);
    expect(c.mapDma({ flags: RW, vaddr: VADDR, iova: 512 * SZ_1G, size: SZ_1G })).toBe(0);
    const d = c.domains()[0]!;
    const out = new PhysLength();
    iommuIovaToPhysLength(d, 512 * SZ_1G + 0x1234, out);
    expect(out.length).toBe(SZ_1G);
    const mark = dmar.qi.issued;
    expect(c.unmapDma({ flags: 0, iova: 512 * SZ_1G, size: SZ_1G })).toBe(0);
    const [psi] = dmar.qi.log(mark);
    expect([psi!.am, Number(psi!.addr)]).toEqual([18, 512 * SZ_1G]);
  });

  it("amd: the same region, one INVALIDATE_IOMMU_PAGES for the 1G leaf", () => {
    const amd = new AmdIommu();
    const c = container();
    expect(c.attachGroup(1, { driver: amd.forDevice() })).toBe(0);
    expect(c.mapDma({ flags: RW, vaddr: VADDR, iova: 512 * SZ_1G, size: SZ_1G })).toBe(0);
    const mark = amd.cmd.issued;
    expect(c.unmapDma({ flags: 0, iova: 512 * SZ_1G, size: SZ_1G })).toBe(0);
    expect(amd.cmd.invRange).toBe(1);
    expect(amd.cmd.issued - mark).toBe(2);
  });
});
