// include/linux/io-pgtable.h (struct io_pgtable_cfg): the model's boundary check of a cfg's
// JavaScript types before alloc_io_pgtable_ops() looks at it. The kernel's own refusals (a
// format rejecting ias/oas/pgsizes/quirks) stay a NULL return; what C's type system would
// have caught is a typed EINVAL here, naming the field and the rule.
import { ArgCheck } from "@iommu/core";
import type { IoPgtableCfg } from "./io-pgtable.js";

const check: ArgCheck = new ArgCheck("alloc_io_pgtable_ops", "cfg.");

/** io_pgtable_cfg: throw EINVAL for a field whose JavaScript type the model cannot use. */
export function checkIoPgtableCfg(cfg: IoPgtableCfg): void {
  if (typeof cfg !== "object" || cfg === null) check.fail("cfg", "an object", cfg);
  for (const f of ["quirks", "pgsizeBitmap", "ias", "oas"] as const) check.int(f, cfg[f]);
  check.bool("coherentWalk", cfg.coherentWalk);
  check.allocator("allocator", cfg.allocator);
  check.counters("counters", cfg.counters);
}
