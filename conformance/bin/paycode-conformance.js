#!/usr/bin/env node
import { runCli } from "@paycode/sdk/cli";
import { createConformanceProgram } from "../dist/cli/program.js";

await runCli(createConformanceProgram());
