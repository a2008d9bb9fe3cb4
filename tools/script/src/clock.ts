/**
 * A monotonic nanosecond clock, for the timing commands and the demo's wall times. The
 * default reads `performance.now()` (browsers and Node alike); the CLI passes Node's
 * `process.hrtime.bigint` for full resolution.
 */
export type Clock = () => bigint;

export const performanceClock: Clock = () => BigInt(Math.round(performance.now() * 1e6));
