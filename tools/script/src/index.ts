/**
 * @iommu/script (private): the browser-safe engine behind the `iommu` command and, later, the
 * explorer — the kernel-harness script language, the VFIO script language, the series demo,
 * table-image dumps, and the one registry of drivers and formats they all draw on. Imports
 * only @iommu/* packages: no Node modules, no terminal code.
 */

// The unmap modes of a VFIO script (and `--unmap-mode`), as @iommu/vfio defines them.
export { UNMAP_MODES, type UnmapMode } from "@iommu/vfio";
export { type Clock, performanceClock } from "./clock.js";
// The demo (`iommu demo`): jobs, runs, rows, scenarios, the §7 walk model, report and table cells.
export type { CallerScenario, LookupMode } from "./demo/caller.js";
export {
  callerFormatNames,
  callerJobs,
  type DemoJob,
  type DemoOptions,
  type DemoProgress,
  demoJobs,
  runCallerScenario,
  runDemoRows,
} from "./demo/demo.js";
export { renderChart, renderReport } from "./demo/report.js";
export {
  DEMO_JSON_SCHEMA_VERSION,
  type DemoJsonMeta,
  type DemoRow,
  type Pair,
  rowCheck,
  rowId,
  toJson,
  walkRatio,
} from "./demo/row.js";
export { type Measurement, measure, runScenario } from "./demo/run.js";
export {
  allScenarios,
  blockSize,
  type DriverLayout,
  driverScenarios,
  GRANULES,
  type Granule,
  PG,
  type Scenario,
  type ScenarioKind,
  scenariosFor,
  sizeName,
} from "./demo/scenarios.js";
export {
  arrow,
  DEMO_TABLE_ALIGN,
  DEMO_TABLE_HEAD,
  type DemoTableLayout,
  type DemoTableSection,
  demoSectionTitle,
  demoTableCells,
  demoTableLayout,
  ratio,
} from "./demo/table-cells.js";
export { ALL_FORMATS, type DemoTarget, demoTargets, type TargetFormat } from "./demo/targets.js";
export { type WalkModel, walkModel } from "./demo/walk-model.js";
// IommuDriver adapters for bare formats, and a narrowed view of a driver.
export { PtDriver, type PtDriverHw } from "./drivers/generic-pt.js";
export { IoPgtableDriver, type IoPgtableDriverHw, ioPgtableDriverOps } from "./drivers/io-pgtable.js";
export { type DriverRestriction, restrictDriver } from "./drivers/restrict.js";
// Table images (`iommu dump`).
export { dumpImage, type ImageDumpOptions, type ImageDumpResult } from "./dump/image-dump.js";
// Table images (`iommu script --save-image`, `iommu dump FILE`).
export {
  decodeTableImage,
  encodeTableImage,
  isTableImage,
  snapshotTableMemory,
  TABLE_IMAGE_MAGIC,
  TABLE_IMAGE_VERSION,
  type TableImageFile,
} from "./dump/table-image.js";
export { parseVtdDebugfs, type VtdDebugfsDomain, type VtdDebugfsResult } from "./dump/vtd-debugfs.js";
// The iommufd script language (`iommu iommufd-script`) and its read-back modes.
export {
  IOMMUFD_SCRIPT_DOMAINS,
  IommufdScript,
  type IommufdScriptOptions,
  READ_BACK_MODES,
  type ReadBackMode,
} from "./iommufd-script/interpreter.js";
export { runIommufdScript } from "./iommufd-script/run.js";
// The registry: every driver and format the tools know.
export {
  createFamilies,
  type DemoTargetEntry,
  type DemoTargetKind,
  type DirectDriverEntry,
  demoTargetKinds,
  directDriverKinds,
  fmtNames,
  genericPtFormats,
  REGISTRY,
  type RegistryEntry,
  type VfioDomainsEntry,
  vfioDomainsKinds,
} from "./registry.js";
// The kernel-harness script language (`iommu script`).
export { BENCH_BASE } from "./script/bench.js";
export { runScript, type ScriptOptions, ScriptSession } from "./script/engine.js";
export { formatErrno } from "./script/errno-names.js";
export { createDartFamily, DART_FMT_NAMES } from "./script/families/dart.js";
export { createGenericPtFamily } from "./script/families/generic-pt.js";
export { createLpaeFamily, LPAE_FMT_NAMES } from "./script/families/lpae.js";
export { createV7sFamily, V7S_FMT_NAMES } from "./script/families/v7s.js";
// Inspector data as text: prot letters, the families' `dump` lines, range listings.
export {
  dartDumpLines,
  formatRange,
  formatSize,
  genericPtDumpLines,
  genericPtWalkLine,
  leafProtOf,
  lpaeDumpLines,
  lpaeWalkLine,
  type MappedRange,
  mappedRanges,
  protLetters,
  v7sDumpLines,
} from "./script/inspect-text.js";
// Model-only IOTLB commands (`iotlb on|off|show`, `access`): the feeds by driver, the attached model.
export {
  findingLine,
  IOTLB_FEEDS,
  type IotlbFeedEntry,
  iotlbCommand,
  iotlbFeedFor,
  parseIotlbOn,
  ScriptIotlb,
} from "./script/iotlb.js";
export { FGETS_MAX, LineSplitter, splitLines } from "./script/lines.js";
export { MAX_TOKENS, parseCount, parseHex, parseNum, parseProt, tokenize } from "./script/parse.js";
export type { FmtResult, ScriptEnv, ScriptFamily, ScriptTable, TableImage } from "./script/target.js";
// The VFIO script language (`iommu vfio-script`).
export { createLpaeVfioDrivers, createSmmuVfioDrivers, VFIO_SCRIPT_PGSIZES } from "./vfio-script/drivers.js";
export {
  errLine,
  VfioScript,
  type VfioScriptDrivers,
  type VfioScriptHw,
  type VfioScriptOptions,
} from "./vfio-script/interpreter.js";
export {
  createVfioScript,
  runVfioScript,
  type VfioScriptRunOptions,
  vfioScriptDrivers,
} from "./vfio-script/run.js";
