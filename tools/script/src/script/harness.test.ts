import { IOMMU_DOMAIN_UNMANAGED, IommuCounters, type IommuDomain, type IommuDomainOps } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { runScript } from "./engine.js";
import { DRIVER_HARNESS } from "./harness.js";
import type { ScriptFamily, ScriptTable } from "./target.js";
import { createFakeFamily } from "./testing/fake-family.js";

/**
 * A minimal family on the direct-driver harness (vectors/drivers/README.md): raw calls a
 * harness guard refuses come back as whole lines, and a guard inside the core's loop reports
 * its word through refusal().
 */
function driverFamily(): ScriptFamily {
  const make = (): ScriptTable => {
    let refused: string | undefined;
    const leaves = new Map<number, number>();
    const ops: IommuDomainOps = {
      name: "drv",
      mapPages(_d, iova, paddr, pgsize, pgcount, _prot, _gfp, mapped) {
        const va = Number(iova);
        if (va === 0x5000) return -16;
        for (let i = 0; i < pgcount; i++) {
          const page = va + i * pgsize;
          if (page >= 0x9000 && page < 0xa000) {
            refused = "oob";
            return -14;
          }
          leaves.set(page, Number(paddr) + i * pgsize);
          mapped.value += pgsize;
        }
        return 0;
      },
      unmapPages(_d, iova, pgsize) {
        if (Number(iova) >= 0x10_0000) {
          refused = "oob";
          return 0;
        }
        return leaves.delete(Number(iova)) ? pgsize : 0;
      },
      iovaToPhysLength(_d, iova, out) {
        const pa = leaves.get(Number(iova));
        if (pa === undefined) out.setUnmapped(0x1000);
        else out.setMapped(Math.floor(pa / 0x1000), 0, 0x1000);
      },
    };
    const domain: IommuDomain = {
      type: IOMMU_DOMAIN_UNMANAGED,
      ops,
      pgsizeBitmap: 0x1000,
      geometry: { apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true },
      counters: new IommuCounters(),
    };
    return {
      domain,
      mapPages: (iova, paddr, pgsize, pgcount, prot, mapped) =>
        pgsize === 0x3000
          ? "err unsafe"
          : ops.mapPages(domain, iova, paddr, pgsize, pgcount, prot, 0, mapped),
      unmapPages: (iova, pgsize, pgcount) =>
        Number(iova) >= 0x10_0000 ? "err oob" : ops.unmapPages(domain, iova, pgsize, pgcount, null),
      phys: (iova) => (Number(iova) === 0xdead000 ? "err oob" : (leaves.get(Number(iova)) ?? 0)),
      walk: () => "walk?",
      dump: () => ["end"],
      stats: () => "stats",
      refusal() {
        const r = refused;
        refused = undefined;
        return r;
      },
      destroy() {},
    };
  };
  return {
    formats: ["drv"],
    harness: DRIVER_HARNESS,
    parseFmt: (_f, args) => (args.length === 0 ? {} : undefined),
    create: () => ({ kind: "ok", line: "ok fmt=drv", table: make() }),
  };
}

const run = (...lines: string[]) =>
  runScript(`${lines.join("\n")}\n`, { families: [createFakeFamily(), driverFamily()] });
const text = (...lines: string[]) => lines.map((l) => `${l}\n`).join("");

describe("the direct-driver harness", () => {
  it("a failed fmt prints one line once a driver family was named; the kernel harness adds an empty line", () => {
    expect(run("fmt nope", "fmt drv x", "fmt nope", "fmt fake bogus", "fmt nope")).toBe(
      text("err bad-fmt", "", "err bad-args", "err bad-fmt", "err bad-args", "", "err bad-fmt", ""),
    );
  });

  it("has no walk, selftest or bench commands", () => {
    expect(run("fmt drv", "walk 0", "selftest", "bench-map 1000 1", "fmt fake", "walk 0")).toBe(
      text(
        "ok fmt=drv",
        "err unknown-command line 2",
        "err unknown-command line 3",
        "err unknown-command line 4",
        "ok fmt=fake pgsize_bitmap=0x201000",
        run("fmt fake", "walk 0").split("\n")[1]!,
      ),
    );
  });

  it("prints its own errno names", () => {
    expect(run("fmt drv", "map_pages 5000 0 1000 1 rw", "map 5000 0 1000 rw")).toBe(
      text("ok fmt=drv", "err -16 (EBUSY) mapped=0x0", "err -16 (EBUSY) mapped=0x0 unrolled=0x0"),
    );
  });

  it("raw calls refused by a harness guard print the family's line", () => {
    expect(run("fmt drv", "map_pages 0 0 3000 1 rw", "unmap_pages 100000 1000 1", "phys dead000")).toBe(
      text("ok fmt=drv", "err unsafe", "err oob", "err oob"),
    );
  });

  it("a guard inside the core's loop: err <word>, with mapped/unrolled after progress, and on unmap", () => {
    expect(
      run(
        "fmt drv",
        "map 9000 0 1000 rw",
        "map 8000 0 2000 rw",
        "map 1000 1000 1000 rw",
        "unmap 100000 1000",
      ),
    ).toBe(
      text(
        "ok fmt=drv",
        "err oob",
        "err oob mapped=0x1000 unrolled=0x1000",
        "ok mapped=0x1000",
        "err oob unmapped=0x0",
      ),
    );
  });
});
