import { writeFileSync } from "node:fs";
import { CliError, EXIT_USAGE, UsageError } from "@paycode/sdk/cli";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { HttpVersion, Protocol } from "../case.js";
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS } from "../defaults.js";
import { type KnownFailingEntry, readKnownFailing } from "../known-failing.js";
import type { MutantSpec } from "../mutants.js";
import { invalidTargetReason, TARGET_PROBLEM_EXIT_CODES } from "../probe-codes.js";
import {
  ConsoleReporter,
  JsonFileReporter,
  toHtml,
  toJunit,
  writeAtomic,
} from "../report/index.js";
import type { RunReport } from "../result.js";
import { CONFIG_SELECTIONS, type ConfigSelection } from "../run-config.js";
import type { RunListener } from "../runner.js";
import { loadSpecRequirements, requirementRefs } from "../spec-index.js";
import { defaultHttpVersion } from "../transport.js";
import { SUITE_VERSION } from "../version.js";

/** A server the suite can start in this process when no `--target` is given. */
export interface EmbeddedTarget {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * What a program that embeds an implementation (the `paycode` CLI embeds
 * the reference) lends the commands: without it `run` needs `--target` and
 * there is no `mutants` command.
 */
export interface EmbeddedImplementation {
  /** Shown in messages, e.g. "the reference server". */
  readonly description: string;
  /** Mutants accepted by `--mutant`, each with the rules it breaks. Loaded only when needed. */
  mutants(): Promise<readonly MutantSpec[]>;
  start(options: { mutant?: string; fastPasswords?: boolean }): Promise<EmbeddedTarget>;
}

export interface ConformanceCommandOptions {
  embedded?: EmbeddedImplementation;
  /** How the program is called in messages: "paycode conformance" or "paycode-conformance". */
  invokedAs: string;
}

export interface ConformanceRunOptions {
  target?: string;
  /** Which configs besides the mandatory ones; default "claimed". */
  protocols?: ConfigSelection;
  /** Narrows the optional configs to this protocol (every case runs on it). */
  protocol?: Protocol;
  httpVersion?: HttpVersion;
  /** Hidden alias of --http-version (its name before 0.2). */
  http?: HttpVersion;
  json?: string;
  junit?: string;
  html?: string;
  knownFailing?: string;
  run: string[];
  skip: string[];
  parallel: number;
  strict?: boolean;
  /** Every case on every config, not only the optional-config subset. */
  fullMatrix?: boolean;
  timeout: number;
  verbose?: boolean;
  mutant?: string;
}

function positiveInt(what: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new InvalidArgumentError(`expected ${what}, a positive integer`);
    }
    return Number(value);
  };
}

/** The cases and the runner, loaded when a command runs rather than for `--help`. */
async function loadSuite() {
  const [{ allCases }, { runSuite, selectCases }] = await Promise.all([
    import("../cases/index.js"),
    import("../runner.js"),
  ]);
  return { allCases, runSuite, selectCases };
}

const PROBLEM = TARGET_PROBLEM_EXIT_CODES;

/** The Exit status section of `run --help`; docs/certification.md has the same table. */
export const RUN_EXIT_STATUS = `
Exit status:
  0    no required case (with --strict: no case) failed unexpectedly on any
       config and no known-failing entry is stale
  1    a case failed that counts, or a known-failing entry is stale; this
       includes a protocols/ check of Connect over HTTP/1.1 (binary or JSON)
       that the target does not serve: [RPC-3] makes it mandatory
  ${EXIT_USAGE}    usage error: a bad option or argument (e.g. a --target that is not
       an http:// or https:// URL, an unreadable --known-failing file)
  ${PROBLEM.unreachable}    target unreachable: connection refused, unknown host, or no answer
  ${PROBLEM["not-paycode"]}    not a Paycode server: it answers, but HealthService.Ping fails over
       every protocol
  ${PROBLEM["no-test-control"]}    no test control: Ping answers, ConformanceService.GetCapabilities
       does not (start the target with test control enabled, spec §11)
  ${PROBLEM["wrong-protocol"]}    wrong protocol: Ping fails over the --protocol and --http-version
       you asked for, but answers over another
  130  interrupted (reports still hold every finished case)
With ${PROBLEM.unreachable}-${PROBLEM["wrong-protocol"]} the target is checked before any case: no case runs, no
report is written, and one line on stderr says why.`;

/** `--run a --run b,c` → ["a", "b", "c"]. */
function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/**
 * The `run`, `list` (and, with an embedded implementation, `mutants`)
 * subcommands of the certification suite, added to `conformance`.
 */
export function addConformanceCommands(
  conformance: Command,
  options: ConformanceCommandOptions,
): void {
  const { embedded } = options;
  const run = conformance
    .command("run")
    .description(
      embedded
        ? `run the suite against --target, or against ${embedded.description} when no target is given`
        : "run the suite against --target",
    )
    .option("--target <url>", "base URL of the implementation (with test control enabled)")
    .addOption(
      new Option(
        "--protocols <which>",
        "configs to certify besides the mandatory Connect on HTTP/1.1, binary and JSON, which always run: claimed (every protocol and HTTP version the target answers on), mandatory, or all (default: claimed)",
      ).choices([...CONFIG_SELECTIONS]),
    )
    .addOption(
      new Option(
        "--protocol <protocol>",
        "certify this protocol (every case) besides the mandatory configs, instead of --protocols",
      ).choices(["connect", "grpc", "grpc-web"]),
    )
    .addOption(
      new Option("--http-version <version>", "HTTP version of --protocol (gRPC needs 2)").choices([
        "1.1",
        "2",
      ]),
    )
    // The old name; --http-version is the name the other paycode commands use.
    .addOption(new Option("--http <version>").choices(["1.1", "2"]).hideHelp())
    .option("--json <file>", "write the JSON report (rewritten after every case)")
    .option("--junit <file>", "write a JUnit XML report")
    .option("--html <file>", "write a self-contained HTML report")
    .option("--known-failing <file>", "cases expected to fail: one id or glob per line, # comments")
    .option(
      "--run <glob>",
      "only cases whose id matches (repeatable, comma-separated)",
      collect,
      [],
    )
    .option("--skip <glob>", "leave out cases whose id matches (repeatable)", collect, [])
    .option("--parallel <n>", "cases run at once", positiveInt("a case count"), DEFAULT_PARALLEL)
    .option("--strict", "recommended cases count like required ones")
    .option(
      "--full-matrix",
      "run every case on every config (default: every case on the mandatory configs, a subset on the others)",
    )
    .option("--timeout <ms>", "per-case timeout", positiveInt("milliseconds"), DEFAULT_TIMEOUT_MS)
    .option("--verbose", "print every case, not only failures")
    .addHelpText("after", RUN_EXIT_STATUS)
    .action(async (opts: ConformanceRunOptions) => {
      process.exitCode = await conformanceRun(opts, options);
    });
  if (embedded) {
    run.addOption(
      new Option(
        "--mutant <name>",
        "without --target: run the embedded server with one rule broken",
      ).hideHelp(),
    );
  }

  conformance
    .command("list")
    .description("list the cases: id, severity, needed features and spec requirements")
    .option(
      "--run <glob>",
      "only cases whose id matches (repeatable, comma-separated)",
      collect,
      [],
    )
    .option("--skip <glob>", "leave out cases whose id matches (repeatable)", collect, [])
    .option("--json", "print JSON")
    .action(async (opts: { run: string[]; skip: string[]; json?: boolean }) => {
      const { allCases, selectCases } = await loadSuite();
      const cases = selectCases(allCases, opts.run, opts.skip);
      if (opts.json) {
        const out = cases.map((c) => ({
          id: c.id,
          title: c.title,
          severity: c.severity,
          features: c.features,
          requirements: c.requirements,
        }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const width = Math.max(...cases.map((c) => c.id.length), 10);
      for (const c of cases) {
        const feats = c.features.length ? `  needs ${c.features.join(",")}` : "";
        process.stdout.write(
          `${c.id.padEnd(width)}  ${c.severity.padEnd(11)}  ${c.requirements.join(" ")}${feats}\n`,
        );
      }
      process.stdout.write(`${cases.length} cases (suite ${SUITE_VERSION})\n`);
    });

  if (!embedded) return;
  conformance
    .command("mutants")
    .description(
      "run the suite against the reference server with each mutant (one rule broken) and print the kill matrix",
    )
    .option("--json <file>", "write the matrix as JSON")
    .option("--parallel <n>", "cases run at once per server", positiveInt("a case count"), 8)
    .option("--concurrency <n>", "mutant servers run at once", positiveInt("a server count"), 3)
    .option("--timeout <ms>", "per-case timeout", positiveInt("milliseconds"), 15_000)
    .option(
      "--run <glob>",
      "only cases whose id matches (repeatable, comma-separated)",
      collect,
      [],
    )
    .option("--skip <glob>", "leave out cases whose id matches (repeatable)", collect, [])
    .option("--mutant <name>", "only these mutants (repeatable)", collect, [])
    .option(
      "--named",
      "run each mutant only against the cases naming a requirement it breaks (as the self-test does) instead of every case",
    )
    .addHelpText(
      "after",
      `
Exit status: 0 when every mutant is killed; 1 when one survives; ${EXIT_USAGE} for a
bad command line; 130 when interrupted.`,
    )
    .action(
      async (opts: {
        json?: string;
        parallel: number;
        concurrency: number;
        timeout: number;
        run: string[];
        skip: string[];
        mutant: string[];
        named?: boolean;
      }) => {
        process.exitCode = await conformanceMutants(opts, embedded);
      },
    );
}

/** `conformance run`; returns the exit status. */
export async function conformanceRun(
  opts: ConformanceRunOptions,
  { embedded: implementation, invokedAs }: ConformanceCommandOptions,
): Promise<number> {
  if (opts.http !== undefined && opts.httpVersion !== undefined && opts.http !== opts.httpVersion) {
    throw new UsageError("--http is the old name of --http-version: give one of them");
  }
  const requestedHttp = opts.httpVersion ?? opts.http;
  const explicit = opts.protocol !== undefined || requestedHttp !== undefined;
  const protocol = opts.protocol ?? "connect";
  const httpVersion = requestedHttp ?? defaultHttpVersion(protocol);
  if (protocol === "grpc" && httpVersion !== "2") {
    throw new UsageError("gRPC needs HTTP/2: use --http-version 2");
  }
  if (explicit && opts.protocols !== undefined) {
    throw new UsageError(
      "--protocols and --protocol/--http-version both choose the optional configs: give one of them",
    );
  }
  if (opts.target !== undefined) {
    const invalid = invalidTargetReason(opts.target);
    if (invalid) throw new UsageError(invalid);
  }
  if (opts.mutant !== undefined && opts.target !== undefined) {
    throw new UsageError("--mutant applies only to the embedded server (no --target)");
  }
  const { allCases, runSuite, selectCases } = await loadSuite();
  let knownFailing: KnownFailingEntry[] = [];
  if (opts.knownFailing) {
    try {
      knownFailing = readKnownFailing(opts.knownFailing);
    } catch (e) {
      throw new UsageError(
        `cannot read --known-failing ${opts.knownFailing}: ${(e as Error).message}`,
      );
    }
  }
  if (selectCases(allCases, opts.run, opts.skip).length === 0) {
    throw new UsageError(`--run/--skip select no case (see \`${invokedAs} list\`)`);
  }
  if (opts.target === undefined && implementation === undefined) {
    throw new UsageError("--target is required: the base URL of the issuer to certify");
  }

  let embedded: EmbeddedTarget | undefined;
  let target = opts.target;
  if (opts.mutant !== undefined && implementation !== undefined) {
    const known = (await implementation.mutants()).map((m) => m.name);
    if (!known.includes(opts.mutant)) {
      throw new UsageError(`unknown mutant ${opts.mutant}; known: ${known.join(", ")}`);
    }
  }
  if (target === undefined && implementation !== undefined) {
    embedded = await implementation.start(opts.mutant !== undefined ? { mutant: opts.mutant } : {});
    target = embedded.url;
    process.stderr.write(
      `${invokedAs}: started ${implementation.description} at ${target} (test control on${opts.mutant ? `, MUTANT ${opts.mutant}` : ""})\n`,
    );
  }
  if (target === undefined) throw new UsageError("--target is required");

  const reporters: RunListener[] = [new ConsoleReporter({ verbose: opts.verbose === true })];
  if (opts.json) reporters.push(new JsonFileReporter(opts.json));
  const listener: RunListener = {
    onStart: (i) => {
      for (const r of reporters) r.onStart?.(i);
    },
    onCaseStart: (c) => {
      for (const r of reporters) r.onCaseStart?.(c);
    },
    onCaseEnd: (c, soFar) => {
      for (const r of reporters) r.onCaseEnd?.(c, soFar);
    },
    onEnd: (rep) => {
      for (const r of reporters) r.onEnd?.(rep);
    },
  };

  // First Ctrl-C: stop starting cases, cancel running ones, write the
  // partial reports. Second: leave at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(
      `\n${invokedAs}: interrupted, writing partial reports (Ctrl-C again to quit)\n`,
    );
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  let report: RunReport;
  try {
    report = await runSuite({
      target,
      ...(explicit ? { protocol, httpVersion } : { configs: opts.protocols ?? "claimed" }),
      fullMatrix: opts.fullMatrix === true,
      cases: allCases,
      run: opts.run,
      skip: opts.skip,
      parallel: opts.parallel,
      timeoutMs: opts.timeout,
      strict: opts.strict === true,
      knownFailing,
      signal: interrupt.signal,
      listener,
    });
  } finally {
    process.off("SIGINT", onSigint);
    await embedded?.close();
  }

  // A target that cannot be tested at all: one line, its own exit status, no case, no report.
  if (report.targetProblem) {
    throw new CliError(
      report.targetProblem.message,
      TARGET_PROBLEM_EXIT_CODES[report.targetProblem.kind],
    );
  }
  if (opts.junit) writeAtomic(opts.junit, toJunit(report));
  if (opts.html) {
    // The requirement texts go into the report and its links are absolute,
    // so the file explains itself wherever it is kept.
    const reqs = loadSpecRequirements();
    writeAtomic(opts.html, toHtml(report, reqs ? { requirements: requirementRefs(reqs) } : {}));
    process.stdout.write(`HTML report: ${opts.html}\n`);
  }
  if (report.interrupted) return 130;
  return report.ok ? 0 : 1;
}

/** `conformance mutants`; returns the exit status (1 when a mutant survives). */
export async function conformanceMutants(
  opts: {
    json?: string;
    parallel: number;
    concurrency: number;
    timeout: number;
    run: string[];
    skip?: string[];
    mutant: string[];
    named?: boolean;
  },
  implementation: EmbeddedImplementation,
): Promise<number> {
  const catalogue = await implementation.mutants();
  const known = catalogue.map((m) => m.name);
  const unknown = opts.mutant.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new UsageError(`unknown mutant ${unknown.join(", ")}; known: ${known.join(", ")}`);
  }
  // A mutant of a rule no certification run can observe is proven by the
  // implementation's own test (`provenBy`), not by the suite.
  const mutants =
    opts.mutant.length > 0
      ? catalogue.filter((m) => opts.mutant.includes(m.name))
      : catalogue.filter((m) => m.provenBy === undefined);
  const { allCases, selectCases } = await loadSuite();
  const { formatMatrix, runMutantMatrix } = await import("../mutants.js");
  const cases = selectCases(allCases, opts.run, opts.skip ?? []);
  if (cases.length === 0) {
    throw new UsageError("--run/--skip select no case (see `list`)");
  }
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.on("SIGINT", onSigint);
  try {
    const matrix = await runMutantMatrix({
      cases,
      mutants,
      selection: opts.named ? "named" : "all",
      start: (mutant) =>
        implementation.start({ fastPasswords: true, ...(mutant !== undefined ? { mutant } : {}) }),
      parallel: opts.parallel,
      concurrency: opts.concurrency,
      timeoutMs: opts.timeout,
      signal: interrupt.signal,
      onBaseline: (r) =>
        process.stderr.write(
          `clean reference: ${r.summary.passed} passed, ${r.summary.failed} failed (${(r.durationMs / 1000).toFixed(1)} s)\n`,
        ),
      onMutant: (r, done, total) =>
        process.stderr.write(
          `[${done}/${total}] ${r.mutant}: ${r.error ? `error: ${r.error}` : r.refusedByProbe ? "killed by the probe" : r.survived ? "SURVIVED" : `killed by ${r.killedBy.length}`} (${(r.durationMs / 1000).toFixed(1)} s)\n`,
        ),
    });
    process.stdout.write(formatMatrix(matrix));
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(matrix, null, 2)}\n`);
    if (interrupt.signal.aborted) return 130;
    return matrix.survivors.length === 0 ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
