/** `iommu`: the command-line entry. Subcommands register themselves (./commands/index.ts). */
import { Command, CommanderError } from "commander";
import pkg from "../package.json" with { type: "json" };
import { commands } from "./commands/index.js";
import { CliError, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, quietOnClosedStdout } from "./exit.js";

quietOnClosedStdout();

const program = new Command("iommu")
  .description("Executable model of the Linux IOMMU subsystem: kernel-harness scripts, table dumps, demos")
  .version(pkg.version, "-V, --version", "print the iommu version")
  .showHelpAfterError("(add --help for usage)")
  // Usage errors exit 2 (commander's default is 1, which this tool keeps for input errors).
  .exitOverride((err) => {
    throw err;
  })
  .addHelpText(
    "after",
    "\nExit status: 0 ok, 1 input error (file, image, --strict err line), 2 usage error, 3 internal error.",
  );
for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and --version are successes; commander printed the message already.
    const ok =
      e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help";
    process.exitCode = ok ? EXIT_OK : EXIT_USAGE;
  } else if (e instanceof CliError) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`iommu: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = EXIT_INTERNAL;
  }
}
