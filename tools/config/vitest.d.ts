import type { UserConfig } from "vitest/config";
export declare function packageTests(overrides?: Record<string, unknown>): UserConfig;
