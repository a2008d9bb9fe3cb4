// Model-only: the record a driver model keeps of the commands or register writes its hardware
// received (TLB maintenance, request queues), which the IOTLB feeds read back
// (docs/iotlb-model.md).

/**
 * Model-only: the last `capacity` entries, oldest first, and how many were ever pushed — a
 * reader that remembers `total` tells what is new and whether entries fell off before it read.
 */
export class BoundedLog<T> {
  /** Entries pushed since the log was made. */
  total = 0;
  private readonly list: T[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("BoundedLog: capacity must be at least 1");
  }

  /** Record one entry (the oldest falls off when the log is full). */
  push(entry: T): void {
    this.total++;
    if (this.list.length >= this.capacity) this.list.shift();
    this.list.push(entry);
  }

  /** The entries kept, oldest first. */
  get entries(): readonly T[] {
    return this.list;
  }

  /**
   * Where in {@link entries} the entries pushed after `total` was `mark` start; throws (naming
   * `reader`) when some of them already fell off, so a reader never misses one silently.
   */
  firstSince(mark: number, reader: string): number {
    const n = this.total - mark;
    if (n > this.list.length) throw new Error(`${reader}: ${n - this.list.length} entries fell off the log`);
    return this.list.length - n;
  }
}
