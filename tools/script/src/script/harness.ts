/**
 * The reference harnesses whose output the vectors hold (vectors/SCRIPT-FORMAT.md; the driver
 * harness of vectors/drivers/README.md Sections A–C): what the engine does differently for each.
 */
import type { ScriptHarness } from "./target.js";

/** The kernel io-pgtable / generic_pt reference harness (SCRIPT-FORMAT.md): the default. */
export const KERNEL_HARNESS: ScriptHarness = { name: "kernel", fmtErrorEmptyLine: true };

const DRIVER_LACKS = /^(walk|selftest.*|bench-.*)$/;

/**
 * The direct-driver harness (drivers/README.md): a failed `fmt` prints one line; no `walk`,
 * `selftest*` or `bench-*`; it knows a few more errno names.
 */
export const DRIVER_HARNESS: ScriptHarness = {
  name: "driver",
  fmtErrorEmptyLine: false,
  errnoNames: new Map([
    [5, "EIO"],
    [16, "EBUSY"],
    [28, "ENOSPC"],
    [38, "ENOSYS"],
    [110, "ETIMEDOUT"],
  ]),
  lacks: (command) => DRIVER_LACKS.test(command),
};
