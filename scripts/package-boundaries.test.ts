// Package boundaries: the real tree passes, and the checker is shown to fail
// on synthetic trees that break each rule (see package-boundaries.ts).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type BoundaryConfig,
  checkBoundaries,
  formatViolation,
  importsOf,
  LAYERING,
  loadRepository,
  type SourceFile,
} from "./package-boundaries.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Test-only imports of packages that the monorepo installs only because some
 * other workspace depends on them. They work under `npm ci` but are phantom
 * dependencies: adding these names to the root devDependencies removes the
 * need for each entry (the test fails once an entry is no longer needed).
 */
const TEST_ONLY_EXCEPTIONS: Record<string, string> = {};

describe("package boundaries of the repository", () => {
  it("every tracked source respects the four rules", () => {
    const { files, config } = loadRepository(ROOT);
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.path.startsWith("spec/"))).toBe(true);
    expect(files.some((f) => f.path.startsWith("reference/cli/bin/"))).toBe(true);
    const result = checkBoundaries(files, { ...config, testOnlyExceptions: TEST_ONLY_EXCEPTIONS });
    expect(result.violations.map(formatViolation)).toEqual([]);
    expect(result.unusedExceptions, "stale TEST_ONLY_EXCEPTIONS entries").toEqual([]);
  });

  it("the layer table names every workspace package", () => {
    const { config } = loadRepository(ROOT);
    const names = config.areas.flatMap((a) => (a.name ? [a.name] : []));
    expect(names.sort()).toEqual(Object.keys(LAYERING).sort());
  });
});

// A small synthetic workspace.
const CONFIG: BoundaryConfig = {
  areas: [
    {
      dir: "pkgs/protocol",
      name: "@paycode/protocol",
      exports: [".", "./v1"],
      dependencies: ["@bufbuild/protobuf"],
      shippedEntries: ["pkgs/protocol/src/index.ts", "pkgs/protocol/src/v1.ts"],
    },
    {
      dir: "pkgs/sdk",
      name: "@paycode/sdk",
      exports: ["."],
      dependencies: ["@paycode/protocol"],
      shippedEntries: ["pkgs/sdk/src/index.ts"],
    },
    {
      dir: "pkgs/server",
      name: "@paycode/server",
      exports: [".", "./testing"],
      dependencies: ["@paycode/protocol", "@paycode/sdk"],
      shippedEntries: ["pkgs/server/src/index.ts"],
    },
    {
      dir: "conformance",
      name: "@paycode/conformance",
      exports: ["."],
      dependencies: ["@paycode/protocol", "@paycode/sdk", "commander"],
      shippedEntries: ["conformance/src/index.ts", "conformance/bin/run.js"],
    },
    { dir: "spec" },
    { dir: "scripts" },
  ],
  rootDevDependencies: ["vitest", "typescript"],
  layering: LAYERING,
};

const CLEAN: SourceFile[] = [
  { path: "pkgs/protocol/src/index.ts", source: `export * from "./codes/index.js";\n` },
  {
    path: "pkgs/protocol/src/codes/index.ts",
    source: `import { create } from "@bufbuild/protobuf";\nimport { createHash } from "node:crypto";\nimport "fs";\n`,
  },
  { path: "pkgs/protocol/src/v1.ts", source: `export {};\n` },
  {
    path: "pkgs/sdk/src/index.ts",
    source: `import { x } from "@paycode/protocol";\nimport type { Y } from "@paycode/protocol/v1";\n`,
  },
  {
    path: "pkgs/server/src/index.ts",
    source: `import "@paycode/sdk";\nexport { helper } from "./testing/index.js";\n`,
  },
  // Test helper reached from nothing shipped: may use root devDependencies.
  { path: "pkgs/server/src/testing/index.ts", source: `export const helper = 1;\n` },
  {
    path: "pkgs/server/src/testing/fixtures.ts",
    source: `import { expect } from "vitest";\nimport { helper } from "@paycode/server/testing";\n`,
  },
  {
    path: "conformance/src/index.ts",
    source: [
      `import { Command } from "commander";`,
      `// import { Issuer } from "@paycode/server";`,
      `const text = 'import { Issuer } from "@paycode/server"';`,
      `const later = () => import("./lazy.js");`,
    ].join("\n"),
  },
  { path: "conformance/src/lazy.ts", source: `export const lazy = true;\n` },
  { path: "conformance/bin/run.js", source: `import { run } from "../dist/index.js";\n` },
  { path: "conformance/src/runner.test.ts", source: `import { it } from "vitest";\n` },
  {
    path: "spec/vectors/gen.ts",
    source: `import { Ff1 } from "@paycode/protocol";\nimport { derive } from "./derive.js";\n`,
  },
  {
    path: "scripts/tool.ts",
    source: `import ts from "typescript";\nimport { run } from "@paycode/conformance";\n`,
  },
];

function check(extra: SourceFile[], config: BoundaryConfig = CONFIG) {
  const replaced = new Set(extra.map((f) => f.path));
  const files = [...CLEAN.filter((f) => !replaced.has(f.path)), ...extra];
  return checkBoundaries(files, config).violations;
}

describe("checkBoundaries on synthetic trees", () => {
  it("passes a clean tree (comments and strings that look like imports are ignored)", () => {
    expect(check([]).map(formatViolation)).toEqual([]);
  });

  it("finds static, side-effect, re-export, dynamic and type imports with their lines", () => {
    const refs = importsOf(
      [
        `import a from "a";`,
        `import "b";`,
        `export { c } from "c";`,
        `/* import "no" */ const d = await import("d");`,
        `import type { E } from "e";`,
        `const s = "import f from 'f'";`,
      ].join("\n"),
    );
    expect(refs).toEqual([
      { specifier: "a", line: 1 },
      { specifier: "b", line: 2 },
      { specifier: "c", line: 3 },
      { specifier: "d", line: 4 },
      { specifier: "e", line: 5 },
    ]);
  });

  it("rejects a relative import into another package", () => {
    const v = check([
      {
        path: "conformance/src/cases/cheat.ts",
        source: `// helper\nimport { Issuer } from "../../../pkgs/server/src/issuer.js";\n`,
      },
    ]);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      file: "conformance/src/cases/cheat.ts",
      line: 2,
      rule: "relative-import",
    });
    expect(formatViolation(v[0]!)).toMatch(
      /^conformance\/src\/cases\/cheat\.ts:2: \[relative-import\] .*pkgs\/server\/src\/issuer\.js, outside @paycode\/conformance/,
    );
  });

  it("rejects relative imports out of spec/ and scripts/ too", () => {
    const v = check([
      {
        path: "spec/vectors/gen.ts",
        source: `import { Ff1 } from "../../pkgs/protocol/src/ff1.js";\n`,
      },
      { path: "scripts/tool.ts", source: `export * from "../conformance/src/index.js";\n` },
    ]);
    expect(v.map((x) => [x.file, x.rule])).toEqual([
      ["spec/vectors/gen.ts", "relative-import"],
      ["scripts/tool.ts", "relative-import"],
    ]);
  });

  it("rejects @paycode/server from conformance, sdk and protocol, and upward imports", () => {
    const v = check([
      {
        path: "conformance/src/cases/cheat.ts",
        source: `import { Issuer } from "@paycode/server";\n`,
      },
      // A test file is not exempt from layering.
      {
        path: "pkgs/sdk/src/e2e.test.ts",
        source: `import { it } from "vitest";\nimport { TestServer } from "@paycode/server/testing";\n`,
      },
      { path: "pkgs/protocol/src/v1.ts", source: `export { WalletClient } from "@paycode/sdk";\n` },
    ]);
    expect(v.map((x) => `${x.file}:${x.line} ${x.rule}`)).toEqual([
      "conformance/src/cases/cheat.ts:1 layering",
      "pkgs/sdk/src/e2e.test.ts:2 layering",
      "pkgs/protocol/src/v1.ts:1 layering",
      // Shipped, and protocol does not declare the sdk either.
      "pkgs/protocol/src/v1.ts:1 undeclared-dependency",
    ]);
    expect(v[0]!.message).toBe(
      "@paycode/conformance must not import @paycode/server (allowed: @paycode/protocol, @paycode/sdk)",
    );
    expect(v[2]!.message).toBe(
      "@paycode/protocol must not import @paycode/sdk (allowed: no other @paycode package)",
    );
  });

  it("rejects deep imports that are not keys of the exports map", () => {
    const v = check([
      {
        path: "pkgs/sdk/src/index.ts",
        source: [
          `import { x } from "@paycode/protocol";`,
          `import { y } from "@paycode/protocol/dist/v1.js";`,
          `import { z } from "@paycode/protocol/src/codes/index.js";`,
        ].join("\n"),
      },
      { path: "scripts/tool.ts", source: `import "@paycode/server/dist/testing/index.js";\n` },
    ]);
    expect(v.map((x) => `${x.file}:${x.line} ${x.rule} ${x.specifier}`)).toEqual([
      "pkgs/sdk/src/index.ts:2 exports @paycode/protocol/dist/v1.js",
      "pkgs/sdk/src/index.ts:3 exports @paycode/protocol/src/codes/index.js",
      "scripts/tool.ts:1 exports @paycode/server/dist/testing/index.js",
    ]);
    expect(v[0]!.message).toContain('"./dist/v1.js" is not a key of its exports map (., ./v1)');
  });

  it("rejects undeclared dependencies in shipped code, including files shipped code reaches", () => {
    const v = check([
      {
        path: "pkgs/protocol/src/codes/index.ts",
        source: `import { create } from "@bufbuild/protobuf";\nimport { z } from "zod";\nimport "./util.js";\n`,
      },
      { path: "pkgs/protocol/src/codes/util.ts", source: `import { it } from "vitest";\n` },
      { path: "conformance/bin/run.js", source: `import chalk from "chalk";\n` },
    ]);
    expect(v.map((x) => `${x.file}:${x.line} ${x.rule} ${x.specifier}`)).toEqual([
      "pkgs/protocol/src/codes/index.ts:2 undeclared-dependency zod",
      "pkgs/protocol/src/codes/util.ts:1 undeclared-dependency vitest",
      "conformance/bin/run.js:1 undeclared-dependency chalk",
    ]);
  });

  it("lets tests use root devDependencies but not unknown packages, unless excepted", () => {
    const files = [
      {
        path: "conformance/src/runner.test.ts",
        source: `import { it } from "vitest";\nimport "left-pad";\n`,
      },
    ];
    expect(check(files).map(formatViolation)).toEqual([
      `conformance/src/runner.test.ts:2: [undeclared-dependency] "left-pad" is imported by a test or test helper of @paycode/conformance but is neither in conformance/package.json dependencies nor in the root devDependencies`,
    ]);
    const excepted: BoundaryConfig = {
      ...CONFIG,
      testOnlyExceptions: { "conformance:left-pad": "why", "spec:unused": "stale" },
    };
    const files2 = [...CLEAN.filter((f) => f.path !== files[0]!.path), ...files];
    expect(checkBoundaries(files2, excepted)).toEqual({
      violations: [],
      unusedExceptions: ["spec:unused"],
    });
  });
});
