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
import {
  ALL_CONFIGS,
  type Codec,
  configLabel,
  type RunConfig,
  sameConfig,
  variantLabel,
} from "./run-config.js";

export {
  invalidTargetReason,
  TARGET_PROBLEM_EXIT_CODES,
  type TargetProblem,
  type TargetProblemKind,
} from "./probe-codes.js";

/** How messages name a config: the codec only when it is not the default. */
const label = (c: RunConfig) =>
  c.codec === "json" ? configLabel(c) : variantLabel(c.protocol, c.httpVersion);

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
  /** Transport for the requested config (the run's own). */
  transport: Transport;
  target: string;
  protocol: Protocol;
  httpVersion: HttpVersion;
  /** Codec of `transport`; default binary protobuf. */
  codec?: Codec;
  /** For each probe call; alternative protocols get at most 3 s each. */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * When the requested config was not asked for by the user (a run that
   * certifies whatever the target serves), a target that answers over
   * another config is tested over that one instead of being refused as
   * "wrong protocol": the run then fails the mandatory config's check.
   */
  fallback?: boolean;
}

export type ProbeResult =
  | {
      capabilities: GetCapabilitiesResponse;
      /** Set when the requested config did not answer and `fallback` chose this one. */
      via?: RunConfig;
      /** Why the requested config did not answer, when `via` is set. */
      requestedFailure?: string;
    }
  | { problem: TargetProblem }
  | { interrupted: true };

/**
 * Checks, before any case, that the target is a Paycode server with test
 * control speaking the requested protocol: HealthService.Ping over that
 * protocol, then ConformanceService.GetCapabilities. When Ping fails it
 * finds out why: no TCP connection (unreachable), Ping answering over
 * another protocol (wrong protocol, or with `fallback` the config to test
 * over), or over none (not a Paycode server).
 */
export async function probeTarget(o: ProbeOptions): Promise<ProbeResult> {
  const requestedConfig: RunConfig = {
    protocol: o.protocol,
    httpVersion: o.httpVersion,
    codec: o.codec ?? "proto",
  };
  const requested = label(requestedConfig);
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
  let control = o.transport;
  let via: RunConfig | undefined;
  let requestedFailure: string | undefined;
  let closeVia: (() => void) | undefined;
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
    for (const v of ALL_CONFIGS) {
      if (sameConfig(v, requestedConfig)) continue;
      if (o.signal?.aborted) return { interrupted: true };
      if (v.httpVersion === "2" && (await http2()) !== "yes") continue;
      const pt = createPaycodeTransport({ baseUrl: o.target, ...v });
      let keep = false;
      try {
        if (answered(await ping(pt.transport, Math.min(o.timeoutMs, 3_000)))) {
          if (!o.fallback) {
            return problem(
              "wrong-protocol",
              `${o.target} does not speak ${requested} (HealthService.Ping: ${failure}) but answers over ${label(v)}: use --protocol ${v.protocol} --http-version ${v.httpVersion}, or serve ${requested}`,
            );
          }
          keep = true;
          control = pt.transport;
          closeVia = () => pt.close();
          via = v;
          requestedFailure = failure;
          break;
        }
      } finally {
        if (!keep) pt.close();
      }
    }
    if (!via) {
      return problem(
        "not-paycode",
        `${o.target} is not a Paycode server: it accepts connections but HealthService.Ping fails (${failure}); check the URL (the base URL, without a path to a service)`,
      );
    }
  }

  try {
    const caps = await attempt(
      (signal) => createClient(ConformanceService, control).getCapabilities({}, { signal }),
      o.timeoutMs,
      o.signal,
    );
    if (caps.ok) {
      return via
        ? { capabilities: caps.value, via, requestedFailure: requestedFailure ?? "" }
        : { capabilities: caps.value };
    }
    if (caps.interrupted) return { interrupted: true };
    const why = caps.timedOut ? `no answer within ${o.timeoutMs} ms` : describe(caps.error);
    return problem(
      "no-test-control",
      `${o.target} is a Paycode server without test control: ConformanceService.GetCapabilities failed (${why}); run it with test control enabled (spec §11; the reference: paycode serve --enable-test-control)`,
    );
  } finally {
    closeVia?.();
  }
}

/**
 * Whether the target answers HealthService.Ping over `config` (used, once
 * the target is known to be a Paycode server, to find the configs it
 * serves); the failure when not.
 */
export async function servesConfig(
  target: string,
  config: RunConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ served: true } | { served: false; why: string } | { interrupted: true }> {
  const url = new URL(target);
  if (config.httpVersion === "2") {
    const h2 = await speaksHttp2(url, timeoutMs);
    if (h2 !== "yes") {
      return {
        served: false,
        why:
          h2 === "timeout"
            ? `no HTTP/2 answer within ${timeoutMs} ms`
            : "no HTTP/2 from the target",
      };
    }
  }
  const pt = createPaycodeTransport({ baseUrl: target, ...config });
  try {
    const r = await attempt(
      (s) => createClient(HealthService, pt.transport).ping({}, { signal: s }),
      timeoutMs,
      signal,
    );
    if (r.ok || DELIBERATE.has(r.error.code)) return { served: true };
    if (r.interrupted) return { interrupted: true };
    return {
      served: false,
      why: r.timedOut
        ? `no answer to HealthService.Ping within ${timeoutMs} ms`
        : `HealthService.Ping: ${describe(r.error)}`,
    };
  } finally {
    pt.close();
  }
}

function problem(kind: TargetProblemKind, message: string): { problem: TargetProblem } {
  return { problem: { kind, message } };
}
