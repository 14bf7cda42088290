import { readFileSync } from "node:fs";
import { configureErrorOutput } from "@paycode/sdk/cli";
import { Command } from "commander";

/** A subcommand: its help line, and the module that defines it in full. */
interface CommandEntry {
  readonly name: string;
  /** The same text the command's own module gives `.description()` (a test checks it). */
  readonly summary: string;
  load(): Promise<(program: Command) => void>;
}

/**
 * The subcommands, in help order. Each lives in `./commands/<name>.ts` and
 * exports `register<Name>(program: Command)`. Only the command being run is
 * loaded: the others pull in the server, the SDK or the suite, and `--help`
 * must answer in well under half a second.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "serve",
    summary: "run the reference Paycode server (Connect, gRPC and gRPC-Web on one port)",
    load: async () => (await import("./commands/serve.js")).registerServe,
  },
  {
    name: "demo",
    summary:
      "a guided tour in a few seconds: embedded server, wallet, scans, step-up, offline terminal, report",
    load: async () => (await import("./commands/demo.js")).registerDemo,
  },
  {
    name: "admin",
    summary:
      "test control: create accounts, merchants and terminals, read balances (needs serve --enable-test-control)",
    load: async () => (await import("./commands/admin.js")).registerAdmin,
  },
  {
    name: "account",
    summary: "operator actions on the store: list accounts locked by wrong passwords, unlock one",
    load: async () => (await import("./commands/account.js")).registerAccount,
  },
  {
    name: "wallet",
    summary: "a phone wallet: provision online, then make payment codes offline",
    load: async () => (await import("./commands/wallet.js")).registerWallet,
  },
  {
    name: "scan",
    summary:
      "charge a scanned payment code; waits for the payer's confirmation when needed and cancels on timeout",
    load: async () => (await import("./commands/scan.js")).registerScan,
  },
  {
    name: "payment",
    summary: "a merchant's payments: look one up, cancel it, or refund it",
    load: async () => (await import("./commands/payment.js")).registerPayment,
  },
  {
    name: "terminal",
    summary:
      "an offline terminal: sync keys online, accept signed offline codes offline, upload later",
    load: async () => (await import("./commands/terminal.js")).registerTerminal,
  },
  {
    name: "report",
    summary: "settlement report of the merchant for one UTC day",
    load: async () => (await import("./commands/report.js")).registerReport,
  },
  {
    name: "audit",
    summary: "query the security audit log a server keeps in its store (JSON lines)",
    load: async () => (await import("./commands/audit.js")).registerAudit,
  },
  {
    name: "prune",
    summary: "delete junk Scan declines (CODE_INVALID, CODE_MALFORMED) past their retention",
    load: async () => (await import("./commands/prune.js")).registerPrune,
  },
  {
    name: "credential",
    summary:
      "operator: issue, rotate, revoke and list merchant and terminal API keys (works on the store)",
    load: async () => (await import("./commands/credential.js")).registerCredential,
  },
  {
    name: "issuer-key",
    summary:
      "operator: list the issuer signing keys, or publish the next one ahead of signing with it",
    load: async () => (await import("./commands/operator-keys.js")).registerIssuerKey,
  },
  {
    name: "code-key",
    summary: "operator: rotate K_code (the online code key) with a transition, or show its version",
    load: async () => (await import("./commands/operator-keys.js")).registerCodeKey,
  },
  {
    name: "master-key",
    summary: "operator: make a new master key file, or re-seal every secret under a new master key",
    load: async () => (await import("./commands/operator-keys.js")).registerMasterKey,
  },
  {
    name: "conformance",
    summary: "certify a Paycode issuer implementation against the conformance suite",
    load: async () => (await import("./commands/conformance.js")).registerConformance,
  },
  {
    name: "bench",
    summary:
      "benchmarks: codec micro-benchmarks and Scan load against floors measured in the same run",
    load: async () => (await import("./commands/bench.js")).registerBench,
  },
];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The subcommand `argv` (as process.argv: node, script, args...) asks for, if any. */
function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * The `paycode` program. With `argv`, only the command it names is defined
 * in full and the others appear in help by name and summary; without, every
 * command is loaded (for tests and tools that walk the whole tree).
 */
export async function createProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command("paycode")
    .description("Paycode: offline payment codes — reference server, clients and conformance suite")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true);
  // Before any subcommand exists, so that they all inherit it.
  configureErrorOutput(program);
  const wanted = argv === undefined ? undefined : requestedCommand(argv);
  for (const entry of COMMANDS) {
    if (argv === undefined || entry.name === wanted) (await entry.load())(program);
    else program.command(entry.name).description(entry.summary);
  }
  return program;
}
