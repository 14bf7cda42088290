// Options and error handling shared by the client-side commands (wallet, scan, terminal, report).

import {
  createPaycodeTransport,
  type PaycodeHttpVersion,
  type PaycodeProtocol,
  type PaycodeTransport,
} from "@paycode/sdk";
import { reportCliError, UsageError } from "@paycode/sdk/cli";
import { type Command, InvalidArgumentError, Option } from "commander";

export interface ServerOptions {
  server?: string;
  protocol: PaycodeProtocol;
  httpVersion?: PaycodeHttpVersion;
  timeout: number;
}

export const EXIT_CODES_HELP = `
Exit status:
  0  the request completed; a declined payment or a refused code is a
     business result, printed clearly, and still exits 0
  1  the command failed: authentication, network, a server that breaks the
     protocol, ... (one line on stderr)
  2  the command line is wrong: unknown option, bad amount, ...`;

/** --server/--protocol/--http-version/--timeout. `required` makes --server mandatory. */
export function addServerOptions(cmd: Command, required = true): Command {
  const server = new Option("--server <url>", "server base URL, e.g. http://127.0.0.1:8080").env(
    "PAYCODE_SERVER",
  );
  if (required) server.makeOptionMandatory();
  return cmd
    .addOption(server)
    .addOption(
      new Option("--protocol <protocol>", "wire protocol")
        .choices(["connect", "grpc", "grpc-web"])
        .default("connect"),
    )
    .addOption(
      new Option("--http-version <version>", "HTTP version (gRPC needs 2)").choices(["1.1", "2"]),
    )
    .addOption(
      new Option("--timeout <ms>", "deadline of each call in ms")
        .default(10_000)
        .argParser(positiveInt("--timeout")),
    );
}

/** --api-key, also from PAYCODE_API_KEY. */
export function addApiKeyOption(cmd: Command, what = "merchant"): Command {
  return cmd.addOption(
    new Option("--api-key <key>", `${what} API key`).env("PAYCODE_API_KEY").makeOptionMandatory(),
  );
}

export function openTransport(
  opts: ServerOptions,
  bearer?: string,
  server?: string,
): PaycodeTransport {
  const baseUrl = server ?? opts.server;
  if (!baseUrl) throw new UsageError("no server: pass --server URL or set PAYCODE_SERVER");
  return createPaycodeTransport({
    baseUrl,
    protocol: opts.protocol,
    ...(opts.httpVersion !== undefined ? { httpVersion: opts.httpVersion } : {}),
    ...(bearer !== undefined ? { bearer } : {}),
    timeoutMs: opts.timeout,
  });
}

/**
 * Runs a command body: any error becomes one line on stderr and a non-zero
 * exit status (as `paycode` reports every error), never a stack trace.
 */
export function run<A extends unknown[]>(
  body: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (err) {
      process.exitCode = await reportCliError(err);
    }
  };
}

export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${name} must be a positive integer.`);
    }
    return Number(value);
  };
}

/** All of stdin as text, without the final line break. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError("expected input on stdin (pipe it in)");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** --json and --print, for commands whose output scripts capture. */
export interface OutputOptions {
  json?: boolean;
  print?: string[];
}

/**
 * Adds `--json` and `--print <fields>`: `--print id,api-key` prints just
 * those values, space-separated on one line, for `VAR=$(paycode …)` and
 * `read -r A B <<<"$(paycode …)"` without jq.
 */
export function addOutputOptions(cmd: Command, fields: readonly string[]): Command {
  return cmd.option("--json", "print the result as JSON").addOption(
    new Option("--print <fields>", `print only these values, space-separated: ${fields.join(",")}`)
      .conflicts("json")
      .argParser((value: string) => {
        const wanted = value.split(",").map((f) => f.trim());
        for (const f of wanted) {
          if (!fields.includes(f)) {
            throw new InvalidArgumentError(`unknown field "${f}"; known: ${fields.join(", ")}`);
          }
        }
        return wanted;
      }),
  );
}

/**
 * Prints a result as the options ask: the chosen `values` (--print), the
 * `json` value (--json), or the human-readable `lines`.
 */
export function emit(
  opts: OutputOptions,
  out: { values: Record<string, string>; json: unknown; lines: () => string[] },
): void {
  if (opts.print !== undefined) {
    console.log(opts.print.map((f) => out.values[f] ?? "").join(" "));
  } else if (opts.json) {
    console.log(toJson(out.json));
  } else {
    for (const line of out.lines()) console.log(line);
  }
}

/** Money as JSON: minor units as a decimal string, as protobuf JSON writes int64. */
export function moneyJson(m: { currency: string; amountMinor: bigint } | undefined) {
  return m === undefined ? null : { currency: m.currency, amountMinor: m.amountMinor.toString() };
}
