export * from "./constants.js";
export { armLpaeInitFns, armLpaeRestrictPgsizes } from "./formats.js";
export { ArmLpaeIoPgtable } from "./pgtable.js";
export { protToPteHi, protToPteLo } from "./prot.js";
export * from "./selftest.js";
