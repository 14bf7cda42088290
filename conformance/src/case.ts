import type { Client } from "@connectrpc/connect";
import type {
  ConformanceService,
  GetCapabilitiesResponse,
  IssuerProfile,
} from "@paycode/protocol/v1";
import type { Expect } from "./expect.js";
import type { Fixtures } from "./fixtures/fixtures.js";
import type { RawClients } from "./rpc.js";
import type { Codec } from "./run-config.js";
import type { TargetClock } from "./target-clock.js";

/** How much a case weighs: required cases certify; recommended ones count only with `--strict`. */
export type Severity = "required" | "recommended";

/** Wire protocol the harness speaks to the target. */
export type Protocol = "connect" | "grpc" | "grpc-web";

/** HTTP version the harness uses. gRPC needs HTTP/2. */
export type HttpVersion = "1.1" | "2";

/**
 * Optional features a target may claim in GetCapabilities. A case that needs
 * an unclaimed feature is skipped, and the report says which.
 */
export type Feature =
  | "controllable-clock"
  | "settable-clock"
  | "refunds"
  | "offline-settlement"
  | "settlement-report"
  | "key-rotation"
  | (string & {});

/** What a case gets to drive the target. Everything goes over RPC. */
export interface CaseContext {
  /** Base URL of the target. */
  readonly target: string;
  readonly protocol: Protocol;
  readonly httpVersion: HttpVersion;
  /** The codec of every RPC the case makes (cases must not depend on it). */
  readonly codec: Codec;
  /** Aborted when the case times out or the run is interrupted; every RPC carries it. */
  readonly signal: AbortSignal;
  /** What the target claimed (features, profile, clock) at the start of the run. */
  readonly capabilities: GetCapabilitiesResponse;
  /** The issuer profile the target claimed. */
  readonly profile: IssuerProfile;
  /**
   * The issuer's clock as seen over RPC; moving it needs "controllable-clock",
   * setting and freezing it "settable-clock".
   */
  readonly clock: TargetClock;
  /** Fresh accounts, merchants, terminals and wallets, private to this case. */
  readonly fixtures: Fixtures;
  /** Test control of the target. */
  readonly control: Client<typeof ConformanceService>;
  /** Clients with arbitrary (or no) credentials, for authentication cases. */
  readonly raw: RawClients;
  /** Assertions that fail the case with an expected-versus-actual message. */
  readonly expect: Expect;
  /** Adds a line to the case's notes (shown in reports for failed cases). */
  log(message: string): void;
  /** Registers cleanup that runs when the case ends, however it ends. */
  defer(cleanup: () => void | Promise<void>): void;
}

/** One conformance case. */
export interface Case {
  /** Stable identifier `family/name`, kebab-case. */
  readonly id: string;
  /** One line saying what the target must do. */
  readonly title: string;
  /** Requirement IDs of spec/paycode.md that the case checks, e.g. "SCAN-3". */
  readonly requirements: readonly string[];
  readonly severity: Severity;
  /** Optional features the case needs; empty when it needs none. */
  readonly features: readonly Feature[];
  /** Overrides the run's per-case timeout. */
  readonly timeoutMs?: number;
  /**
   * Runs the case alone. Cases that move the target's clock set it, so no
   * other case sees time jump under its feet.
   */
  readonly exclusive?: boolean;
  run(ctx: CaseContext): Promise<void>;
}

/** Declares a case; fills defaults and rejects a malformed id early. */
export function defineCase(
  c: Omit<Case, "features" | "severity"> & { features?: readonly Feature[]; severity?: Severity },
): Case {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(c.id)) throw new Error(`bad case id ${c.id}`);
  if (c.requirements.length === 0) throw new Error(`case ${c.id} names no requirement`);
  const features = c.features ?? [];
  return {
    ...c,
    severity: c.severity ?? "required",
    features,
    exclusive:
      c.exclusive ??
      (features.includes("controllable-clock") || features.includes("settable-clock")),
  };
}
