#!/usr/bin/env node
import { runCli } from "@paycode/sdk/cli";
import { createBenchProgram } from "../dist/cli/program.js";

await runCli(createBenchProgram());
