import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { fmtArgsOf } from "./dump.js";
import { commands } from "./index.js";

describe("command registry", () => {
  const program = new Command("iommu");
  for (const register of commands) register(program);

  it("registers every subcommand, each with a description and help", () => {
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(["script", "dump", "vfio-script", "iommufd-script", "demo", "explore"]);
    expect(new Set(names).size).toBe(names.length);
    for (const c of program.commands) {
      expect(c.description(), c.name()).not.toBe("");
      expect(c.helpInformation()).toContain(`Usage: iommu ${c.name()}`);
    }
  });
});

describe("iommu dump options", () => {
  it("map to script fmt arguments in a fixed order", () => {
    expect(
      fmtArgsOf({
        oas: "40",
        granule: "16k",
        quirks: "ns,ttbr1",
        noncoherent: true,
        set: ["ptbase=100000000"],
      }),
    ).toEqual(["granule", "16k", "oas", "40", "quirks", "ns,ttbr1", "ptbase", "100000000", "noncoherent"]);
  });
});
