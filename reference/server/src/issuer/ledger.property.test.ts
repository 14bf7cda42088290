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
  | { kind: "offline"; amount: number };

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
);

describe("ledger properties (fast-check, SQLite)", () => {
  let f: IssuerFixture;
  beforeAll(async () => {
    f = await IssuerFixture.open();
  });
  afterAll(() => f.close());

  it("any sequence of scans, reuses, refunds, cancels and settlements keeps the ledger at zero, moves each payment's money at most once and never refunds more than paid", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(op, { maxLength: 25 }),
        async (opening, ops) => {
          const m = await f.merchant();
          const t = await f.terminal(m);
          const w = await f.payer(opening);
          const payments: { id: string; amount: bigint }[] = [];
          const codes: string[] = [];
          let expectedPayer = BigInt(opening);
          const refunded = new Map<string, bigint>();
          for (const o of ops) {
            if (o.kind === "scan") {
              const code = o.reuse && codes.length > 0 ? codes[codes.length - 1]! : f.onlineCode(w);
              codes.push(code);
              const p = await f.scan(m, code, o.amount);
              if (p.status === PaymentStatus.SUCCEEDED) {
                expectedPayer -= BigInt(o.amount);
                payments.push({ id: p.paymentId, amount: BigInt(o.amount) });
              }
            } else if (o.kind === "offline") {
              const r = await f.upload(t, [f.record(f.offlineCode(w), o.amount)]);
              if (r.results[0]!.paymentId) {
                expectedPayer -= BigInt(o.amount);
                payments.push({ id: r.results[0]!.paymentId, amount: BigInt(o.amount) });
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
                  expectedPayer += now - before;
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
                expectedPayer += now - before;
                refunded.set(target.id, now);
              }
            }
          }
          for (const p of payments) expect(refunded.get(p.id) ?? 0n).toBeLessThanOrEqual(p.amount);
          expect(await f.balance(w)).toBe(expectedPayer);
          // Offline settlement may leave debt, bounded by the cumulative offline limit.
          expect(expectedPayer).toBeGreaterThanOrEqual(-20_000n);
          expect(await f.balance(m)).toBe(BigInt(opening) - expectedPayer);
          await f.expectLedgerBalanced();
        },
      ),
      { numRuns: 25 },
    );
  });
});
