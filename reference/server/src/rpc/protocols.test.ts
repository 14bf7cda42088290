import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeclineReason, PaymentStatus, RecordOutcome } from "@paycode/protocol/v1";
import { afterAll, describe, expect, it } from "vitest";
import { makeSelfSignedCert } from "../testing/tls.js";
import { WIRE_VARIANTS } from "../testing/transports.js";
import { cny, type HarnessOptions, sqliteStores, startHarness } from "./testing/harness.js";

const stores = sqliteStores();
afterAll(() => stores.cleanup());

const cert = makeSelfSignedCert();
if (cert === undefined)
  console.warn("[skip] TLS protocol smoke test skipped: openssl is not available");

const variants: [string, HarnessOptions][] = WIRE_VARIANTS.map((v) => [v, { variant: v }]);
if (cert !== undefined) {
  variants.push(["tls connect-h2", { variant: "connect-h2", tls: cert }]);
  variants.push(["tls grpc-h2", { variant: "grpc-h2", tls: cert }]);
  variants.push(["tls grpc-web-h1", { variant: "grpc-web-h1", tls: cert }]);
}

describe.each(variants)("payment flow over %s", (_name, options) => {
  it("provisions, pays, declines reuse, steps up, settles offline, stays balanced", async () => {
    const h = await startHarness(await stores.url(), options);
    try {
      if (options.tls !== undefined) expect(h.url).toMatch(/^https:/);
      const m = await h.newMerchant();
      const t = await h.newTerminal(m.merchantId);
      const w = await h.newWallet({ balance: 500_000n, password: "pw" });
      const code = w.onlineCode();
      const paid = await m.merchant.scan({ outTradeNo: "p1", amount: cny(1_000n), code });
      expect(PaymentStatus[paid.payment!.status]).toBe("SUCCEEDED");
      const reuse = await m.merchant.scan({ outTradeNo: "p2", amount: cny(1_000n), code });
      expect(DeclineReason[reuse.payment!.declineReason]).toBe("CODE_REUSED");

      const big = await m.merchant.scan({
        outTradeNo: "p3",
        amount: cny(200_000n),
        code: w.onlineCode(),
      });
      expect(PaymentStatus[big.payment!.status]).toBe("PENDING_CONFIRMATION");
      const wrong = await w.wallet
        .confirmPayment({ paymentId: big.payment!.paymentId, password: "nope" })
        .catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ConnectError);
      expect((wrong as ConnectError).code).toBe(Code.PermissionDenied);
      const ok = await w.wallet.confirmPayment({
        paymentId: big.payment!.paymentId,
        password: "pw",
      });
      expect(PaymentStatus[ok.payment!.status]).toBe("SUCCEEDED");

      const keys = await t.settlement.getIssuerKeys({});
      const up = await t.settlement.uploadOfflineBatch({
        batchId: "b",
        records: [
          {
            recordId: "r",
            code: w.offlineCode().code,
            amount: cny(500n),
            acceptedAt: timestampFromMs(h.clock.now()),
            keysSyncedAt: keys.generatedAt!,
          },
        ],
      });
      expect(RecordOutcome[up.results[0]!.outcome]).toBe("SETTLED");
      expect(await h.balance(w)).toBe(500_000n - 1_000n - 200_000n - 500n);
      expect(await h.balance(m)).toBe(201_500n);
      await h.expectLedgerBalanced();
    } finally {
      await h.close();
    }
  });
});
