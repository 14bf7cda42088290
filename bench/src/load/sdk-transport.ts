import {
  create,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  toBinary,
} from "@bufbuild/protobuf";
import {
  ConformanceService,
  HealthService,
  MerchantService,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import {
  createPaycodeTransport,
  type PaycodeHttpVersion,
  type PaycodeProtocol,
  type PaycodeTransport,
} from "@paycode/sdk";
import { methodPath } from "./connect-unary.js";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

// biome-ignore lint/suspicious/noExplicitAny: a table of every unary method of the API
type AnyUnary = DescMethodUnary<any, any>;

const SERVICES: DescService[] = [
  HealthService,
  MerchantService,
  SettlementService,
  WalletService,
  ConformanceService,
];

const METHODS = new Map<string, AnyUnary>();
for (const s of SERVICES) {
  for (const m of s.methods)
    if (m.methodKind === "unary") METHODS.set(methodPath(m), m as AnyUnary);
}

// Connect error codes by number (connect-es `Code`), as a Connect JSON error names them.
const CODE_NAMES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

interface SdkEndpoint extends Endpoint {
  readonly method: AnyUnary;
}

export interface SdkTransportOptions {
  baseUrl: string;
  protocol: PaycodeProtocol;
  httpVersion: PaycodeHttpVersion;
  /** HTTP/2: one session per connection, calls spread round-robin. HTTP/1.1: one keep-alive pool. */
  connections: number;
  ca?: string | Buffer;
}

/**
 * The bench's raw-bytes interface over @paycode/sdk's createPaycodeTransport
 * (connect-es on node:http / node:http2, TLS): any protocol (Connect, gRPC,
 * gRPC-Web), any HTTP version. Each call decodes the prepared request bytes
 * into a message and re-encodes the answer, so this client costs more CPU
 * per call than the raw h2c one; the report says which client drove the load.
 * A failed call comes back as a Connect JSON error, like the other clients.
 */
export class SdkTransport implements UnaryTransport {
  readonly description: string;
  private readonly pool: PaycodeTransport[] = [];
  private next = 0;

  constructor(o: SdkTransportOptions) {
    const n = o.httpVersion === "2" ? o.connections : 1;
    for (let i = 0; i < n; i++) {
      this.pool.push(
        createPaycodeTransport({
          baseUrl: o.baseUrl,
          protocol: o.protocol,
          httpVersion: o.httpVersion,
          timeoutMs: 30_000,
          ...(o.ca !== undefined ? { ca: o.ca } : {}),
        }),
      );
    }
    const tls = o.baseUrl.startsWith("https:") ? "TLS" : "cleartext";
    this.description =
      `@paycode/sdk (connect-es on node:http${o.httpVersion === "2" ? "2" : ""}), ` +
      `${o.protocol} over HTTP/${o.httpVersion} ${tls}, ` +
      (o.httpVersion === "2" ? `${n} connection(s)` : "keep-alive pool") +
      ", binary protobuf";
  }

  async connect(): Promise<void> {
    // connect-es opens connections on the first call; warm every one with a Ping.
    const ping = METHODS.get(methodPath(HealthService.method.ping))!;
    await Promise.all(
      this.pool.map((p) =>
        p.transport.unary(ping, undefined, undefined, undefined, create(ping.input, {})),
      ),
    );
  }

  prepare(path: string, headers?: Record<string, string>): SdkEndpoint {
    const method = METHODS.get(path);
    if (!method) throw new Error(`no unary method at ${path}`);
    return { path, headers: headers ?? {}, method };
  }

  async send(endpoint: Endpoint, body: Uint8Array): Promise<RawResponse> {
    const method = (endpoint as SdkEndpoint).method ?? this.prepare(endpoint.path).method;
    const t = this.pool[this.next++ % this.pool.length]!.transport;
    try {
      const input = fromBinary(method.input, body);
      const res = await t.unary(method, undefined, undefined, endpoint.headers, input);
      return { status: 200, body: Buffer.from(toBinary(method.output, res.message)) };
    } catch (e) {
      const err = e as { name?: string; code?: number; rawMessage?: string; message?: string };
      if (err.name !== "ConnectError" || typeof err.code !== "number") throw e;
      const code = CODE_NAMES[err.code] ?? "unknown";
      // Connect's own errors for transport failures are still answers here,
      // labelled by code (unavailable, deadline_exceeded...).
      const json = JSON.stringify({ code, message: err.rawMessage ?? err.message ?? "" });
      return { status: 599, body: Buffer.from(json) };
    }
  }

  async close(): Promise<void> {
    for (const p of this.pool) p.close();
    this.pool.length = 0;
  }
}
