// Package boundaries of the monorepo, as a pure checker over (path, source)
// pairs plus package metadata, and a loader that reads that metadata from
// the repository. scripts/package-boundaries.test.ts runs it on every
// tracked source and unit-tests it on synthetic trees.
//
// Rules:
//   relative-import  a relative import stays inside the importing file's own
//                    package directory (spec/ and scripts/ are areas of their
//                    own and reach packages by name, like any user).
//   layering         a package imports only the @paycode packages its layer
//                    allows (protocol: none; sdk: protocol; server,
//                    conformance, bench: protocol and sdk; the CLI: any).
//   exports          an import of a workspace package names "." or a key of
//                    its `exports` map: no deep imports into dist/ or src/.
//   undeclared-dependency
//                    a bare import in shipped code (what tsc compiles for the
//                    package, its bin files, and what they import relatively)
//                    is a builtin, the package itself or one of its
//                    `dependencies`; tests and test helpers may also use the
//                    root devDependencies and the workspace packages.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, posix, relative, resolve } from "node:path";
import ts from "typescript";

export interface SourceFile {
  /** Repository-relative POSIX path. */
  path: string;
  source: string;
}

export interface Area {
  /** Repository-relative directory, no trailing slash. */
  dir: string;
  /** Package name; undefined for spec/ and scripts/, which are not packages. */
  name?: string;
  /** Keys of the `exports` map ("." and "./sub"). */
  exports?: string[];
  /** Names in `dependencies` (and `peerDependencies`). */
  dependencies?: string[];
  /** Repository-relative paths that are published: compiled sources and bin files. */
  shippedEntries?: string[];
}

export interface BoundaryConfig {
  areas: Area[];
  /** Root package.json devDependencies: usable by tests, test helpers, spec/ and scripts/. */
  rootDevDependencies: string[];
  /** Per package name: the other workspace packages it may import, or "any". */
  layering: Record<string, readonly string[] | "any">;
  /** Extra bare imports allowed in non-shipped files, "area-dir:package" -> why. */
  testOnlyExceptions?: Record<string, string>;
}

export type Rule = "relative-import" | "layering" | "exports" | "undeclared-dependency";

export interface Violation {
  file: string;
  line: number;
  rule: Rule;
  specifier: string;
  message: string;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: [${v.rule}] ${v.message}`;
}

/** The layer table: who may import which @paycode package (self-imports are always allowed). */
export const LAYERING: Record<string, readonly string[] | "any"> = {
  "@paycode/protocol": [],
  "@paycode/sdk": ["@paycode/protocol"],
  "@paycode/server": ["@paycode/protocol", "@paycode/sdk"],
  "@paycode/conformance": ["@paycode/protocol", "@paycode/sdk"],
  "@paycode/bench": ["@paycode/protocol", "@paycode/sdk"],
  "@paycode/example-web": ["@paycode/protocol", "@paycode/sdk"],
  paycode: "any",
};

export interface ImportRef {
  specifier: string;
  line: number;
}

/**
 * Module specifiers of static imports/exports (`from "x"`), side-effect
 * imports (`import "x"`), `import("x")` and `require("x")`, from the
 * TypeScript scanner, so strings and comments that merely look like imports
 * are not reported.
 */
export function importsOf(source: string): ImportRef[] {
  const info = ts.preProcessFile(source, true, true);
  const lineStarts = [0];
  for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) {
    lineStarts.push(i + 1);
  }
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  return info.importedFiles.map((f) => ({ specifier: f.fileName, line: lineOf(f.pos) }));
}

/** "@scope/name/sub" -> ["@scope/name", "./sub"]; "name" -> ["name", "."]. */
export function splitBare(specifier: string): [string, string] {
  const parts = specifier.split("/");
  const n = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, n).join("/");
  const rest = parts.slice(n).join("/");
  return [name, rest ? `./${rest}` : "."];
}

const isRelative = (s: string) =>
  s === "." || s === ".." || s.startsWith("./") || s.startsWith("../");

function areaOf(areas: Area[], path: string): Area | undefined {
  let best: Area | undefined;
  for (const a of areas) {
    if (path.startsWith(`${a.dir}/`) && (!best || a.dir.length > best.dir.length)) best = a;
  }
  return best;
}

/** The tracked source a relative specifier names, if any (".js" may stand for ".ts"). */
function resolveSource(target: string, known: Set<string>): string | undefined {
  const candidates = [
    target,
    target.replace(/\.js$/, ".ts"),
    target.replace(/\.mjs$/, ".mts"),
    target.replace(/\.cjs$/, ".cts"),
    `${target}.ts`,
    `${target}/index.ts`,
    `${target}/index.js`,
  ];
  return candidates.find((c) => known.has(c));
}

/** Shipped files: the entries plus everything they reach through relative imports. */
function shippedClosure(
  areas: Area[],
  imports: Map<string, ImportRef[]>,
  known: Set<string>,
): Set<string> {
  const shipped = new Set<string>();
  const queue: string[] = [];
  for (const a of areas) {
    for (const e of a.shippedEntries ?? []) {
      if (known.has(e) && !shipped.has(e)) {
        shipped.add(e);
        queue.push(e);
      }
    }
  }
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const ref of imports.get(file) ?? []) {
      if (!isRelative(ref.specifier)) continue;
      const hit = resolveSource(posix.join(posix.dirname(file), ref.specifier), known);
      if (hit && !shipped.has(hit)) {
        shipped.add(hit);
        queue.push(hit);
      }
    }
  }
  return shipped;
}

export interface BoundaryResult {
  violations: Violation[];
  /** Keys of `testOnlyExceptions` no file needed: stale, to be deleted. */
  unusedExceptions: string[];
}

export function checkBoundaries(files: SourceFile[], config: BoundaryConfig): BoundaryResult {
  const known = new Set(files.map((f) => f.path));
  const imports = new Map(files.map((f) => [f.path, importsOf(f.source)]));
  const shipped = shippedClosure(config.areas, imports, known);
  const byName = new Map<string, Area>();
  for (const a of config.areas) if (a.name) byName.set(a.name, a);
  const workspaceNames = new Set(byName.keys());
  const violations: Violation[] = [];
  const usedExceptions = new Set<string>();

  for (const file of files) {
    const area = areaOf(config.areas, file.path);
    if (!area) continue;
    const who = area.name ?? `${area.dir}/`;
    const isShipped = shipped.has(file.path);
    for (const { specifier, line } of imports.get(file.path) ?? []) {
      const report = (rule: Rule, message: string) =>
        violations.push({ file: file.path, line, rule, specifier, message });

      if (isRelative(specifier) || specifier.startsWith("/")) {
        const target = specifier.startsWith("/")
          ? specifier
          : posix.normalize(posix.join(posix.dirname(file.path), specifier));
        if (!target.startsWith(`${area.dir}/`)) {
          report(
            "relative-import",
            `"${specifier}" resolves to ${target}, outside ${who} (${area.dir}/); import the owning package by name`,
          );
        }
        continue;
      }
      if (isBuiltin(specifier)) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) || specifier.startsWith("#")) continue;

      const [pkg, subpath] = splitBare(specifier);
      const target = byName.get(pkg);
      const self = area.name !== undefined && pkg === area.name;

      if (target && area.name && !self) {
        const allowed = config.layering[area.name];
        if (allowed !== "any" && !(allowed ?? []).includes(pkg)) {
          const list =
            allowed && allowed.length > 0 ? allowed.join(", ") : "no other @paycode package";
          report("layering", `${area.name} must not import ${pkg} (allowed: ${list})`);
        }
      }
      if (target) {
        const keys = target.exports ?? [];
        if (!keys.includes(subpath)) {
          report(
            "exports",
            `"${specifier}" is not exported by ${pkg}: "${subpath}" is not a key of its exports map (${keys.join(", ") || "none"})`,
          );
        }
      }
      if (self) continue;
      const deps = area.dependencies ?? [];
      if (area.name && isShipped) {
        if (!deps.includes(pkg)) {
          report(
            "undeclared-dependency",
            `"${pkg}" is imported by shipped code of ${area.name} but is not in ${area.dir}/package.json dependencies`,
          );
        }
        continue;
      }
      const exceptionKey = `${area.dir}:${pkg}`;
      const excepted = config.testOnlyExceptions?.[exceptionKey] !== undefined;
      if (
        !deps.includes(pkg) &&
        !config.rootDevDependencies.includes(pkg) &&
        !workspaceNames.has(pkg)
      ) {
        if (excepted) {
          usedExceptions.add(exceptionKey);
          continue;
        }
        report(
          "undeclared-dependency",
          area.name
            ? `"${pkg}" is imported by a test or test helper of ${area.name} but is neither in ${area.dir}/package.json dependencies nor in the root devDependencies`
            : `"${pkg}" is imported by ${who} but is not in the root devDependencies`,
        );
      }
    }
  }
  const unusedExceptions = Object.keys(config.testOnlyExceptions ?? {}).filter(
    (k) => !usedExceptions.has(k),
  );
  return { violations, unusedExceptions };
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Reads the areas and sources of the repository at `root` (impure half of the check). */
export function loadRepository(root: string): { files: SourceFile[]; config: BoundaryConfig } {
  const readJson = (p: string) => JSON.parse(readFileSync(join(root, p), "utf8"));
  const rootPkg = readJson("package.json");
  const areas: Area[] = [];
  for (const dir of rootPkg.workspaces as string[]) {
    const pkg = readJson(`${dir}/package.json`);
    const tsconfigPath = resolve(root, dir, "tsconfig.json");
    const cfg = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
    if (cfg.error) throw new Error(`${dir}/tsconfig.json: ${cfg.error.messageText}`);
    const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, dirname(tsconfigPath));
    const compiled = parsed.fileNames.map((f) => relative(root, f).split("\\").join("/"));
    const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
    areas.push({
      dir,
      name: pkg.name,
      exports: Object.keys(pkg.exports ?? {}),
      dependencies: [
        ...Object.keys(pkg.dependencies ?? {}),
        ...Object.keys(pkg.peerDependencies ?? {}),
      ],
      shippedEntries: [...compiled, ...bins.map((b) => posix.join(dir, b as string))],
    });
  }
  areas.push({ dir: "spec" }, { dir: "scripts" });
  // Tracked files plus new ones not ignored yet, so a fresh file is checked before its commit.
  const listed = execFileSync(
    "git",
    [
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      ...areas.map((a) => a.dir),
    ],
    { cwd: root, encoding: "utf8" },
  )
    .split("\0")
    .filter((p) => SOURCE.test(p) && existsSync(join(root, p)));
  const tracked = [...new Set(listed)];
  const files = tracked.map((path) => ({ path, source: readFileSync(join(root, path), "utf8") }));
  return {
    files,
    config: {
      areas,
      rootDevDependencies: Object.keys(rootPkg.devDependencies ?? {}),
      layering: LAYERING,
    },
  };
}
