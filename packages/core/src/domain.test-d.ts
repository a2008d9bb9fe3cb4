/**
 * Type tests (vitest typecheck): issue 18's removal is visible to TypeScript users. Since the
 * series ends with "iommu: remove deprecated iova_to_phys from domain_ops", an ops table has no
 * `iovaToPhys` member and must implement `iovaToPhysLength`; `iommuIovaToPhys` stays as the
 * wrapper. See docs/migrating-from-iova-to-phys.md.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { Addr } from "./addr.js";
import type { IommuDomain, IommuDomainOps } from "./domain.js";
import type { iommuIovaToPhys, iommuIovaToPhysLength } from "./iommu.js";
import type { PhysLength } from "./phys-length.js";

const mapPages = (): number => 0;
const unmapPages = (): number => 0;
const iovaToPhysLength = (_d: IommuDomain, _iova: Addr, out: PhysLength): void => {
  out.setUnmapped(4096);
};

describe("IommuDomainOps after the legacy op's removal", () => {
  it("has no iovaToPhys member", () => {
    expectTypeOf<IommuDomainOps>().not.toHaveProperty("iovaToPhys");
    expectTypeOf<keyof IommuDomainOps>().not.toEqualTypeOf<"iovaToPhys">();
  });

  it("requires iovaToPhysLength with the (domain, iova, out) → void signature", () => {
    expectTypeOf<IommuDomainOps>().toHaveProperty("iovaToPhysLength");
    expectTypeOf<IommuDomainOps["iovaToPhysLength"]>().parameters.toEqualTypeOf<
      [IommuDomain, Addr, PhysLength]
    >();
    expectTypeOf<IommuDomainOps["iovaToPhysLength"]>().returns.toBeVoid();
    // A required member: `undefined` is not assignable to it.
    expectTypeOf<undefined>().not.toMatchTypeOf<IommuDomainOps["iovaToPhysLength"]>();
  });

  it("rejects an ops literal that still carries the legacy lookup", () => {
    const ok: IommuDomainOps = { name: "new", mapPages, unmapPages, iovaToPhysLength };
    expectTypeOf(ok).toMatchTypeOf<IommuDomainOps>();
    const legacy = {
      name: "old",
      mapPages,
      unmapPages,
      iovaToPhysLength,
      // @ts-expect-error -- object literal may only specify known properties: iovaToPhys is gone
      iovaToPhys: (_d: IommuDomain, _iova: Addr): Addr => 0,
    } satisfies IommuDomainOps;
    expectTypeOf(legacy).toHaveProperty("iovaToPhysLength");
  });

  it("rejects an ops table with only the legacy lookup", () => {
    // @ts-expect-error -- property 'iovaToPhysLength' is missing
    const onlyLegacy: IommuDomainOps = {
      name: "old",
      mapPages,
      unmapPages,
    };
    expectTypeOf(onlyLegacy).toHaveProperty("name");
  });

  it("keeps iommuIovaToPhys as the wrapper: (domain, iova) → Addr", () => {
    expectTypeOf<typeof iommuIovaToPhys>().parameters.toEqualTypeOf<[IommuDomain, Addr]>();
    expectTypeOf<typeof iommuIovaToPhys>().returns.toEqualTypeOf<Addr>();
    expectTypeOf<typeof iommuIovaToPhysLength>().returns.toEqualTypeOf<PhysLength>();
  });
});
