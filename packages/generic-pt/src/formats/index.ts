/**
 * drivers/iommu/generic_pt/fmt/ (one `iommu_<fmt>.c` per format): the registry of the formats
 * this package models. A format is added here once; its name, defaults and kunit configs live
 * in its own file.
 */
import type { PtFormat, PtFormatDefaults } from "../pt-common.js";
import { AMDV1 } from "./amdv1.js";
import { AMDV1_MOCK } from "./amdv1-mock.js";
import { RISCV } from "./riscv.js";
import { VTDSS } from "./vtdss.js";
import { X86_64 } from "./x86-64.js";

export { AMDV1, AMDV1_MOCK, RISCV, VTDSS, X86_64 };

/** `fmt/iommu_*.c`: every format, in the order tools list them. */
const PT_FORMAT_LIST = [AMDV1, VTDSS, X86_64, RISCV, AMDV1_MOCK] as const;

/** `<fmt>` of `pt_iommu_<fmt>_init`: `"amdv1" | "vtdss" | "x86_64" | "riscv" | "amdv1_mock"`. */
export type PtFormatName = (typeof PT_FORMAT_LIST)[number]["name"];

/** `fmt/iommu_<fmt>.c` names: the one list tools take format names from. */
export const PT_FORMAT_NAMES: readonly PtFormatName[] = PT_FORMAT_LIST.map((f) => f.name);

/** `fmt/<name>.h` of each name: the format registry. */
export const PT_FORMATS: Readonly<Record<PtFormatName, PtFormat>> = Object.fromEntries(
  PT_FORMAT_LIST.map((f) => [f.name, f]),
) as Record<PtFormatName, PtFormat>;

/** `pt_iommu_<fmt>_cfg` defaults of each format (each format's `defaults`). */
export const PT_FORMAT_DEFAULTS: Readonly<Record<PtFormatName, PtFormatDefaults>> = Object.fromEntries(
  PT_FORMAT_LIST.map((f) => [f.name, f.defaults]),
) as Record<PtFormatName, PtFormatDefaults>;

/** Model-only: the registered format of a name, or the format object itself. */
export function ptFormatOf(format: PtFormatName | PtFormat): PtFormat {
  return typeof format === "string" ? PT_FORMATS[format] : format;
}
