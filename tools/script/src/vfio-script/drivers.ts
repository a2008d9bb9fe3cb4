/**
 * The IOMMU drivers `iommu vfio-script` attaches groups behind (registry entries' `vfio`):
 *
 * - `lpae`: io-pgtable ARM_64_LPAE_S1 tables as the VFIO reference harness builds them (4K
 *   granule, pgsize_bitmap 0x40201000 unless restricted, oas 48, aperture [0, 2^ias − 1]);
 * - `smmu`: arm-smmu-v3 driver instances (stage-1 4K tables, invalidation through the command
 *   queue). The SMMU builds its own io_pgtable_cfg, so `ias`/`pgsizes` narrow each finished
 *   domain; outputs match `lpae` whenever `pgsizes` stays within 4K|2M|1G.
 *
 * In both, `driver N` is one kernel driver: every instance with that N shares one ops table.
 */
import type { IommuDomainOps } from "@iommu/core";
import { ArmSmmuV3 } from "@iommu/drivers-arm-smmu-v3";
import { type IoPgtableDomain, IoPgtableFmt } from "@iommu/io-pgtable";
import { IoPgtableDriver, ioPgtableDriverOps } from "../drivers/io-pgtable.js";
import { restrictDriver } from "../drivers/restrict.js";
import type { VfioScriptDrivers } from "./interpreter.js";

/** The harness's default page sizes: 4K | 2M | 1G. */
export const VFIO_SCRIPT_PGSIZES = 0x40201000;

/** io-pgtable ARM_64_LPAE_S1 units: one ops table per `driver N`, the cfg from the attach's knobs. */
export function createLpaeVfioDrivers(): VfioScriptDrivers {
  const opsByDriver = new Map<number, IommuDomainOps<IoPgtableDomain>>();
  return (hw) => {
    let ops = opsByDriver.get(hw.driver);
    if (!ops) {
      ops = ioPgtableDriverOps(`lpae-s1-driver${hw.driver}`);
      opsByDriver.set(hw.driver, ops);
    }
    return new IoPgtableDriver({
      name: `lpae-s1-driver${hw.driver}`,
      fmt: IoPgtableFmt.ARM_64_LPAE_S1,
      ias: hw.ias,
      oas: 48,
      pgsizeBitmap: hw.pgsizes ?? VFIO_SCRIPT_PGSIZES,
      ops,
      warn: hw.warn,
    });
  };
}

/** arm-smmu-v3 units: one SMMU per `driver N`, narrowed to the attach's ias and pgsizes. */
export function createSmmuVfioDrivers(): VfioScriptDrivers {
  const smmus = new Map<number, ArmSmmuV3>();
  return (hw) => {
    let smmu = smmus.get(hw.driver);
    if (!smmu) {
      smmu = new ArmSmmuV3({ name: `arm-smmu-v3.driver${hw.driver}`, oas: 48 });
      smmus.set(hw.driver, smmu);
    }
    return restrictDriver(smmu, { ias: hw.ias, pgsizes: hw.pgsizes, warn: hw.warn });
  };
}
