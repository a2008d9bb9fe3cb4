// No browser is a failure with a way out, never a silent skip.
import { describe, expect, it } from "vitest";
import { launchChromium } from "./browser.js";

describe("launchChromium", () => {
  it("fails saying how to get a browser when there is none", async () => {
    await expect(launchChromium("/nonexistent/chromium")).rejects.toThrow(
      "the explorer's browser tests need Chromium at /nonexistent/chromium: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH",
    );
  });

  it("fails naming the browser that does not start", async () => {
    await expect(launchChromium("/bin/false")).rejects.toThrow(/^cannot start Chromium at \/bin\/false: /);
  });
});
