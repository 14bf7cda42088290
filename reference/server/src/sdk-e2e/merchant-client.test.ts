import http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { ManualClock } from "@paycode/protocol";
import { CancelAction, DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import {
  createPaycodeTransport,
  MemoryWalletStateStore,
  MerchantClient,
  type MerchantEvent,
  PaycodeProtocolError,
  PaymentOutcomeUnknownError,
  WalletClient,
} from "@paycode/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, TestServer } from "../testing/test-server.js";

const CNY = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });

let ts: TestServer;
beforeAll(async () => {
  ts = await TestServer.start();
});
afterAll(async () => {
  await ts.close();
});

/** A funded payer with a provisioned wallet sharing the issuer's clock. */
async function payer(balance: bigint, limits: Parameters<TestServer["account"]>[1] = {}) {
  const accountId = await ts.account(balance, limits);
  const wallet = new WalletClient({
    store: new MemoryWalletStateStore(),
    clock: ts.clock,
    transport: ts.transport(),
  });
  await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "test phone" });
  return { accountId, wallet };
}

/** A merchant client whose sleep advances the shared manual clock, with an optional hook per sleep. */
async function merchant(
  o: {
    baseUrl?: string;
    onSleep?: (n: number) => Promise<void>;
    maxWaitMs?: number;
    maxAttempts?: number;
  } = {},
) {
  const m = await ts.merchant();
  const events: MerchantEvent[] = [];
  let sleeps = 0;
  const client = new MerchantClient({
    transport: ts.transport({ bearer: m.apiKey, ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}) }),
    clock: ts.clock,
    sleep: async (ms) => {
      ts.clock.advance(ms);
      sleeps++;
      await o.onSleep?.(sleeps);
    },
    maxWaitMs: o.maxWaitMs ?? 60_000,
    retry: { maxAttempts: o.maxAttempts ?? 4 },
    onEvent: (e) => events.push(e),
  });
  return { client, events, merchantId: m.merchantId, sleeps: () => sleeps };
}

describe("MerchantClient.pay against the reference server", () => {
  it("pays a password-free amount at once", async () => {
    const p = await payer(10_000n);
    const m = await merchant();
    const r = await m.client.pay({
      outTradeNo: "o-1",
      amount: CNY(1234n),
      code: p.wallet.onlineCode(),
    });
    expect(r).toMatchObject({ neededConfirmation: false, timedOut: false, polls: 0 });
    expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    expect(await ts.balance({ accountId: p.accountId })).toBe(10_000n - 1234n);
    expect(await ts.balance({ merchantId: m.merchantId })).toBe(1234n);
  });

  it("returns a decline as a result", async () => {
    const p = await payer(100n);
    const m = await merchant();
    const r = await m.client.pay({
      outTradeNo: "o-2",
      amount: CNY(500n),
      code: p.wallet.onlineCode(),
    });
    expect(r.payment.status).toBe(PaymentStatus.DECLINED);
    expect(r.payment.declineReason).toBe(DeclineReason.INSUFFICIENT_FUNDS);
  });

  it("polls a pending payment until the payer confirms", async () => {
    const p = await payer(100_000n, { perPaymentPasswordFree: 1000n });
    let paymentId = "";
    const m = await merchant({
      onSleep: async (n) => {
        if (n === 3) await p.wallet.confirm(paymentId, PASSWORD);
      },
    });
    const code = p.wallet.onlineCode();
    const pay = m.client.pay({ outTradeNo: "o-3", amount: CNY(5000n), code });
    // The pending event carries the id the payer's phone shows.
    const pending = await (async () => {
      for (;;) {
        const e = m.events.find((x) => x.kind === "pending");
        if (e && e.kind === "pending") return e.payment;
        await new Promise((r) => setImmediate(r));
      }
    })();
    paymentId = pending.paymentId;
    expect(pending.status).toBe(PaymentStatus.PENDING_CONFIRMATION);
    const r = await pay;
    expect(r).toMatchObject({ neededConfirmation: true, timedOut: false, polls: 3 });
    expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    expect(r.payment.paymentId).toBe(paymentId);
    expect(m.events.filter((e) => e.kind === "poll")).toHaveLength(3);
    expect(await ts.balance({ accountId: p.accountId })).toBe(95_000n);
  });

  it("cancels a pending payment when the payer does not confirm in time", async () => {
    const p = await payer(100_000n, { perPaymentPasswordFree: 1000n });
    const m = await merchant({ maxWaitMs: 10_000 });
    const started = ts.clock.now();
    const r = await m.client.pay({
      outTradeNo: "o-4",
      amount: CNY(5000n),
      code: p.wallet.onlineCode(),
    });
    expect(r).toMatchObject({ neededConfirmation: true, timedOut: true, polls: 5 });
    expect(r.cancelAction).toBe(CancelAction.CLOSED);
    expect(r.payment.status).toBe(PaymentStatus.CLOSED);
    expect(ts.clock.now() - started).toBe(10_000);
    expect(m.events.map((e) => e.kind)).toEqual([
      "pending",
      "poll",
      "poll",
      "poll",
      "poll",
      "poll",
      "timeout",
    ]);
    expect(await ts.balance({ accountId: p.accountId })).toBe(100_000n);
    // Confirming after the cancel is too late.
    await expect(p.wallet.confirm(r.payment.paymentId, PASSWORD)).rejects.toMatchObject({
      code: Code.FailedPrecondition,
    });
  });

  it("stops polling when the issuer closes the payment at its own deadline", async () => {
    const p = await payer(100_000n, { perPaymentPasswordFree: 1000n });
    const m = await merchant({ maxWaitMs: 120_000 });
    const r = await m.client.pay({
      outTradeNo: "o-5",
      amount: CNY(5000n),
      code: p.wallet.onlineCode(),
    });
    expect(r.payment.status).toBe(PaymentStatus.CLOSED);
    expect(r).toMatchObject({ timedOut: false, neededConfirmation: true });
    expect(r.polls).toBeGreaterThanOrEqual(30);
    expect(r.polls).toBeLessThanOrEqual(31);
  });

  it("keeps polling through a network outage and sees the confirmation", async () => {
    const p = await payer(100_000n, { perPaymentPasswordFree: 1000n });
    const proxy = await ts.proxy();
    let paymentId = "";
    const m = await merchant({
      baseUrl: proxy.url,
      maxAttempts: 2,
      onSleep: async (n) => {
        if (n === 1) proxy.down = true;
        if (n === 4) {
          proxy.down = false;
          await p.wallet.confirm(paymentId, PASSWORD);
        }
      },
    });
    const pay = m.client.pay({
      outTradeNo: "o-out",
      amount: CNY(5000n),
      code: p.wallet.onlineCode(),
    });
    for (;;) {
      const e = m.events.find((x) => x.kind === "pending");
      if (e?.kind === "pending") {
        paymentId = e.payment.paymentId;
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    const r = await pay;
    expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    expect(r.timedOut).toBe(false);
    expect(m.events.filter((e) => e.kind === "poll-failed").length).toBeGreaterThanOrEqual(1);
  });

  it("retries a connection failure with the same out_trade_no", async () => {
    const p = await payer(10_000n);
    const proxy = await ts.proxy();
    proxy.plan.push("reset");
    const m = await merchant({ baseUrl: proxy.url });
    const r = await m.client.pay({
      outTradeNo: "o-6",
      amount: CNY(700n),
      code: p.wallet.onlineCode(),
    });
    expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    const retries = m.events.filter((e) => e.kind === "retry");
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ call: "Scan", outTradeNo: "o-6", attempt: 1 });
    expect(proxy.connections).toBe(2);
    expect(await ts.balance({ accountId: p.accountId })).toBe(9300n);
  });

  it("recovers a payment whose answer was lost, without a second debit or a burned-code decline", async () => {
    const p = await payer(10_000n);
    const proxy = await ts.proxy();
    proxy.plan.push("drop-response");
    const m = await merchant({ baseUrl: proxy.url });
    const r = await m.client.pay({
      outTradeNo: "o-7",
      amount: CNY(800n),
      code: p.wallet.onlineCode(),
    });
    // The server paid on the first attempt; the retry got the same payment back.
    expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    expect(m.events.filter((e) => e.kind === "retry")).toHaveLength(1);
    const byOrder = await m.client.getPayment({ outTradeNo: "o-7" });
    expect(byOrder.paymentId).toBe(r.payment.paymentId);
    expect(await ts.balance({ accountId: p.accountId })).toBe(9200n);
    expect(await ts.balance({ merchantId: m.merchantId })).toBe(800n);
  });

  it("gives up after bounded attempts with the order number to resolve later", async () => {
    const p = await payer(10_000n);
    const proxy = await ts.proxy();
    proxy.down = true;
    const m = await merchant({ baseUrl: proxy.url, maxAttempts: 3 });
    const err = await m.client
      .pay({ outTradeNo: "o-8", amount: CNY(100n), code: p.wallet.onlineCode() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaymentOutcomeUnknownError);
    expect(err).toMatchObject({ outTradeNo: "o-8", attempts: 3 });
    expect(proxy.connections).toBe(3);
    expect(m.sleeps()).toBe(2);
  });

  it("surfaces already_exists for a reused order number with other parameters", async () => {
    const p = await payer(10_000n);
    const m = await merchant();
    const code = p.wallet.onlineCode();
    await m.client.pay({ outTradeNo: "o-9", amount: CNY(100n), code });
    const again = await m.client.pay({ outTradeNo: "o-9", amount: CNY(100n), code });
    expect(again.payment.status).toBe(PaymentStatus.SUCCEEDED);
    const err = await m.client
      .pay({ outTradeNo: "o-9", amount: CNY(101n), code })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.AlreadyExists);
    expect(await ts.balance({ accountId: p.accountId })).toBe(9900n);
  });

  it("refunds, cancels a succeeded payment as a full refund, and reports the day", async () => {
    const p = await payer(10_000n);
    const m = await merchant();
    const a = await m.client.pay({
      outTradeNo: "o-10",
      amount: CNY(1000n),
      code: p.wallet.onlineCode(),
    });
    const b = await m.client.pay({
      outTradeNo: "o-11",
      amount: CNY(500n),
      code: p.wallet.onlineCode(),
    });
    const refund = await m.client.refund({
      paymentId: a.payment.paymentId,
      outRefundNo: "r-1",
      amount: CNY(300n),
    });
    expect(refund.payment.refunded?.amountMinor).toBe(300n);
    const same = await m.client.refund({
      paymentId: a.payment.paymentId,
      outRefundNo: "r-1",
      amount: CNY(300n),
    });
    expect(same.refund.refundId).toBe(refund.refund.refundId);
    const cancelled = await m.client.cancel({ outTradeNo: "o-11" });
    expect(cancelled.action).toBe(CancelAction.REFUNDED);
    expect(cancelled.payment.paymentId).toBe(b.payment.paymentId);
    expect(cancelled.payment.status).toBe(PaymentStatus.REFUNDED);
    expect(await ts.balance({ accountId: p.accountId })).toBe(10_000n - 1000n + 300n);
    const day = new Date(ts.clock.now()).toISOString().slice(0, 10);
    const report = await m.client.settlementReport(day, "CNY");
    expect(report.paymentCount).toBe(2n);
    expect(report.netTotal?.amountMinor).toBe(1500n - 800n);
    expect(await ts.ledgerTotal()).toBe(0n);
  });

  it("works over gRPC and gRPC-Web too", async () => {
    const p = await payer(10_000n);
    const m = await ts.merchant();
    for (const [i, protocol] of (["grpc", "grpc-web"] as const).entries()) {
      const client = new MerchantClient({
        transport: ts.transport({ bearer: m.apiKey, protocol, httpVersion: "2" }),
        clock: ts.clock,
      });
      const r = await client.pay({
        outTradeNo: `g-${i}`,
        amount: CNY(10n),
        code: p.wallet.onlineCode(),
      });
      expect(r.payment.status).toBe(PaymentStatus.SUCCEEDED);
    }
  });
});

describe("MerchantClient strictness", () => {
  it("treats a Scan response without a payment as a protocol error", async () => {
    // A real HTTP server that answers every Connect call with an empty message.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/proto" });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const t = createPaycodeTransport({ baseUrl: `http://127.0.0.1:${port}`, bearer: "k" });
    try {
      const client = new MerchantClient({ transport: t.transport, clock: new ManualClock(0) });
      await expect(
        client.pay({ outTradeNo: "x", amount: CNY(1n), code: "621234567890123456" }),
      ).rejects.toThrow(new PaycodeProtocolError("Scan: response has no payment"));
      await expect(client.settlementReport("2030-01-01", "CNY")).rejects.toThrow(
        PaycodeProtocolError,
      );
    } finally {
      t.close();
      await new Promise((r) => server.close(r));
    }
  });

  it("validates its own input before sending", async () => {
    const client = new MerchantClient({ transport: ts.transport(), clock: ts.clock });
    await expect(client.pay({ outTradeNo: "", amount: CNY(1n), code: "1" })).rejects.toThrow(
      RangeError,
    );
    await expect(
      client.pay({ outTradeNo: "x".repeat(65), amount: CNY(1n), code: "1" }),
    ).rejects.toThrow(RangeError);
    await expect(client.pay({ outTradeNo: "ok", amount: CNY(0n), code: "1" })).rejects.toThrow(
      RangeError,
    );
  });
});
