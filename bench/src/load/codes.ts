import { create, toBinary } from "@bufbuild/protobuf";
import { CODES_PER_STEP, OnlineCodec, STEP_SECONDS, stepOf } from "@paycode/protocol";
import { ScanRequestSchema } from "@paycode/protocol/v1";

/** What the load generator needs of one wallet to make its online codes. */
export interface WalletSecret {
  handle: number;
  seed: Uint8Array;
  /** Steps ≤ this were used by an earlier run (a reused wallet): skipped. */
  usedThroughStep?: number;
}

export interface CodeProfile {
  prefix: number;
  codeKey: Uint8Array;
  windowBackSteps: number;
  windowAheadSteps: number;
  lookbackSteps: number;
}

/**
 * Wallets needed for `rate` scans/s over `seconds`.
 *
 * A code made for step S is accepted while the verifier is in steps
 * S−F … S+B, so a wallet has B+F+1 steps × 8 codes usable at any moment,
 * and one step's 8 expire every 60 s. A phase that starts just before a
 * step boundary can count on B+F steps for its first minute; after that it
 * needs 8 fresh codes per wallet per minute to keep up: rate × 60 / 8
 * wallets. 10% margin on top.
 */
export function walletsNeeded(rate: number, seconds: number, profile: CodeProfile): number {
  const b = profile.windowBackSteps;
  const f = profile.windowAheadSteps;
  const firstMinute =
    (rate * Math.min(seconds, STEP_SECONDS)) / (CODES_PER_STEP * Math.max(1, b + f));
  const sustained = seconds > STEP_SECONDS ? (rate * STEP_SECONDS) / CODES_PER_STEP : 0;
  return Math.max(1, Math.ceil(1.1 * Math.max(firstMinute, sustained)));
}

/** One pre-serialized ScanRequest and the step its code belongs to. */
export interface PreparedScan {
  step: number;
  body: Uint8Array;
}

export interface PrepareScansOptions {
  /** Wallets to spread the codes over (all of them are used when the budget allows). */
  wallets: WalletSecret[];
  profile: CodeProfile;
  /** Issuer clock now, Unix ms (client clock + measured offset). */
  serverNowMs: number;
  /** How long the scan phase will last, warm-up included, seconds. */
  phaseSeconds: number;
  /** Scans per second to budget for. */
  rate: number;
  currency: string;
  amountMinor: bigint;
  /** Unique per run so out_trade_no never collides with an earlier run. */
  runTag: string;
}

/** Seconds the phase may start after the codes are made (set-up slack). */
const START_SLACK_S = 5;

/**
 * The Scan requests of one phase, each serialized up front (code made,
 * request encoded) so the timed loop does no crypto and no protobuf
 * encoding. Sorted by step, earliest-expiring first, so the sender uses
 * codes before they lapse.
 *
 * Step S's codes are accepted from the start of step S−F to the end of step
 * S+B. For each step the tool makes at most what the budgeted rate can use
 * while the step is accepted during the phase (+20%), and never more than
 * the wallets allow (8 each). Within a step codes go counter-major across
 * the wallets: counter 0 of every wallet first. With a large wallet
 * population nearly every scan comes from a different wallet, as in real
 * traffic; with a small one every wallet is used many times.
 */
export function prepareScans(o: PrepareScansOptions): PreparedScan[] {
  const codec = new OnlineCodec({ ...o.profile });
  const b = o.profile.windowBackSteps;
  const f = o.profile.windowAheadSteps;
  const t0 = o.serverNowMs / 1000;
  const t1 = t0 + o.phaseSeconds + START_SLACK_S;
  const first = Math.max(0, stepOf(Math.floor(t0)) - b);
  const last = stepOf(Math.floor(t1)) + f;
  const out: PreparedScan[] = [];
  const amount = { currency: o.currency, amountMinor: o.amountMinor };
  let n = 0;
  for (let step = first; step <= last; step++) {
    const wallets = o.wallets.filter((w) => (w.usedThroughStep ?? -1) < step);
    if (wallets.length === 0) continue;
    const perStepMax = CODES_PER_STEP * wallets.length;
    const acceptedFrom = Math.max(t0, (step - f) * STEP_SECONDS);
    const acceptedTo = Math.min(t1, (step + b + 1) * STEP_SECONDS);
    const want = Math.ceil(o.rate * 1.2 * Math.max(0, acceptedTo - acceptedFrom));
    const count = Math.min(perStepMax, want);
    for (let k = 0; k < count; k++) {
      const w = wallets[k % wallets.length]!;
      const counter = Math.floor(k / wallets.length);
      const code = codec.generate({ handle: w.handle, seed: w.seed, step, counter });
      const req = create(ScanRequestSchema, { outTradeNo: `${o.runTag}-${n++}`, amount, code });
      out.push({ step, body: toBinary(ScanRequestSchema, req) });
    }
  }
  return out;
}

/** Steps a verifier at `serverNowMs` accepts: [T−B, T+F]. */
export function acceptedSteps(serverNowMs: number, profile: CodeProfile): [number, number] {
  const t = stepOf(Math.floor(serverNowMs / 1000));
  return [t - profile.windowBackSteps, t + profile.windowAheadSteps];
}
