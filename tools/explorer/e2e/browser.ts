// Debian's Chromium through playwright-core (no browser downloads). A browser that cannot be
// started fails the tests with a message saying how to get one — never a silent skip.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(path = CHROMIUM): Promise<Browser> {
  if (!existsSync(path))
    throw new Error(
      `the explorer's browser tests need Chromium at ${path}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  try {
    return await chromium.launch({ executablePath: path, args: ["--no-sandbox", "--disable-gpu"] });
  } catch (e) {
    throw new Error(`cannot start Chromium at ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
}
