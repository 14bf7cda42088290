import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  CancelAction,
  CancelPaymentRequestSchema,
  ConfirmPaymentRequestSchema,
  DeclineReason,
  GetPaymentRequestSchema,
  PaymentStatus,
  RecordOutcome,
  RefundPaymentRequestSchema,
  RevokeSeedRequestSchema,
  SetClockRequestSchema,
} from "@paycode/protocol/v1";
import { afterEach, describe, expect, it } from "vitest";
import { MUTANT_NAMES, type MutantName } from "./mutants.js";
import { cny, IssuerFixture } from "./testing.js";

/**
 * Each mutant breaks its rule and (checked via the ledger) nothing else it
 * should not: the later conformance task relies on them being precise.
 */
const open: IssuerFixture[] = [];
async function fixture(mutant: MutantName): Promise<IssuerFixture> {
  const f = await IssuerFixture.open({ mutant });
  open.push(f);
  return f;
}
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

/**
 * Unit-level demonstrations for the mutants of the first catalogue; the
 * mutant matrix (reference/cli) proves every mutant, these also check that
 * a mutant breaks nothing beyond its rule (the ledger stays balanced).
 */
const demos: Partial<Record<MutantName, (f: IssuerFixture) => Promise<void>>> = {
  "accept-reused-code": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const code = f.onlineCode(w);
    await f.scan(m, code, 100);
    expect((await f.scan(m, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "never-expire": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    expect((await f.scan(m, f.onlineCode(w, { stepOffset: -10 }), 100)).status).toBe(
      PaymentStatus.SUCCEEDED,
    );
    const old = f.offlineCode(w, { issuedAtMs: f.clock.now() - 600_000 });
    expect((await f.scan(m, old, 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "no-burn-on-decline": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(500);
    const code = f.onlineCode(w);
    expect((await f.scan(m, code, 1_000)).declineReason).toBe(DeclineReason.INSUFFICIENT_FUNDS);
    expect((await f.scan(m, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "ignore-password-free-limit": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(200_000);
    expect((await f.scan(m, f.onlineCode(w), 150_000)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "double-settle-duplicates": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 100)]);
    expect((await f.upload(t2, [f.record(code, 100)])).results[0]!.outcome).toBe(
      RecordOutcome.SETTLED,
    );
    expect(await f.balance(w)).toBe(9_800n);
  },
  "skip-offline-signature": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const other = await f.payer(0);
    const forged = f.offlineCode({ ...w, keys: other.keys });
    expect((await f.scan(m, forged, 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "leak-other-merchant-order": async (f) => {
    const [m, other] = [await f.merchant(), await f.merchant()];
    const w = await f.payer(10_000);
    const p = await f.scan(m, f.onlineCode(w), 100);
    const leaked = await f.issuer.getPayment(
      other.principal,
      create(GetPaymentRequestSchema, { lookup: { case: "paymentId", value: p.paymentId } }),
    );
    expect(leaked.payment?.paymentId).toBe(p.paymentId);
  },
  "ignore-revocation": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    await f.issuer.revokeSeed(w.principal, create(RevokeSeedRequestSchema, {}));
    expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "no-idempotency": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const code = f.onlineCode(w);
    const a = await f.scan(m, code, 100, "order");
    const b = await f.scan(m, code, 100, "order");
    expect(b.paymentId).not.toBe(a.paymentId);
    expect(b.declineReason).toBe(DeclineReason.CODE_REUSED);
  },
  "cancel-does-not-refund": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const p = await f.scan(m, f.onlineCode(w), 100);
    const r = await f.issuer.cancelPayment(
      m.principal,
      create(CancelPaymentRequestSchema, { lookup: { case: "paymentId", value: p.paymentId } }),
    );
    expect(r.action).toBe(CancelAction.REFUNDED);
    expect(await f.balance(w)).toBe(9_900n);
  },
  "ignore-insufficient-funds": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(100);
    expect((await f.scan(m, f.onlineCode(w), 1_000)).status).toBe(PaymentStatus.SUCCEEDED);
    expect(await f.balance(w)).toBe(-900n);
  },
  "ignore-offline-limit": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(0);
    const r = await f.upload(t, [
      f.record(f.offlineCode(w), 9_000),
      f.record(f.offlineCode(w), 15_000),
    ]);
    expect(r.results.map((x) => x.outcome)).toEqual([RecordOutcome.SETTLED, RecordOutcome.SETTLED]);
  },
  "no-auto-close": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(200_000);
    const p = await f.scan(m, f.onlineCode(w), 150_000);
    f.clock.advance(3_600_000);
    expect(await f.issuer.sweepExpired()).toBe(0);
    const r = await f.issuer.confirmPayment(
      w.principal,
      create(ConfirmPaymentRequestSchema, { paymentId: p.paymentId, password: "correct horse" }),
    );
    expect(r.payment?.status).toBe(PaymentStatus.SUCCEEDED);
  },
  "confirm-without-password": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(200_000);
    const p = await f.scan(m, f.onlineCode(w), 150_000);
    const r = await f.issuer.confirmPayment(
      w.principal,
      create(ConfirmPaymentRequestSchema, { paymentId: p.paymentId, password: "wrong" }),
    );
    expect(r.payment?.status).toBe(PaymentStatus.SUCCEEDED);
  },
  "refund-over-remaining": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const p = await f.scan(m, f.onlineCode(w), 100);
    await f.issuer.refundPayment(
      m.principal,
      create(RefundPaymentRequestSchema, {
        paymentId: p.paymentId,
        outRefundNo: "big",
        amount: cny(5_000),
      }),
    );
    expect(await f.balance(w)).toBe(14_900n);
  },
  "accept-stale-keys": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const r = await f.upload(t, [
      f.record(f.offlineCode(w), 100, { keysSyncedAtMs: f.clock.now() - 10 * 86_400_000 }),
    ]);
    expect(r.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
  },
  "set-clock-reports-only": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const t = f.clock.now() + 86_400_000;
    const r = await setClock(f, t, true);
    expect(timestampMs(r.now!)).toBe(t);
    // The payment is made on the old clock: the code of the unset clock's step pays.
    const p = await f.scan(m, f.onlineCode(w), 100);
    expect(p.status).toBe(PaymentStatus.SUCCEEDED);
    expect(timestampMs(p.createdAt!)).toBe(f.clock.now());
  },
  "clock-ignores-freeze": async (f) => {
    const t = f.clock.now() + 3_600_000;
    expect((await setClock(f, t, true)).frozen).toBe(true);
    f.clock.advance(5_000);
    const caps = await f.issuer.control.getCapabilities();
    expect(caps.clockFrozen).toBe(true);
    expect(timestampMs(caps.now!)).toBe(t + 5_000);
  },
  "unfreeze-stays-frozen": async (f) => {
    const t = f.clock.now() + 3_600_000;
    expect((await setClock(f, t, false)).frozen).toBe(false);
    f.clock.advance(5_000);
    const caps = await f.issuer.control.getCapabilities();
    expect(caps.clockFrozen).toBe(false);
    expect(timestampMs(caps.now!)).toBe(t);
  },
  "revoked-at-upload": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const syncedAt = f.clock.now() - 60_000;
    await f.issuer.revokeSeed(w.principal, create(RevokeSeedRequestSchema, { reason: "lost" }));
    const r = await f.upload(t, [f.record(f.offlineCode(w), 100, { keysSyncedAtMs: syncedAt })]);
    expect(r.results[0]!.outcome).toBe(RecordOutcome.REJECTED_REVOKED);
  },
  "offline-needs-funds": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(200);
    const r = await f.upload(t, [f.record(f.offlineCode(w), 1_000)]);
    expect(r.results[0]!.outcome).toBe(RecordOutcome.REJECTED_LIMIT);
    expect(await f.balance(w)).toBe(200n);
  },
  "settle-own-usage-keys": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    const r = await f.upload(t, [f.record(code, 1_000)]);
    expect(r.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
    expect((await f.scan(m, code, 1_000)).status).toBe(PaymentStatus.SUCCEEDED);
    expect(await f.balance(w)).toBe(8_000n);
  },
  "prune-offline-burns": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const rec = f.record(f.offlineCode(w), 1_000);
    expect((await f.upload(t, [rec])).results[0]!.outcome).toBe(RecordOutcome.SETTLED);
    f.clock.advance(3_600_000);
    const again = await f.upload(t, [
      f.record(rec.code, 1_000, {
        acceptedAtMs: timestampMs(rec.acceptedAt!),
        keysSyncedAtMs: timestampMs(rec.keysSyncedAt!),
      }),
    ]);
    // Its own terminal's record again, days later: paid again (by the issuer) instead of DUPLICATE.
    expect(again.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
    expect(await f.balance(w)).toBe(9_000n);
    expect(await f.balance(m)).toBe(2_000n);
  },
  // --- Multi-step and concurrency mutants.
  "refund-check-not-atomic": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const p = await f.scan(m, f.onlineCode(w), 1_000);
    const refund = (no: string) =>
      f.issuer.refundPayment(
        m.principal,
        create(RefundPaymentRequestSchema, {
          paymentId: p.paymentId,
          outRefundNo: no,
          amount: cny(600),
        }),
      );
    // Both read 1000 left before either writes: 1200 go back for a payment of 1000.
    await Promise.all([refund("a"), refund("b")]);
    expect(await f.balance(w)).toBe(10_200n);
  },
  "confirm-check-not-atomic": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000, { perPaymentPasswordFree: 100n });
    const p = await f.scan(m, f.onlineCode(w), 1_000);
    const confirming = f.issuer.confirmPayment(
      w.principal,
      create(ConfirmPaymentRequestSchema, { paymentId: p.paymentId, password: "correct horse" }),
    );
    // The cancel lands while the confirmation pauses; the confirmation then overwrites it.
    const c = await f.issuer.cancelPayment(
      m.principal,
      create(CancelPaymentRequestSchema, { lookup: { case: "paymentId", value: p.paymentId } }),
    );
    expect(c.action).toBe(CancelAction.CLOSED);
    expect((await confirming).payment?.status).toBe(PaymentStatus.SUCCEEDED);
    expect(await f.balance(w)).toBe(9_000n);
  },
  "daily-usage-per-wallet": async (f) => {
    const m = await f.merchant();
    const w = await f.payer(10_000, { dailyPasswordFreeCount: 1 });
    expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
    const again = await f.wallet(w.accountId);
    // The account's one password-free payment of the day is used up, yet the new wallet pays freely.
    expect((await f.scan(m, f.onlineCode(again), 100)).status).toBe(PaymentStatus.SUCCEEDED);
  },
  "batch-check-not-atomic": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const records = [f.record(f.offlineCode(w), 700)];
    const upload = () => f.upload(t, records, "same");
    // Both find the batch id fresh; the second settles the record again, as DUPLICATE.
    const [a, b] = await Promise.all([upload(), upload()]);
    expect([a.results[0]!.outcome, b.results[0]!.outcome].sort()).toEqual(
      [RecordOutcome.SETTLED, RecordOutcome.DUPLICATE].sort(),
    );
    expect(await f.balance(w)).toBe(9_300n);
  },
  // --- end of multi-step and concurrency mutants.
  // Offline liability (§10.3).
  "same-terminal-duplicate-paid": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    const r = await f.upload(t, [f.record(code, 100), f.record(code, 100)]);
    expect(r.results[1]).toMatchObject({ outcome: RecordOutcome.SETTLED, issuerLiable: true });
    expect(await f.balance(m)).toBe(200n);
  },
  "duplicate-not-paid": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 100)]);
    expect((await f.upload(t2, [f.record(code, 100)])).results[0]!.outcome).toBe(
      RecordOutcome.DUPLICATE,
    );
    expect(await f.balance(m)).toBe(100n);
  },
  "duplicate-debits-payer-twice": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 100)]);
    await f.upload(t2, [f.record(code, 100)]);
    expect(await f.balance(w)).toBe(9_800n);
  },
  "scanned-code-debits-payer": async (f) => {
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    expect((await f.scan(m, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
    await f.upload(t, [f.record(code, 100)]);
    expect(await f.balance(w)).toBe(9_800n);
  },
  "issuer-liable-not-flagged": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 100)]);
    const r = await f.upload(t2, [f.record(code, 100)]);
    expect(r.results[0]).toMatchObject({ outcome: RecordOutcome.SETTLED, issuerLiable: false });
  },
  "duplicate-not-counted-in-cumulative": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000, { perPaymentOffline: 1_000n, cumulativeOffline: 1_500n });
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 1_000)]);
    await f.upload(t2, [f.record(code, 400)]);
    // 1400 settled already, yet 400 more fits the limit of 1500.
    const r = await f.upload(t1, [f.record(f.offlineCode(w), 400)]);
    expect(r.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
  },
  "issuer-liable-refund-to-payer": async (f) => {
    const m = await f.merchant();
    const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
    const w = await f.payer(10_000);
    const code = f.offlineCode(w);
    await f.upload(t1, [f.record(code, 100)]);
    const r = await f.upload(t2, [f.record(code, 100)]);
    await f.issuer.refundPayment(
      m.principal,
      create(RefundPaymentRequestSchema, {
        paymentId: r.results[0]!.paymentId,
        outRefundNo: "r",
        amount: cny(100),
      }),
    );
    // The payer paid 100 once and got 100 back for the duplicate it never paid.
    expect(await f.balance(w)).toBe(10_000n);
  },
};

function setClock(f: IssuerFixture, ms: number, frozen: boolean) {
  return f.issuer.control.setClock(
    create(SetClockRequestSchema, { now: timestampFromMs(ms), frozen }),
  );
}

describe("mutants", () => {
  it("demonstrates only declared mutants", () => {
    expect(Object.keys(demos).filter((n) => !MUTANT_NAMES.includes(n as MutantName))).toEqual([]);
  });

  const demonstrated = Object.keys(demos) as MutantName[];
  it.each(demonstrated)("%s breaks its rule and keeps the ledger balanced", async (name) => {
    const f = await fixture(name);
    await demos[name]!(f);
    await f.expectLedgerBalanced();
  });

  it("the capabilities name the mutant", async () => {
    const f = await fixture("accept-reused-code");
    expect((await f.issuer.control.getCapabilities()).implementation).toMatch(
      /mutant accept-reused-code/,
    );
  });
});
