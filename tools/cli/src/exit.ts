/**
 * The command's exit codes and its Unix manners, in one place:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (also: stdout closed early by the reader, e.g. `iommu script f \| head -1`) |
 * | 1 | input error: an unreadable or invalid file or image, a report path that cannot be written, `--strict` with an `err` line |
 * | 2 | usage error: unknown command or option, invalid option value, no matching scenario |
 * | 3 | internal error: a model bug (never a kernel error, which is output) |
 */
export const EXIT_OK = 0;
export const EXIT_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

/** A failure the user can fix: printed as one line `iommu <cmd>: <message>`, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_INPUT,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * A reader that closes stdout early (`| head`) ends the process quietly with status 0, as
 * the classic tools do under SIGPIPE; any other write error is an input/output failure.
 */
export function quietOnClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_OK);
    process.stderr.write(`iommu: stdout: ${e.message}\n`);
    process.exit(EXIT_INPUT);
  });
}
