import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { acceptedSteps, type CodeProfile, type PreparedScan } from "./codes.js";
import { connectErrorOf } from "./connect-unary.js";
import type { RequestSource } from "./drive.js";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

/** The same empty request over and over: Ping, or the bare-HTTP floor. */
export class RepeatSource implements RequestSource {
  private readonly body = new Uint8Array(0);
  private readonly onResponse = (res: RawResponse): string | undefined =>
    res.status === 200 ? undefined : connectErrorOf(res).code;

  constructor(
    private readonly transport: UnaryTransport,
    private readonly endpoint: Endpoint,
  ) {}

  start(): Promise<string | undefined> {
    return this.transport.send(this.endpoint, this.body).then(this.onResponse);
  }
}

/**
 * Status and decline reason of a serialized ScanResponse, read straight off
 * the wire (ScanResponse.payment = 1; Payment.status = 4,
 * Payment.decline_reason = 5) instead of building the whole message: a full
 * decode cost the load generator more CPU than everything else per call.
 */
export function scanOutcome(
  body: Uint8Array,
): { status: number; declineReason: number } | undefined {
  const r = new BinaryReader(body);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) {
      const p = new BinaryReader(r.bytes());
      let status = 0;
      let declineReason = 0;
      while (p.pos < p.len) {
        const [f, w] = p.tag();
        if (f === 4 && w === WireType.Varint) status = p.int32();
        else if (f === 5 && w === WireType.Varint) declineReason = p.int32();
        else p.skip(w, f);
      }
      return { status, declineReason };
    }
    r.skip(wire, field);
  }
  return undefined;
}

/** SUCCEEDED, DECLINED:<reason>, ... of a serialized ScanResponse. */
export function scanOutcomeKey(body: Uint8Array): string {
  const payment = scanOutcome(body);
  const status = payment ? (PaymentStatus[payment.status] ?? String(payment.status)) : "NONE";
  return payment && payment.status === PaymentStatus.DECLINED
    ? `${status}:${DeclineReason[payment.declineReason] ?? payment.declineReason}`
    : status;
}

// Keep codes this far from the edges of their acceptance window, so clock
// offset error and the call's own latency cannot turn them expired.
const EDGE_MARGIN_MS = 2000;

/**
 * Scan with pre-serialized requests, each code used once. Skips codes that
 * are about to leave the acceptance window; stops (null) when none is left
 * that the issuer would accept now.
 */
export class ScanSource implements RequestSource {
  private next = 0;
  /** Codes skipped because their window was closing (not sent). */
  skippedExpiring = 0;
  /** Payment outcomes of every answered Scan, warm-up included. */
  readonly outcomes: Record<string, number> = {};

  private readonly onResponse = (res: RawResponse): string | undefined => {
    if (res.status !== 200) return connectErrorOf(res).code;
    const key = scanOutcomeKey(res.body);
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
    return undefined;
  };

  constructor(
    private readonly transport: UnaryTransport,
    private readonly endpoint: Endpoint,
    private readonly scans: PreparedScan[],
    private readonly profile: CodeProfile,
    /** Issuer clock minus client clock, ms. */
    private readonly offsetMs: number,
  ) {}

  get remaining(): number {
    return this.scans.length - this.next;
  }

  /** Scans not sent yet (calibration hands them on to the measured run). */
  leftover(): PreparedScan[] {
    return this.scans.slice(this.next);
  }

  start(): Promise<string | undefined> | null {
    const now = Date.now() + this.offsetMs;
    const minStep = acceptedSteps(now + EDGE_MARGIN_MS, this.profile)[0];
    const maxStep = acceptedSteps(now - EDGE_MARGIN_MS, this.profile)[1];
    while (this.next < this.scans.length && this.scans[this.next]!.step < minStep) {
      this.next++;
      this.skippedExpiring++;
    }
    const scan = this.scans[this.next];
    if (scan === undefined || scan.step > maxStep) return null;
    this.next++;
    return this.transport.send(this.endpoint, scan.body).then(this.onResponse);
  }
}
