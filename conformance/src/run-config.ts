import type { HttpVersion, Protocol } from "./case.js";

/** Message encoding on the wire: binary protobuf or JSON. */
export type Codec = "proto" | "json";

/**
 * One way of talking to the target: wire protocol, HTTP version and codec.
 * A run is a list of them (a matrix, as in connectrpc/conformance); every
 * case is independent of the config it runs on.
 */
export interface RunConfig {
  readonly protocol: Protocol;
  readonly httpVersion: HttpVersion;
  readonly codec: Codec;
}

/**
 * Which configs a run exercises besides the mandatory ones:
 * - "mandatory": only Connect on HTTP/1.1, binary and JSON ([RPC-3]);
 * - "claimed": also every other config the target answers on ([RPC-4]);
 * - "all": also every other config, served or not (an unserved one fails
 *   its recommended `protocols/…` check).
 */
export type ConfigSelection = "mandatory" | "claimed" | "all";

export const CONFIG_SELECTIONS: readonly ConfigSelection[] = ["claimed", "mandatory", "all"];

/** The name of a config in reports and known-failing lists, e.g. "connect-http1.1-json". */
export function configName(c: RunConfig): string {
  return `${c.protocol}-http${c.httpVersion}-${c.codec}`;
}

const PROTOCOL_LABEL: Record<Protocol, string> = {
  connect: "Connect",
  grpc: "gRPC",
  "grpc-web": "gRPC-Web",
};

/** "Connect over HTTP/1.1" — the protocol and HTTP version, as messages name them. */
export function variantLabel(p: Protocol, h: HttpVersion): string {
  return `${PROTOCOL_LABEL[p]} over HTTP/${h}`;
}

/** "Connect over HTTP/1.1, JSON codec" — for people. */
export function configLabel(c: RunConfig): string {
  return `${variantLabel(c.protocol, c.httpVersion)}, ${c.codec === "json" ? "JSON" : "binary protobuf"} codec`;
}

/** What every run exercises, whatever it is asked ([RPC-3]): Connect, HTTP/1.1, both codecs. */
export const MANDATORY_CONFIGS: readonly RunConfig[] = [
  { protocol: "connect", httpVersion: "1.1", codec: "proto" },
  { protocol: "connect", httpVersion: "1.1", codec: "json" },
];

/**
 * The config the harness probes the target and drives its clock over when
 * the target serves it; the mutant matrix runs on it alone.
 */
export const PRIMARY_CONFIG: RunConfig = MANDATORY_CONFIGS[0]!;

/**
 * The configs [RPC-4] recommends, in the order a run takes them. Only the
 * mandatory configs vary the codec: the spec requires JSON over Connect
 * only, and gRPC and gRPC-Web are binary protobuf in practice.
 */
export const OPTIONAL_CONFIGS: readonly RunConfig[] = [
  { protocol: "connect", httpVersion: "2", codec: "proto" },
  { protocol: "grpc-web", httpVersion: "1.1", codec: "proto" },
  { protocol: "grpc-web", httpVersion: "2", codec: "proto" },
  { protocol: "grpc", httpVersion: "2", codec: "proto" },
];

export const ALL_CONFIGS: readonly RunConfig[] = [...MANDATORY_CONFIGS, ...OPTIONAL_CONFIGS];

export function isMandatory(c: RunConfig): boolean {
  return MANDATORY_CONFIGS.some((m) => sameConfig(m, c));
}

export function sameConfig(a: RunConfig, b: RunConfig): boolean {
  return a.protocol === b.protocol && a.httpVersion === b.httpVersion && a.codec === b.codec;
}

/**
 * Cases that run on the optional configs (the mandatory ones run every
 * case): one or two per family, picked for what a protocol can get wrong —
 * error codes and their mapping, declines as results, 64-bit amounts,
 * bytes, timestamps, credentials in headers, and every service. A run with
 * `fullMatrix` runs every case on every config instead.
 */
export const OPTIONAL_CONFIG_CASES: readonly string[] = [
  "auth-isolation/ping-needs-no-credential",
  "auth-isolation/scan-wrong-key",
  "cancel-refund/partial-refund",
  "double-offline/settles-once",
  "expired-code/wrong-prefix",
  "idempotency/scan-retry-same-payment",
  "malformed-input/scan-bad-amount",
  "offline-wallet/code-pays",
  "over-limit/confirm-succeeds",
  "reused-code/second-scan-declined",
  "settlement-report/counts-online-payments",
  "terminal/accept-journal-upload-settle",
  "test-control/capabilities",
];
