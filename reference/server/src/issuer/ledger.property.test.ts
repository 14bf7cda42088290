import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelPaymentRequestSchema,
  PaymentStatus,
  RefundPaymentRequestSchema,
} from "@paycode/protocol/v1";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cny, IssuerFixture } from "./testing.js";

type Op =
  | { kind: "scan"; amount: number; reuse: boolean }
  | { kind: "refund"; target: number; amount: number; replay: boolean }
  | { kind: "cancel"; target: number }
  | { kind: "offline"; amount: number }
  | { kind: "duplicate"; target: number; amount: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("scan" as const),
    amount: fc.integer({ min: 1, max: 4_000 }),
    reuse: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("refund" as const),
    target: fc.nat(20),
    amount: fc.integer({ min: 1, max: 3_000 }),
    replay: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("cancel" as const), target: fc.nat(20) }),
  fc.record({ kind: fc.constant("offline" as const), amount: fc.integer({ min: 1, max: 6_000 }) }),
  // An earlier offline code uploaded by a second terminal: paid by the issuer (§10.3).
  fc.record({
    kind: fc.constant("duplicate" as const),
    target: fc.nat(20),
    amount: fc.integer({ min: 1, max: 6_000 }),
  }),
);

describe("ledger properties (fast-check, SQLite)", () => {
  let f: IssuerFixture;
  beforeAll(async () => {
    f = await IssuerFixture.open();
  });
  afterAll(() => f.close());

  it("any sequence of scans, reuses, refunds, cancels, settlements and duplicates keeps the ledger at zero, moves each payment's money at most once, never refunds more than paid and debits the payer once per code", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(op, { maxLength: 25 }),
        async (opening, ops) => {
          const m = await f.merchant();
          const t = await f.terminal(m);
          const t2 = await f.terminal(m);
          const w = await f.payer(opening);
          const payments: { id: string; amount: bigint; liable: boolean }[] = [];
          const codes: string[] = [];
          const offlineCodes: string[] = [];
          let expectedPayer = BigInt(opening);
          // What the issuer loss account paid the merchant, net of refunds of those payments.
          let issuerPaid = 0n;
          let settledOffline = 0n;
          const refunded = new Map<string, bigint>();
          for (const o of ops) {
            if (o.kind === "scan") {
              const code = o.reuse && codes.length > 0 ? codes[codes.length - 1]! : f.onlineCode(w);
              codes.push(code);
              const p = await f.scan(m, code, o.amount);
              if (p.status === PaymentStatus.SUCCEEDED) {
                expectedPayer -= BigInt(o.amount);
                payments.push({ id: p.paymentId, amount: BigInt(o.amount), liable: false });
              }
            } else if (o.kind === "offline" || o.kind === "duplicate") {
              const again = o.kind === "duplicate" && offlineCodes.length > 0;
              const code = again ? offlineCodes[o.target % offlineCodes.length]! : f.offlineCode(w);
              if (!again) offlineCodes.push(code);
              const r = await f.upload(again ? t2 : t, [f.record(code, o.amount)]);
              const res = r.results[0]!;
              if (res.paymentId) {
                const amount = BigInt(o.amount);
                settledOffline += amount;
                // The payer pays for the first record of a code only; a second terminal's
                // record of a code the payer paid for is the issuer's.
                if (res.issuerLiable) issuerPaid += amount;
                else expectedPayer -= amount;
                payments.push({ id: res.paymentId, amount, liable: res.issuerLiable });
              }
            } else if (payments.length > 0) {
              const target = payments[o.target % payments.length]!;
              const before = refunded.get(target.id) ?? 0n;
              if (o.kind === "refund") {
                const no = o.replay ? "same-no" : f.nextId("r");
                try {
                  const r = await f.issuer.refundPayment(
                    m.principal,
                    create(RefundPaymentRequestSchema, {
                      paymentId: target.id,
                      outRefundNo: no,
                      amount: cny(o.amount),
                    }),
                  );
                  const now = r.payment!.refunded!.amountMinor;
                  if (target.liable) issuerPaid -= now - before;
                  else expectedPayer += now - before;
                  refunded.set(target.id, now);
                } catch (e) {
                  // Refused refunds move no money; anything else is a bug.
                  const code = ConnectError.from(e).code;
                  expect([Code.AlreadyExists, Code.FailedPrecondition]).toContain(code);
                }
              } else {
                const r = await f.issuer.cancelPayment(
                  m.principal,
                  create(CancelPaymentRequestSchema, {
                    lookup: { case: "paymentId", value: target.id },
                  }),
                );
                const now = r.payment!.refunded!.amountMinor;
                if (target.liable) issuerPaid -= now - before;
                else expectedPayer += now - before;
                refunded.set(target.id, now);
              }
            }
          }
          for (const p of payments) expect(refunded.get(p.id) ?? 0n).toBeLessThanOrEqual(p.amount);
          expect(await f.balance(w)).toBe(expectedPayer);
          // Offline settlement may leave debt, bounded by the cumulative offline limit.
          expect(expectedPayer).toBeGreaterThanOrEqual(-20_000n);
          // Duplicates count toward that limit too ([SETTLE-22]).
          expect(settledOffline).toBeLessThanOrEqual(20_000n);
          expect(await f.balance(m)).toBe(BigInt(opening) - expectedPayer + issuerPaid);
          await f.expectLedgerBalanced();
        },
      ),
      { numRuns: 25 },
    );
  });
});
