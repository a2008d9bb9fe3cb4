/** `iommu`: the command-line entry. Subcommands register themselves (./commands/index.ts). */
import { Command } from "commander";
import { commands } from "./commands/index.js";

const program = new Command("iommu")
  .description("Executable model of the Linux IOMMU subsystem: kernel-harness scripts, table dumps, demos")
  .showHelpAfterError();
for (const register of commands) register(program);
await program.parseAsync(process.argv);
