/**
 * Input lines as the reference harness reads them: `fgets()` into a 1024-byte buffer. A line
 * (its `\n` included) longer than 1023 bytes therefore arrives as several "lines", each
 * counted for `err unknown-command line N`. SCRIPT-FORMAT.md §1 only promises lines shorter
 * than 1024 bytes; this keeps the longer case deterministic and kernel-harness shaped.
 */
export const FGETS_MAX = 1023;

const NL = 0x0a;

/** Incremental splitter: feed bytes, receive complete lines (without the `\n`), then end(). */
export class LineSplitter {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly decoder = new TextDecoder();

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feed the next bytes of the input. */
  push(bytes: Uint8Array): void {
    let buf = bytes;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + bytes.length);
      buf.set(this.pending);
      buf.set(bytes, this.pending.length);
    }
    let start = 0;
    for (;;) {
      const limit = Math.min(buf.length, start + FGETS_MAX);
      let nl = -1;
      for (let i = start; i < limit; i++) {
        if (buf[i] === NL) {
          nl = i;
          break;
        }
      }
      if (nl >= 0) {
        this.emit(buf.subarray(start, nl));
        start = nl + 1;
      } else if (limit - start === FGETS_MAX) {
        // fgets filled its buffer without seeing a newline: the rest comes as the next "line".
        this.emit(buf.subarray(start, limit));
        start = limit;
      } else break;
    }
    this.pending = buf.slice(start);
  }

  /** End of input: a last line without `\n` still counts. */
  end(): void {
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = new Uint8Array(0);
  }

  private emit(bytes: Uint8Array): void {
    this.onLine(this.decoder.decode(bytes));
  }
}

/** All harness lines of a complete text. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l));
  s.push(new TextEncoder().encode(text));
  s.end();
  return out;
}
