// include/linux/io-pgtable.h (struct io_pgtable_cfg): the model's boundary check of a cfg's
// JavaScript types before alloc_io_pgtable_ops() looks at it. The kernel's own refusals (a
// format rejecting ias/oas/pgsizes/quirks) stay a NULL return; what C's type system would
// have caught is a typed EINVAL here, naming the field and the rule.
import { IommuError } from "@iommu/core";
import type { IoPgtableCfg } from "./io-pgtable.js";

interface TableAllocatorShape {
  alloc: unknown;
  release: unknown;
  mem: unknown;
}

function bad(field: string, rule: string, value: unknown): never {
  throw new IommuError("EINVAL", "alloc_io_pgtable_ops", { [field]: value }, `cfg.${field}: ${rule}`);
}

function u32(cfg: IoPgtableCfg, field: "quirks" | "pgsizeBitmap" | "ias" | "oas"): void {
  const v = cfg[field] as unknown;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= 2 ** 53)
    bad(field, "a non-negative integer number", typeof v === "bigint" ? `${v}n` : v);
}

/** io_pgtable_cfg: throw EINVAL for a field whose JavaScript type the model cannot use. */
export function checkIoPgtableCfg(cfg: IoPgtableCfg): void {
  if (typeof cfg !== "object" || cfg === null) bad("cfg", "an object", cfg);
  u32(cfg, "quirks");
  u32(cfg, "pgsizeBitmap");
  u32(cfg, "ias");
  u32(cfg, "oas");
  if (typeof cfg.coherentWalk !== "boolean") bad("coherentWalk", "a boolean", cfg.coherentWalk);
  // By shape, not instanceof: a second copy of @iommu/core (ESM next to CJS) is still fine.
  const a = cfg.allocator as Partial<TableAllocatorShape> | undefined;
  if (typeof a?.alloc !== "function" || typeof a.release !== "function" || typeof a.mem !== "object")
    bad("allocator", "a TableAllocator from @iommu/core (new TableAllocator(new PhysMem()))", typeof a);
  const c = cfg.counters as { pteReads?: unknown; mapCalls?: unknown } | undefined;
  if (typeof c?.pteReads !== "number" || typeof c.mapCalls !== "number")
    bad("counters", "an IommuCounters from @iommu/core (new IommuCounters())", typeof c);
}
