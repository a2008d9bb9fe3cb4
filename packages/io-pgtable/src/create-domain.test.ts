import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IommuError,
  iommuIovaToPhysLength,
  iommuMap,
  PhysLength,
  PhysMem,
  SZ_1G,
  SZ_2M,
  SZ_16K,
  SZ_32M,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps } from "./alloc.js";
import { IO_PGTABLE_FORMAT_NAMES, ioPgtableCfgFor } from "./create-domain.js";
import { IO_PGTABLE_QUIRK_ARM_MTK_EXT, IoPgtableFmt } from "./io-pgtable.js";
import { createIoPgtableDomain } from "./io-pgtable-domain.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function error(fn: () => unknown): IommuError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IommuError);
    return e as IommuError;
  }
  throw new Error("expected an IommuError");
}

describe("the short path: createIoPgtableDomain(format, options)", () => {
  it("a 4K ARM64 stage-1 domain in one call maps a 2 MiB block", () => {
    const d = createIoPgtableDomain("arm64-s1", { granule: "4K" });
    iommuMap(d, SZ_1G, 0x8000_0000 + SZ_1G, SZ_2M, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, SZ_1G + 0x1234, out);
    expect(String(out)).toBe("mapped phys=0xc0001234 length=0x200000");
  });

  it("builds the same table as the kernel-shaped call with the documented defaults", () => {
    const short = createIoPgtableDomain("arm64-s1", { granule: "16K" });
    const counters = new IommuCounters();
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, {
      quirks: 0,
      pgsizeBitmap: SZ_16K | SZ_32M,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator: new TableAllocator(new PhysMem(), { counters }),
      counters,
    });
    const long = createIoPgtableDomain(ops!, counters);
    expect(short.pgsizeBitmap).toBe(long.pgsizeBitmap);
    for (const d of [short, long]) iommuMap(d, SZ_1G, SZ_1G, SZ_32M + SZ_16K, RW);
    const image = (d: typeof short) => {
      const entries: string[] = [];
      d.pgtblOps!.inspect!().visit((e) => {
        entries.push(JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
      });
      return entries;
    };
    expect(image(short).length).toBeGreaterThan(2);
    expect(image(short)).toEqual(image(long));
    expect(short.counters.pteWrites).toBe(long.counters.pteWrites);
  });

  it("every format has defaults (table: format → ias, oas, page sizes)", () => {
    const table: Record<string, [number, number, number]> = {
      "arm64-s1": [48, 48, 0x40201000],
      "arm64-s2": [48, 48, 0x40201000],
      "arm32-s1": [32, 40, 0x40201000],
      "arm32-s2": [40, 40, 0x40201000],
      mali: [48, 40, 0x40201000],
      v7s: [32, 32, 0x01111000],
      dart1: [32, 36, 0x4000],
      dart2: [32, 42, 0x4000],
    };
    expect(Object.keys(table)).toEqual([...IO_PGTABLE_FORMAT_NAMES]);
    for (const name of IO_PGTABLE_FORMAT_NAMES) {
      const { cfg } = ioPgtableCfgFor(name);
      expect([cfg.ias, cfg.oas, cfg.pgsizeBitmap], name).toEqual(table[name]);
      const d = createIoPgtableDomain(name);
      expect(d.pgsizeBitmap, name).toBe(table[name]![2]);
    }
  });
});

describe("bad configuration says why (IommuError EINVAL naming the field and the rule)", () => {
  it("an unknown format, a granule the format lacks, a non-number field", () => {
    const f = error(() => createIoPgtableDomain("arm128" as "arm64-s1"));
    expect(f.code).toBe("EINVAL");
    expect(f.message).toMatch(/format: one of arm64-s1, arm64-s2, .*dart2/);
    expect(error(() => createIoPgtableDomain("dart1", { granule: "64K" })).message).toMatch(
      /granule: dart1 takes 4K or 16K/,
    );
    expect(
      error(() => createIoPgtableDomain("arm64-s1", { ias: "48" as unknown as number })).message,
    ).toMatch(/ias: a non-negative integer number/);
  });

  it("a configuration the format refuses is the kernel's refusal, with the cfg", () => {
    // arm_64_lpae_alloc_pgtable_s1() takes no MTK quirk.
    const e = error(() => createIoPgtableDomain("arm64-s1", { quirks: IO_PGTABLE_QUIRK_ARM_MTK_EXT }));
    expect(e.message).toBe(
      `alloc_io_pgtable_ops: EINVAL pgsizeBitmap=0x40201000 ias=0x30 oas=0x30 quirks=0x${IO_PGTABLE_QUIRK_ARM_MTK_EXT.toString(16)} (arm64-s1 refuses this configuration)`,
    );
  });

  it("the kernel-shaped API checks the cfg's types: a missing counters or allocator is named", () => {
    const allocator = new TableAllocator(new PhysMem());
    const base = { quirks: 0, pgsizeBitmap: 0x40201000, ias: 48, oas: 48, coherentWalk: true };
    const noCounters = error(() =>
      allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, { ...base, allocator } as never),
    );
    expect(noCounters.message).toMatch(/cfg\.counters: an IommuCounters from @iommu\/core/);
    const noAllocator = error(() =>
      allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, { ...base, counters: new IommuCounters() } as never),
    );
    expect(noAllocator.message).toMatch(/cfg\.allocator: a TableAllocator/);
    expect(error(() => createIoPgtableDomain(null as never)).message).toMatch(
      /got null \(alloc_io_pgtable_ops\(\) refused the cfg\)/,
    );
  });

  it("a string address is refused by name at the core boundary", () => {
    const d = createIoPgtableDomain("arm64-s1");
    const e = error(() => iommuMap(d, "0x1000" as unknown as number, 0, 0x1000, RW));
    expect(e.message).toBe("addr: EINVAL (an address is a number or a bigint, got string)");
  });

  it("EEXIST names the IOVA and size", () => {
    const d = createIoPgtableDomain("arm64-s1");
    iommuMap(d, SZ_1G, SZ_1G, SZ_2M, RW);
    const e = error(() => iommuMap(d, SZ_1G, SZ_1G, SZ_2M, RW));
    expect(e.code).toBe("EEXIST");
    expect(e.message).toMatch(/^iommu_map: EEXIST iova=0x40000000 paddr=0x40000000 size=0x200000/);
  });
});
