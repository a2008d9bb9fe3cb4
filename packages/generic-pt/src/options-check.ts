// Model-only: the boundary check of createPtDomain()'s options (pt_iommu_<fmt>_cfg fields in
// JavaScript). The kernel's own refusals stay init errnos; what C's types would have caught is
// a typed EINVAL here, naming the option and the rule.
import { IommuError } from "@iommu/core";
import type { CreatePtDomainOptions } from "./domain.js";
import { PT_FORMAT_NAMES } from "./formats/index.js";

function bad(field: string, rule: string, value: unknown): never {
  throw new IommuError("EINVAL", "createPtDomain", { [field]: value }, `${field}: ${rule}`);
}

/** createPtDomain options: EINVAL for a field of the wrong JavaScript type. */
export function checkPtDomainOptions(o: CreatePtDomainOptions): void {
  if (typeof o !== "object" || o === null) bad("options", "an object", o);
  for (const f of ["features", "vaBits", "oaBits", "level"] as const) {
    const v = o[f] as unknown;
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0))
      bad(f, "a non-negative integer number", typeof v === "bigint" ? `${v}n` : v);
  }
  const a = o.allocator as { alloc?: unknown; mem?: unknown } | undefined;
  if (a !== undefined && (typeof a?.alloc !== "function" || typeof a.mem !== "object"))
    bad("allocator", "a TableAllocator from @iommu/core", typeof a);
  const c = o.counters as { pteReads?: unknown } | undefined;
  if (c !== undefined && typeof c?.pteReads !== "number")
    bad("counters", "an IommuCounters from @iommu/core", typeof c);
}

/** The format argument: a registered name or a format object. */
export function checkPtFormat(format: unknown): void {
  if (
    typeof format === "string"
      ? !(PT_FORMAT_NAMES as readonly string[]).includes(format)
      : typeof format !== "object" || format === null
  )
    bad("format", `one of ${PT_FORMAT_NAMES.join(", ")} (or a PtFormat)`, format);
}
