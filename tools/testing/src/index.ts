/**
 * @iommu/testing — the conformance kit (private, test-only): the reference interval map every
 * property test checks against, `describeDomainConformance()` run on every domain, and the
 * checks it is made of, exported so a new driver's tests can use them one by one.
 */
export {
  ConformanceError,
  checkInspectorWalk,
  checkLengthContract,
  checkLookupCounters,
  checkOpCounters,
  checkTableCount,
  checkTranslation,
  diffSnapshots,
  type OpCounters,
  opCounters,
  snapshotTables,
  type TableSnapshot,
  tablesReached,
} from "./checks.js";
export {
  CHECKS,
  type CheckName,
  type CheckStats,
  type ConformanceOptions,
  type ConformanceTarget,
  type DomainFactory,
  describeDomainConformance,
  expectedEvents,
  planOf,
  runConformanceCheck,
  type Window,
} from "./conformance.js";
export { sameHiddenClass } from "./hidden-class.js";
export { IOTLB_WINDOW_PAGES, type IotlbOp, iotlbOpArb, runIotlbClean } from "./iotlb-sequences.js";
export { type PageFrame, PageFrameMap } from "./page-frame-map.js";
export {
  largestPage,
  type PageTableSemantics,
  pageSizesOf,
  type RefEntry,
  type RefEntryInit,
  ReferenceMap,
  type RefLookup,
  splitLeaves,
  type UnmapOutcome,
  type UnmapPrediction,
} from "./reference-map.js";
export {
  checkRandomRuns,
  type ProtOf,
  type RandomRunsOptions,
  type RunRecord,
  referenceRuns,
  runsOf,
} from "./runs.js";
export { deriveSeed, seedOf } from "./seed.js";
export { TableShadow } from "./table-shadow.js";
