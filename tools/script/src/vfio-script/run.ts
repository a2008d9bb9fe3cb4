/**
 * `iommu vfio-script`'s engine side: one whole script text as a fresh simulated process, on
 * the drivers of one registry `vfio` entry (`--domains`).
 */
import type { UnmapMode } from "@iommu/vfio";
import { vfioDomainsKinds } from "../registry.js";
import { splitLines } from "../script/lines.js";
import { VfioScript, type VfioScriptDrivers } from "./interpreter.js";

export interface VfioScriptRunOptions {
  unmapMode?: UnmapMode;
  /** Kernel WARN text (default: dropped). */
  stderr?: (line: string) => void;
  /** Which registry drivers (`lpae`, `smmu`); default the first, `lpae` (what the reference harness builds). */
  domains?: string;
}

/** The drivers of one run for `--domains name` (undefined for an unknown name). */
export function vfioScriptDrivers(name?: string): VfioScriptDrivers | undefined {
  const kinds = vfioDomainsKinds();
  const kind = name === undefined ? kinds[0] : kinds.find((k) => k.name === name);
  return kind?.createDrivers();
}

/** A fresh simulated process on the `--domains` drivers (throws for an unknown name). */
export function createVfioScript(opts: VfioScriptRunOptions = {}): VfioScript {
  const drivers = vfioScriptDrivers(opts.domains);
  if (!drivers) throw new Error(`unknown VFIO script domains ${opts.domains}`);
  return new VfioScript(drivers, { unmapMode: opts.unmapMode, stderr: opts.stderr });
}

/** Run one whole script text as a fresh process; returns stdout. */
export function runVfioScript(text: string, opts: VfioScriptRunOptions = {}): string {
  const script = createVfioScript(opts);
  const out: string[] = [];
  for (const line of splitLines(text)) for (const l of script.line(line)) out.push(`${l}\n`);
  return out.join("");
}
