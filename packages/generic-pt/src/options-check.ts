// Model-only: the boundary check of createPtDomain()'s arguments (pt_iommu_<fmt>_cfg fields in
// JavaScript). The kernel's own refusals stay init errnos; what C's types would have caught is
// a typed EINVAL here, naming the option and the rule.
import { ArgCheck } from "@iommu/core";
import type { CreatePtDomainOptions } from "./domain.js";
import { PT_FORMAT_NAMES } from "./formats/index.js";

const check: ArgCheck = new ArgCheck("createPtDomain");

/** createPtDomain options: EINVAL for a field of the wrong JavaScript type. */
export function checkPtDomainOptions(o: CreatePtDomainOptions): void {
  if (typeof o !== "object" || o === null) check.fail("options", "an object", o);
  for (const f of ["features", "vaBits", "oaBits", "level"] as const) check.int(f, o[f], true);
  check.int("pgsizeBitmap", o.pgsizeBitmap, true);
  if (o.aperture !== undefined) {
    if (typeof o.aperture !== "object" || o.aperture === null)
      check.fail("aperture", "{ start, end } addresses", o.aperture);
    for (const k of ["start", "end"] as const) {
      const v: unknown = o.aperture[k];
      const ok =
        typeof v === "bigint"
          ? v >= 0n && v < 1n << 64n
          : typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
      if (!ok) check.fail(`aperture.${k}`, "an address (a safe integer number or a bigint below 2^64)", v);
    }
    if (BigInt(o.aperture.start) > BigInt(o.aperture.end))
      check.fail("aperture", "start ≤ end (end is inclusive)", o.aperture);
  }
  check.allocator("allocator", o.allocator, true);
  check.counters("counters", o.counters, true);
}

/** The format argument: a registered name or a format object. */
export function checkPtFormat(format: unknown): void {
  if (
    typeof format === "string"
      ? !(PT_FORMAT_NAMES as readonly string[]).includes(format)
      : typeof format !== "object" || format === null
  )
    check.fail("format", `one of ${PT_FORMAT_NAMES.join(", ")} (or a PtFormat)`, format);
}
