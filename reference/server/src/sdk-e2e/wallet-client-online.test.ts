import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { ManualClock } from "@paycode/protocol";
import { DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import {
  JsonFileWalletStateStore,
  MemoryWalletStateStore,
  MerchantClient,
  WalletClient,
  WalletCodesExhaustedError,
} from "@paycode/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, TestServer } from "../testing/test-server.js";

const CNY = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });

let ts: TestServer;
let merchant: MerchantClient;
let order = 0;
beforeAll(async () => {
  ts = await TestServer.start();
  const m = await ts.merchant();
  merchant = new MerchantClient({ transport: ts.transport({ bearer: m.apiKey }), clock: ts.clock });
});
afterAll(async () => {
  await ts.close();
});

const pay = (code: string, amount = 100n) =>
  merchant.pay({ outTradeNo: `w-${++order}`, amount: CNY(amount), code });

describe("WalletClient against the reference server", () => {
  it("provisions with a clock offset, then pays 8 codes of one minute with no network", async () => {
    const accountId = await ts.account(100_000n);
    // The phone's clock is 5 minutes behind the issuer's.
    const phone = new ManualClock(ts.clock.now() - 300_000);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(),
      clock: phone,
      transport: ts.transport(),
    });
    const w = await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "phone" });
    expect(w.clockOffsetMs).toBe(300_000);
    expect(w.profile.issuerPrefix).toBe(62);
    const codes = Array.from({ length: 8 }, () => wallet.onlineCode());
    expect(new Set(codes).size).toBe(8);
    for (const code of codes)
      expect((await pay(code)).payment.status).toBe(PaymentStatus.SUCCEEDED);
    expect(() => wallet.onlineCode()).toThrow(WalletCodesExhaustedError);
    phone.advance(60_000);
    ts.clock.advance(60_000);
    expect((await pay(wallet.onlineCode())).payment.status).toBe(PaymentStatus.SUCCEEDED);
    const info = await wallet.getWallet();
    expect(info.balance?.amountMinor).toBe(100_000n - 900n);
  });

  it("pays with an offline code presented online, and its reuse is declined", async () => {
    const accountId = await ts.account(10_000n);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(),
      clock: ts.clock,
      transport: ts.transport(),
    });
    await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "phone" });
    const code = wallet.offlineCode();
    expect((await pay(code, 300n)).payment.status).toBe(PaymentStatus.SUCCEEDED);
    const again = await pay(code, 300n);
    expect(again.payment.declineReason).toBe(DeclineReason.CODE_REUSED);
  });

  it("keeps counters across a restart from a JSON state file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paycode-wallet-online-"));
    try {
      const path = join(dir, "wallet.json");
      const accountId = await ts.account(10_000n);
      const first = new WalletClient({
        store: new JsonFileWalletStateStore(path),
        clock: ts.clock,
        transport: ts.transport(),
      });
      await first.provision({ accountId, password: PASSWORD, deviceLabel: "phone" });
      const a = first.onlineCode();
      // A new process, offline: no transport at all.
      const second = new WalletClient({
        store: new JsonFileWalletStateStore(path),
        clock: ts.clock,
      });
      const b = second.onlineCode();
      expect(b).not.toBe(a);
      expect((await pay(a)).payment.status).toBe(PaymentStatus.SUCCEEDED);
      expect((await pay(b)).payment.status).toBe(PaymentStatus.SUCCEEDED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reprovisioning revokes the previous wallet; revoke() and a wrong password behave", async () => {
    const accountId = await ts.account(10_000n);
    const oldPhone = new WalletClient({
      store: new MemoryWalletStateStore(),
      clock: ts.clock,
      transport: ts.transport(),
    });
    await oldPhone.provision({ accountId, password: PASSWORD, deviceLabel: "old" });
    const newPhone = new WalletClient({
      store: new MemoryWalletStateStore(),
      clock: ts.clock,
      transport: ts.transport(),
    });
    await newPhone.provision({ accountId, password: PASSWORD, deviceLabel: "new" });
    expect((await pay(oldPhone.onlineCode())).payment.declineReason).toBe(
      DeclineReason.WALLET_REVOKED,
    );
    expect((await pay(newPhone.onlineCode())).payment.status).toBe(PaymentStatus.SUCCEEDED);
    await expect(
      new WalletClient({
        store: new MemoryWalletStateStore(),
        transport: ts.transport(),
      }).provision({
        accountId,
        password: "wrong",
        deviceLabel: "x",
      }),
    ).rejects.toMatchObject({ code: Code.Unauthenticated });
    const at = await newPhone.revoke("lost");
    expect(at.getTime()).toBe(ts.clock.now());
    expect((await newPhone.getWallet()).revoked).toBe(true);
    await expect(newPhone.confirm("nope", PASSWORD)).rejects.toMatchObject({ code: Code.NotFound });
  });
});
