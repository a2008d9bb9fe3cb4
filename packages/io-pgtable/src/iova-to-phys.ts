/**
 * The series' io-pgtable callers (panfrost, panthor, arm-smmu-qcom-debug, the selftests): where
 * they called `ops->iova_to_phys`, they now take the address from `iova_to_phys_length`. Hot
 * in the callers' per-page loops, so it reuses one result record (nothing allocated per call).
 */
import { type Addr, PhysLength, physOrZero } from "@iommu/core";
import type { IoPgtableOps } from "./io-pgtable.js";

const lookup = new PhysLength();

/**
 * Model-only (the kernel inlines it at each call site): the physical address
 * `ops.iovaToPhysLength` answers for `iova`, 0 when unmapped — what `io_pgtable_ops->iova_to_phys`
 * answered before the series removed it, for every IOVA the table translates. One walk.
 */
export function ioPgtableIovaToPhys(ops: IoPgtableOps, iova: Addr): Addr {
  ops.iovaToPhysLength(iova, lookup);
  return physOrZero(lookup);
}
