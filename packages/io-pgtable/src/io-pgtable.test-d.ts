/**
 * Type tests (vitest typecheck): "iommu: remove deprecated iova_to_phys from ... io_pgtable_ops"
 * is visible to TypeScript users — `IoPgtableOps` has no `iovaToPhys`, `iovaToPhysLength` is
 * required, and the drivers' shared domain ops carry no legacy lookup either.
 */
import type { Addr, IommuDomainOps, PhysLength } from "@iommu/core";
import { describe, expectTypeOf, it } from "vitest";
import type { IoPgtableOps } from "./io-pgtable.js";
import type { IoPgtableDomain, ioPgtableDomainOps } from "./io-pgtable-domain-ops.js";
import type { ioPgtableIovaToPhys } from "./iova-to-phys.js";

const mapPages = (): number => 0;
const unmapPages = (): number => 0;
const iovaToPhysLength = (_iova: Addr, out: PhysLength): void => {
  out.setUnmapped(4096);
};

describe("IoPgtableOps after the legacy op's removal", () => {
  it("has no iovaToPhys member and requires iovaToPhysLength(iova, out)", () => {
    expectTypeOf<IoPgtableOps>().not.toHaveProperty("iovaToPhys");
    expectTypeOf<IoPgtableOps["iovaToPhysLength"]>().parameters.toEqualTypeOf<[Addr, PhysLength]>();
    expectTypeOf<undefined>().not.toMatchTypeOf<IoPgtableOps["iovaToPhysLength"]>();
  });

  it("rejects a format's ops literal that still carries the legacy lookup", () => {
    const legacy = {
      mapPages,
      unmapPages,
      iovaToPhysLength,
      // @ts-expect-error -- object literal may only specify known properties: iovaToPhys is gone
      iovaToPhys: (_iova: Addr): Addr => 0,
    } satisfies IoPgtableOps;
    expectTypeOf(legacy).toHaveProperty("iovaToPhysLength");
    // @ts-expect-error -- property 'iovaToPhysLength' is missing
    const onlyLegacy: IoPgtableOps = { mapPages, unmapPages };
    expectTypeOf(onlyLegacy).toHaveProperty("mapPages");
  });

  it("the drivers' shared domain ops have no legacy member", () => {
    type Shared = ReturnType<typeof ioPgtableDomainOps<IoPgtableDomain>>;
    expectTypeOf<Shared>().toEqualTypeOf<IommuDomainOps<IoPgtableDomain>>();
    expectTypeOf<Shared>().not.toHaveProperty("iovaToPhys");
  });

  it("ioPgtableIovaToPhys(ops, iova) → Addr is what the callers use instead", () => {
    expectTypeOf<typeof ioPgtableIovaToPhys>().parameters.toEqualTypeOf<[IoPgtableOps, Addr]>();
    expectTypeOf<typeof ioPgtableIovaToPhys>().returns.toEqualTypeOf<Addr>();
  });
});
