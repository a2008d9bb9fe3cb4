export * from "./arm-smmu-v3.js";
export * from "./cmdq.js";
export * from "./descriptors.js";
export * from "./domain.js";
export * from "./hw.js";
export * from "./id-alloc.js";
export * from "./regs.js";
export * from "./tlb.js";
