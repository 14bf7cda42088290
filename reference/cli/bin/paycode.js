#!/usr/bin/env node
import { runCli } from "@paycode/sdk/cli";
import { createProgram } from "../dist/main.js";

await runCli(await createProgram(process.argv));
