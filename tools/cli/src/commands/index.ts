/**
 * The `iommu` subcommands. Each lives in its own file exporting `register(program)`; adding
 * one is one import and one array element.
 */
import type { Command } from "commander";
import { register as demo } from "./demo.js";
import { register as dump } from "./dump.js";
import { register as explore } from "./explore.js";
import { register as iommufdScript } from "./iommufd-script.js";
import { register as script } from "./script.js";
import { register as vfioScript } from "./vfio-script.js";

/** In help order. */
export const commands: ReadonlyArray<(program: Command) => void> = [
  script,
  dump,
  vfioScript,
  iommufdScript,
  demo,
  explore,
];
