import { connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  ConformanceService,
  type GetCapabilitiesResponse,
  HealthService,
} from "@paycode/protocol/v1";
import { createPaycodeTransport } from "@paycode/sdk";
import type { HttpVersion, Protocol } from "./case.js";
import type { TargetProblem, TargetProblemKind } from "./probe-codes.js";

export {
  invalidTargetReason,
  TARGET_PROBLEM_EXIT_CODES,
  type TargetProblem,
  type TargetProblemKind,
} from "./probe-codes.js";

const LABEL: Record<Protocol, string> = {
  connect: "Connect",
  grpc: "gRPC",
  "grpc-web": "gRPC-Web",
};
const label = (p: Protocol, h: HttpVersion) => `${LABEL[p]} over HTTP/${h}`;

/** Every protocol/HTTP version pair the suite speaks, most common first. */
const VARIANTS: readonly { protocol: Protocol; httpVersion: HttpVersion }[] = [
  { protocol: "connect", httpVersion: "1.1" },
  { protocol: "grpc-web", httpVersion: "1.1" },
  { protocol: "connect", httpVersion: "2" },
  { protocol: "grpc-web", httpVersion: "2" },
  { protocol: "grpc", httpVersion: "2" },
];

/**
 * Codes only a server speaking the protocol sends deliberately. Garbage,
 * a 404 or a broken connection come out as internal, unknown,
 * unimplemented or unavailable; an answer like unauthenticated means a
 * Paycode server that got Ping wrong, which is for the cases to report.
 */
const DELIBERATE = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.ResourceExhausted,
  Code.FailedPrecondition,
  Code.Aborted,
  Code.OutOfRange,
  Code.Unauthenticated,
]);

type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: ConnectError; timedOut: boolean; interrupted: boolean };

async function attempt<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  interrupt: AbortSignal | undefined,
): Promise<Outcome<T>> {
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const stop = () => ac.abort();
  interrupt?.addEventListener("abort", stop, { once: true });
  try {
    return { ok: true, value: await fn(ac.signal) };
  } catch (e) {
    return {
      ok: false,
      error: ConnectError.from(e),
      timedOut,
      interrupted: interrupt?.aborted ?? false,
    };
  } finally {
    clearTimeout(timer);
    interrupt?.removeEventListener("abort", stop);
  }
}

const answered = (o: Outcome<unknown>) => o.ok || DELIBERATE.has(o.error.code);

/** "[unimplemented] HTTP 404" → the error as one short line. */
function describe(e: ConnectError): string {
  const code = Code[e.code]?.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase());
  return `[${code ?? e.code}] ${e.rawMessage}`.replace(/\s*\n\s*/g, " ").trim();
}

/** Whether anything accepts a TCP connection at the URL's host and port; the failure if not. */
function tcpReach(url: URL, timeoutMs: number): Promise<string | undefined> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(
      () => done(`no connection to ${host}:${port} within ${timeoutMs} ms`),
      timeoutMs,
    );
    socket.once("connect", () => done(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNREFUSED") done(`connection refused by ${host}:${port}`);
      else if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN")
        done(`cannot resolve host ${host}`);
      else done(`cannot connect to ${host}:${port}: ${e.code ?? e.message}`);
    });
  });
}

/**
 * Whether the server speaks HTTP/2 (h2c, or h2 by ALPN): a SETTINGS frame
 * comes back. Checked with our own session before any HTTP/2 RPC, because
 * a session to a server that answers HTTP/1 fails in a way the RPC
 * library does not always catch.
 */
function speaksHttp2(url: URL, timeoutMs: number): Promise<"yes" | "no" | "timeout"> {
  return new Promise((resolve) => {
    let settled = false;
    const session = http2Connect(url.origin);
    const done = (answer: "yes" | "no" | "timeout") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    session.on("error", () => done("no"));
    session.once("remoteSettings", () => done("yes"));
    session.once("close", () => done("no"));
  });
}

export interface ProbeOptions {
  /** Transport for the requested protocol and HTTP version (the run's own). */
  transport: Transport;
  target: string;
  protocol: Protocol;
  httpVersion: HttpVersion;
  /** For each probe call; alternative protocols get at most 3 s each. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export type ProbeResult =
  | { capabilities: GetCapabilitiesResponse }
  | { problem: TargetProblem }
  | { interrupted: true };

/**
 * Checks, before any case, that the target is a Paycode server with test
 * control speaking the requested protocol: HealthService.Ping over that
 * protocol, then ConformanceService.GetCapabilities. When Ping fails it
 * finds out why: no TCP connection (unreachable), Ping answering over
 * another protocol (wrong protocol), or over none (not a Paycode server).
 */
export async function probeTarget(o: ProbeOptions): Promise<ProbeResult> {
  const requested = label(o.protocol, o.httpVersion);
  const ping = (transport: Transport, timeoutMs: number) =>
    attempt(
      (signal) => createClient(HealthService, transport).ping({}, { signal }),
      timeoutMs,
      o.signal,
    );
  let h2: Promise<"yes" | "no" | "timeout"> | undefined;
  const http2 = () => {
    h2 ??= speaksHttp2(new URL(o.target), Math.min(o.timeoutMs, 10_000));
    return h2;
  };
  let first: Outcome<unknown>;
  const requestedH2 = o.httpVersion === "2" ? await http2() : "yes";
  if (requestedH2 === "yes") first = await ping(o.transport, o.timeoutMs);
  else {
    first = {
      ok: false,
      error: new ConnectError("no HTTP/2 from the target", Code.Unavailable),
      timedOut: requestedH2 === "timeout",
      interrupted: o.signal?.aborted ?? false,
    };
  }
  if (!first.ok && first.interrupted) return { interrupted: true };
  if (!answered(first)) {
    const failure = first.ok ? "" : describe(first.error);
    if (!first.ok && first.timedOut) {
      return problem(
        "unreachable",
        `${o.target} is unreachable: no answer to HealthService.Ping over ${requested} within ${o.timeoutMs} ms`,
      );
    }
    const unreachable = await tcpReach(new URL(o.target), Math.min(o.timeoutMs, 10_000));
    if (unreachable) return problem("unreachable", `${o.target} is unreachable: ${unreachable}`);
    for (const v of VARIANTS) {
      if (v.protocol === o.protocol && v.httpVersion === o.httpVersion) continue;
      if (o.signal?.aborted) return { interrupted: true };
      if (v.httpVersion === "2" && (await http2()) !== "yes") continue;
      const pt = createPaycodeTransport({ baseUrl: o.target, ...v });
      try {
        if (answered(await ping(pt.transport, Math.min(o.timeoutMs, 3_000)))) {
          return problem(
            "wrong-protocol",
            `${o.target} does not speak ${requested} (HealthService.Ping: ${failure}) but answers over ${label(v.protocol, v.httpVersion)}: use --protocol ${v.protocol} --http-version ${v.httpVersion}, or serve ${requested}`,
          );
        }
      } finally {
        pt.close();
      }
    }
    return problem(
      "not-paycode",
      `${o.target} is not a Paycode server: it accepts connections but HealthService.Ping fails (${failure}); check the URL (the base URL, without a path to a service)`,
    );
  }

  const caps = await attempt(
    (signal) => createClient(ConformanceService, o.transport).getCapabilities({}, { signal }),
    o.timeoutMs,
    o.signal,
  );
  if (caps.ok) return { capabilities: caps.value };
  if (caps.interrupted) return { interrupted: true };
  const why = caps.timedOut ? `no answer within ${o.timeoutMs} ms` : describe(caps.error);
  return problem(
    "no-test-control",
    `${o.target} is a Paycode server without test control: ConformanceService.GetCapabilities failed (${why}); run it with test control enabled (spec §11; the reference: paycode serve --enable-test-control)`,
  );
}

function problem(kind: TargetProblemKind, message: string): { problem: TargetProblem } {
  return { problem: { kind, message } };
}
