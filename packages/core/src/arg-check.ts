// Model-only: the boundary checks of configuration objects (io_pgtable_cfg, pt_iommu_<fmt>_cfg,
// the short-path options) for what C's types would have caught: a typed EINVAL naming the field
// and the rule, instead of a failure deep inside a walk. The kernel's own refusals stay its errnos.
import { IommuError } from "./errno.js";

function shown(value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

/**
 * Checks the fields of one call's configuration; every failure is
 * `<op>: EINVAL (<prefix><field>: <rule>)`. Declare an instance with its type
 * (`const check: ArgCheck = …`) so TypeScript narrows after `check.fail()`.
 */
export class ArgCheck {
  constructor(
    readonly op: string,
    /** Put before field names in messages, e.g. `cfg.`. */
    readonly prefix = "",
  ) {}

  /** Throw EINVAL for `field`. */
  fail(field: string, rule: string, value: unknown): never {
    throw new IommuError("EINVAL", this.op, { [field]: shown(value) }, `${this.prefix}${field}: ${rule}`);
  }

  /** A non-negative integer number (below 2^53); `undefined` passes when `optional`. */
  int(field: string, value: unknown, optional = false): void {
    if (optional && value === undefined) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** 53)
      this.fail(field, "a non-negative integer number", value);
  }

  /** A boolean; `undefined` passes when `optional`. */
  bool(field: string, value: unknown, optional = false): void {
    if (optional && value === undefined) return;
    if (typeof value !== "boolean") this.fail(field, "a boolean", value);
  }

  /**
   * A `TableAllocator` of @iommu/core, by shape rather than `instanceof` (a second copy of the
   * package, ESM next to CJS, is still fine); `undefined` passes when `optional`.
   */
  allocator(field: string, value: unknown, optional = false): void {
    if (optional && value === undefined) return;
    const a = value as { alloc?: unknown; release?: unknown; mem?: unknown } | null | undefined;
    if (typeof a?.alloc !== "function" || typeof a.release !== "function" || typeof a.mem !== "object")
      this.fail(field, "a TableAllocator from @iommu/core (new TableAllocator(new PhysMem()))", typeof value);
  }

  /** An `IommuCounters` of @iommu/core, by shape; `undefined` passes when `optional`. */
  counters(field: string, value: unknown, optional = false): void {
    if (optional && value === undefined) return;
    const c = value as { pteReads?: unknown; mapCalls?: unknown } | null | undefined;
    if (typeof c?.pteReads !== "number" || typeof c.mapCalls !== "number")
      this.fail(field, "an IommuCounters from @iommu/core (new IommuCounters())", typeof value);
  }
}
