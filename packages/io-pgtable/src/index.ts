export * from "./alloc.js";
export * from "./apple-dart/index.js";
export * from "./arm-lpae/index.js";
export * from "./arm-v7s/index.js";
export * from "./io-pgtable.js";
export * from "./io-pgtable-domain.js";
