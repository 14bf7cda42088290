import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "reference/*/src/**/*.test.ts",
      "conformance/src/**/*.test.ts",
      "bench/src/**/*.test.ts",
      "spec/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel but keep each file's servers on its own.
    pool: "forks",
    maxWorkers: 2,
  },
});
