/**
 * The kit tested on itself: a small correct domain passes the whole suite, and a domain
 * broken in one way fails the check written for that bug.
 */
import { describe, expect, it } from "vitest";
import { ConformanceError } from "./checks.js";
import {
  type CheckName,
  type ConformanceOptions,
  describeDomainConformance,
  runConformanceCheck,
} from "./conformance.js";
import { createFakeDomain, FAKE_SEMANTICS, type FakeFaults } from "./fake-domain.js";
import { seedOf } from "./seed.js";

const OPTIONS: ConformanceOptions = { semantics: FAKE_SEMANTICS };

describeDomainConformance("fake radix (correct)", () => createFakeDomain(), OPTIONS);

/** The ConformanceError a check throws on a domain with `faults`. */
function failure(
  check: CheckName,
  faults: FakeFaults,
  options: Partial<ConformanceOptions> = {},
): ConformanceError {
  try {
    runConformanceCheck(
      check,
      () => createFakeDomain(faults),
      { ...OPTIONS, shrink: false, ...options },
      seedOf(check),
    );
  } catch (e) {
    if (e instanceof ConformanceError) return e;
    throw e;
  }
  throw new Error(`check ${check} passed a domain with faults ${JSON.stringify(faults)}`);
}

describe("each check catches the bug it is for", () => {
  it("reference: a wrong length (8K for a 4K leaf)", () => {
    expect(failure("reference", { wrongLength: true }).message).toMatch(
      /^reference: .*length 0x2000, the reference leaf is 0x1000/,
    );
  });

  it("length contract: a wrong length leaves its mapping or translates non-linearly", () => {
    expect(failure("length-contract", { wrongLength: true }).message).toMatch(
      /^length-contract: .*(leaves the mapping|does not translate linearly|not linear)/,
    );
  });

  it("walk cache: a lookup cache that unmap does not drop", () => {
    expect(failure("walk-cache", { staleCache: true }).message).toMatch(
      /^reference: .*unmapped in the reference, the domain maps it/,
    );
  });

  it("inspector: a lookup cache the inspector's memory walk disagrees with", () => {
    expect(failure("inspector", { staleCache: true }).message).toMatch(/^(reference|inspector): /);
  });

  it("inspector: an inspector that reports a wrong hole span", () => {
    expect(failure("inspector", { inspectorLies: true }).message).toMatch(
      /^inspector: .*hole of 0x200000 by the lookup, 0x40000000 by the inspector/,
    );
  });

  it("allocation failure: a map that leaks the tables it allocated when a later allocation fails", () => {
    expect(failure("alloc-failure", { leakOnFailure: true }).message).toMatch(
      /^alloc-failure: map .* with allocation \d+ failing: live (tables|blocks) \d+ → \d+/,
    );
  });

  it("allocation failure: the leak is caught even when the format may keep tables", () => {
    const known = { allocFailureKeepsTables: "self-test" };
    expect(failure("alloc-failure", { leakOnFailure: true }, { known }).message).toMatch(
      /^alloc-failure: table block .* left by a failed attempt is not reachable from the page table \(leaked\)/,
    );
  });

  it("counters: a lookup that counts two walks", () => {
    expect(failure("counters", { doubleWalk: true }).message).toMatch(
      /^counters: iova_to_phys_length\(.*\) counted 2 walks, not 1/,
    );
  });

  it("reference: a map conflict with the wrong errno, an unmap that over-reports", () => {
    expect(failure("reference", { wrongErrno: true }).message).toMatch(
      /^reference: failed with EBUSY, the reference expects EEXIST/,
    );
    expect(failure("reference", { unmapOvercount: true }).message).toMatch(
      /^reference: returned \d+, the reference expects \d+ \[.*unmap/,
    );
  });

  it("every check fails with the operation and what replays it in its report", () => {
    const e = failure("reference", { wrongErrno: true });
    expect(e.check).toBe("reference");
    expect(e.message).toMatch(/\[op \d+: map 0x[0-9a-f]+\+0x[0-9a-f]+ → 0x[0-9a-f]+ prot \d\]/);
    expect(e.message).toMatch(/replay: seed 0x[0-9a-f]+ \(fast-check -?\d+\), path "[\d:]+"/);
  });
});

describe("option checks", () => {
  it("the reference sequence never runs fewer than 10,000 operations", () => {
    const s = runConformanceCheck("reference", () => createFakeDomain(), { ...OPTIONS, ops: 100 }, 1);
    expect(s.ops).toBeGreaterThanOrEqual(10_000);
  });

  it("a check that runs out of its time budget fails rather than passing on fewer sequences", () => {
    const run = () =>
      runConformanceCheck("reference", () => createFakeDomain(), { ...OPTIONS, timeLimitMs: 1 }, 1);
    expect(run).toThrow(/^reference: interrupted after 1 ms with \d+ of \d+ sequences run/);
  });

  it("a failure found before the budget runs out is reported even while shrinking is cut short", () => {
    const e = failure("reference", { wrongErrno: true }, { shrink: true, timeLimitMs: 3000 });
    expect(e.message).toMatch(/^reference: failed with EBUSY, the reference expects EEXIST/);
  });

  it("a page size the domain does not have is refused", () => {
    expect(() =>
      runConformanceCheck("reference", () => createFakeDomain(), { ...OPTIONS, pageSizes: [0x4000] }, 1),
    ).toThrow(/not in the domain's bitmap/);
  });
});
