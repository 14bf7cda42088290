#!/usr/bin/env node
// The conformance package ships the spec it was written against (its reports
// quote and link requirements): copy spec/paycode.md into it at build time.
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("conformance/spec", { recursive: true });
copyFileSync("spec/paycode.md", "conformance/spec/paycode.md");
