#!/usr/bin/env node
// Writes the reference's mutant catalogue snapshot into the conformance
// package (conformance/src/reference-mutants.ts) and the per-MUST proof
// table into docs/certification.md. Run after `npm run build` whenever a
// mutant, a case or a requirement changes; reference/cli's
// coverage-doc.test.ts fails while either is out of date.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  coverageDocSection,
  referenceMutantsModule,
  replaceCoverageSection,
} from "../dist/spec/coverage-doc.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const moduleFile = `${root}conformance/src/reference-mutants.ts`;
writeFileSync(moduleFile, referenceMutantsModule());
execFileSync("npx", ["biome", "format", "--write", moduleFile], { cwd: root, stdio: "inherit" });
const docFile = `${root}docs/certification.md`;
writeFileSync(docFile, replaceCoverageSection(readFileSync(docFile, "utf8"), coverageDocSection()));
process.stdout.write(`wrote ${moduleFile} and the coverage section of ${docFile}\n`);
