#!/usr/bin/env node
// Files each package ships but the repository keeps once: the licence in
// every package, and in @paycode/conformance the spec it was written
// against (its reports quote and link requirements). Run by `npm run build`.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";

const { workspaces } = JSON.parse(readFileSync("package.json", "utf8"));
for (const dir of workspaces) copyFileSync("LICENSE", `${dir}/LICENSE`);
mkdirSync("conformance/spec", { recursive: true });
copyFileSync("spec/paycode.md", "conformance/spec/paycode.md");
