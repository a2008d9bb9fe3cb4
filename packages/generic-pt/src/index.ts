export * from "./best-pgsize.js";
export * from "./domain.js";
export * from "./entry-codec.js";
export * from "./features.js";
export * from "./format.js";
export * from "./formats/index.js";
export * from "./inspect.js";
export * from "./pt-table.js";
