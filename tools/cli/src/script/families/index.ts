/**
 * The page-table families the `iommu script` engine knows. Adding a family is one import and
 * one array element below.
 */
import type { ScriptFamily } from "../target.js";
import { createDartFamily } from "./dart.js";
import { createGenericPtFamily } from "./generic-pt.js";
import { createLpaeFamily } from "./lpae.js";
import { createV7sFamily } from "./v7s.js";

/** A fresh set of families: one script run ("process") each, so no state leaks between runs. */
export function createFamilies(): ScriptFamily[] {
  return [createLpaeFamily(), createV7sFamily(), createDartFamily(), createGenericPtFamily()];
}
