export { ArmV7sIoPgtable, armV7sAllocPgtable, armV7sInitFns, armV7sSelftestState } from "./arm-v7s.js";
export * from "./defs.js";
export { armV7sDumpLines } from "./dump.js";
export { ArmV7sL2Slab } from "./l2-slab.js";
export * from "./pte.js";
export { type ArmV7sSelftestResult, armV7sDoSelftests } from "./selftest.js";
