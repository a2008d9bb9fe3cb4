export {
  type AppleDartGeometry,
  AppleDartIoPgtable,
  appleDartAllocPgtable,
  appleDartGeometry,
  appleDartInitFns,
  DART_MAX_LEVELS,
  DART_MAX_TABLE_BITS,
} from "./apple-dart.js";
export { appleDartDumpLines } from "./dump.js";
export * from "./pte.js";
