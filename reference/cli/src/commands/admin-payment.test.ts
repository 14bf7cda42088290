// paycode admin, paycode payment and paycode demo against the reference server.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryWalletStateStore, MerchantClient, WalletClient } from "@paycode/sdk";
import { type PaycodeServer, silentLogger, startServer } from "@paycode/server";
import { PASSWORD, TestServer } from "@paycode/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paycodeInProcess as paycode } from "../testing/in-process-cli.js";
import { runPaycode } from "../testing/spawn-cli.js";

let ts: TestServer;
let noControl: PaycodeServer;
let dir: string;
beforeAll(async () => {
  // The CLI runs on the system clock, so the issuer's (manual) clock starts at real time.
  ts = await TestServer.start({ clockStartMs: Date.now() });
  noControl = await startServer({
    issuer: ts.issuer,
    port: 0,
    enableTestControl: false,
    logger: silentLogger,
    closeGraceMs: 100,
  });
  dir = mkdtempSync(join(tmpdir(), "paycode-cli-admin-"));
});
afterAll(async () => {
  await noControl.close();
  await ts.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("paycode admin", () => {
  it("creates an account, human-readable, as JSON and as the bare id", async () => {
    const pw = join(dir, "password.txt");
    writeFileSync(pw, `${PASSWORD}\n`);
    const human = await paycode(
      "admin",
      "account",
      "create",
      "--server",
      ts.url,
      "--balance",
      "1000.00",
      "--password-file",
      pw,
    );
    expect(human).toMatchObject({ status: 0, stderr: "" });
    const m = /^account (acc_\S+) created with 1000\.00 CNY$/.exec(human.stdout);
    expect(m).not.toBeNull();
    expect(await ts.balance({ accountId: m![1]! })).toBe(100_000n);

    const json = await paycode(
      "admin",
      "account",
      "create",
      "--server",
      ts.url,
      "--balance",
      "12.34",
      "--password",
      PASSWORD,
      "--password-free",
      "5.00",
      "--json",
    );
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as { accountId: string; balance: unknown };
    expect(parsed.balance).toEqual({ currency: "CNY", amountMinor: "1234" });

    const bare = await paycode(
      "admin",
      "account",
      "create",
      "--server",
      ts.url,
      "--balance",
      "1",
      "--password-file",
      pw,
      "--print",
      "id",
    );
    expect(bare.stdout).toMatch(/^acc_\S+$/);

    // The password works: a wallet provisions with it; the limit was applied.
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(),
      transport: ts.transport(),
    });
    const w = await wallet.provision({
      accountId: parsed.accountId,
      password: PASSWORD,
      deviceLabel: "t",
    });
    expect(w.limits.perPaymentPasswordFree?.amountMinor).toBe(500n);
  });

  it("creates a merchant and a terminal; reads balances", async () => {
    const m = await paycode("admin", "merchant", "create", "--server", ts.url);
    expect(m.stdout).toMatch(/^merchant m_\S+ created\nAPI key: \S+ {2}\(shown only once\)$/);
    const bare = await paycode(
      "admin",
      "merchant",
      "create",
      "--server",
      ts.url,
      "--print",
      "id,api-key",
    );
    const [merchantId, apiKey] = bare.stdout.split(" ");
    expect(merchantId).toMatch(/^m_/);
    expect(apiKey).toBeTruthy();

    const t = await paycode(
      "admin",
      "terminal",
      "create",
      "--server",
      ts.url,
      "--merchant",
      merchantId!,
      "--json",
    );
    expect(t.status).toBe(0);
    expect(Object.keys(JSON.parse(t.stdout) as object)).toEqual(["terminalId", "apiKey"]);

    const accountId = await ts.account(4_200n);
    const b = await paycode("admin", "balance", "--server", ts.url, "--account", accountId);
    expect(b.stdout).toBe(`account ${accountId}: 42.00 CNY`);
    const mb = await paycode(
      "admin",
      "balance",
      "--server",
      ts.url,
      "--merchant",
      merchantId!,
      "--print",
      "amount,currency",
    );
    expect(mb.stdout).toBe("0.00 CNY");
  });

  it("shows the issuer clock, ahead when AdvanceClock moved it", async () => {
    const before = await paycode("admin", "info", "--server", ts.url);
    expect(before.stdout).toMatch(
      /^implementation: paycode-reference\/\S+\nfeatures: .*controllable-clock/,
    );
    ts.clock.advance(3 * 86_400_000);
    try {
      const after = await paycode("admin", "info", "--server", ts.url);
      expect(after.stdout).toMatch(/issuer clock: \S+Z \(3 d 0 h ahead of this machine\)$/);
      const dayAhead = () => new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
      const dayBefore = dayAhead();
      const date = await paycode("admin", "info", "--server", ts.url, "--print", "date");
      // Either side of a UTC midnight that passes during the call.
      expect([dayBefore, dayAhead()]).toContain(date.stdout);
    } finally {
      ts.clock.advance(-3 * 86_400_000);
    }
  });

  it("says so when the server has no test control; usage errors exit 2", async () => {
    for (const args of [["merchant", "create"], ["info"], ["balance", "--account", "acc_x"]]) {
      const r = await paycode("admin", ...args, "--server", noControl.url);
      expect(r, args.join(" ")).toEqual({
        status: 1,
        stdout: "",
        stderr:
          "paycode: the server does not offer test control: start it with --enable-test-control\n",
      });
    }
    const noPw = await paycode("admin", "account", "create", "--server", ts.url, "--balance", "1");
    expect(noPw.status).toBe(2);
    expect(noPw.stderr).toMatch(/--password-stdin or --password-file/);
    const bad = await paycode(
      "admin",
      "account",
      "create",
      "--server",
      ts.url,
      "--balance",
      "1.001",
      "--password",
      "x",
    );
    expect(bad.status).toBe(2);
    // A commander usage error: through the real bin, as users see it.
    const field = await runPaycode([
      "admin",
      "merchant",
      "create",
      "--server",
      ts.url,
      "--print",
      "key",
    ]);
    expect(field.code).toBe(2);
    expect(field.stderr).toMatch(/unknown field "key"; known: id, api-key/);
  });
});

describe("paycode payment", () => {
  let apiKey: string;
  let wallet: WalletClient;
  let merchant: MerchantClient;
  beforeAll(async () => {
    const accountId = await ts.account(100_000n, { perPaymentPasswordFree: 5_000n });
    ({ apiKey } = await ts.merchant());
    wallet = new WalletClient({ store: new MemoryWalletStateStore(), transport: ts.transport() });
    await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "t" });
    merchant = new MerchantClient({ transport: ts.transport({ bearer: apiKey }) });
  });
  const server = () => ["--server", ts.url, "--api-key", apiKey];

  it("gets a payment by order number or payment id", async () => {
    const r = await merchant.pay({
      outTradeNo: "pm-1",
      amount: { currency: "CNY", amountMinor: 1_234n },
      code: wallet.onlineCode(),
      subject: "tea",
    });
    const byOrder = await paycode("payment", "get", ...server(), "--out-trade-no", "pm-1");
    expect(byOrder).toMatchObject({ status: 0, stderr: "" });
    expect(byOrder.stdout).toMatch(
      new RegExp(
        `^SUCCEEDED {2}payment ${r.payment.paymentId} {2}12\\.34 CNY {2}order pm-1\\nsubject: tea\\ncreated \\S+Z, updated \\S+Z \\(issuer clock\\)$`,
      ),
    );
    const byId = await paycode(
      "payment",
      "get",
      ...server(),
      "--payment-id",
      r.payment.paymentId,
      "--print",
      "status,out-trade-no,amount",
    );
    expect(byId.stdout).toBe("SUCCEEDED pm-1 12.34");
    const json = await paycode("payment", "get", ...server(), "--out-trade-no", "pm-1", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({
      outTradeNo: "pm-1",
      status: "PAYMENT_STATUS_SUCCEEDED",
    });

    const missing = await paycode("payment", "get", ...server(), "--out-trade-no", "nope");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^paycode: not_found: /);
    const neither = await paycode("payment", "get", ...server());
    expect(neither.status).toBe(2);
    expect(neither.stderr).toBe("paycode: give --payment-id ID or --out-trade-no NO\n");
  });

  it("refunds by order number, idempotently, then cancels (refunds the rest)", async () => {
    await merchant.pay({
      outTradeNo: "pm-2",
      amount: { currency: "CNY", amountMinor: 2_000n },
      code: wallet.onlineCode(),
    });
    const args = [
      "payment",
      "refund",
      ...server(),
      "--out-trade-no",
      "pm-2",
      "--amount",
      "5.00",
      "--out-refund-no",
      "rf-1",
    ];
    const first = await paycode(...args);
    expect(first).toMatchObject({ status: 0, stderr: "" });
    expect(first.stdout).toMatch(
      /^refund \S+ of 5\.00 CNY \(refund number rf-1\)\nSUCCEEDED .*\nrefunded: 5\.00 CNY\n/,
    );
    const again = await paycode(...args);
    expect(again.stdout.split("\n")[0]).toBe(first.stdout.split("\n")[0]);

    const cancel = await paycode("payment", "cancel", ...server(), "--out-trade-no", "pm-2");
    expect(cancel.status).toBe(0);
    expect(cancel.stdout).toMatch(/^REFUNDED .*order pm-2\n/);
    expect(cancel.stdout).toMatch(/refunded in full: 20\.00 CNY back to the payer$/);
  });

  it("cancels a payment that waits for the payer: closed, no money moved", async () => {
    const scanned = await merchant.rpc.scan({
      outTradeNo: "pm-3",
      amount: { currency: "CNY", amountMinor: 9_900n },
      code: wallet.onlineCode(),
      subject: "",
    });
    const pending = await paycode("payment", "get", ...server(), "--out-trade-no", "pm-3");
    expect(pending.stdout).toMatch(
      /^PENDING_CONFIRMATION .*\nwaiting for the payer's password until \S+Z\n/,
    );
    const r = await paycode(
      "payment",
      "cancel",
      ...server(),
      "--payment-id",
      scanned.payment!.paymentId,
      "--print",
      "status,action",
    );
    expect(r.stdout).toBe("CLOSED CLOSED");
  });
});

describe("paycode demo", () => {
  it("walks through the whole protocol in a few seconds and exits 0", async () => {
    const started = Date.now();
    const r = await runPaycode(["demo"], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Paycode demo: reference server on http:\/\/127\.0\.0\.1:\d+ /);
    for (const step of [
      /\[1\/9\] create a payer, a merchant and a terminal/,
      /wallet shows the code \d{4} \d{4} \d{4} \d{4} \d{2}/,
      /SUCCEEDED {2}payment \S+ {2}12\.34 CNY {2}order demo-order-1/,
      /issuer: PENDING_CONFIRMATION/,
      /confirmed by the payer/,
      /wallet shows a QR code with the text PC1:/,
      /ACCEPTED 4\.50 CNY/,
      /the same code again: REFUSED DUPLICATE/,
      /SETTLED 1/,
      /net +102\.50 CNY/,
      /payer balance 897\.50 CNY, merchant balance 102\.50 CNY/,
      /^done in \d+\.\d s\./m,
    ]) {
      expect(r.stdout).toMatch(step);
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe("paycode terminal on an issuer clock that is not the machine's", () => {
  it("learns the issuer clock at sync and accepts a code the wallet made on it", async () => {
    ts.clock.advance(5 * 86_400_000);
    try {
      const accountId = await ts.account(10_000n);
      const { merchantId } = await ts.merchant();
      const key = await ts.terminalKey(merchantId);
      const wallet = new WalletClient({
        store: new MemoryWalletStateStore(),
        transport: ts.transport(),
      });
      await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "t" });
      const journal = join(dir, "terminal-ahead.db");
      const sync = await paycode(
        "terminal",
        "sync",
        "--server",
        ts.url,
        "--api-key",
        key,
        "--journal",
        journal,
      );
      expect(sync.status).toBe(0);
      const r = await paycode(
        "terminal",
        "accept",
        wallet.offlineCode(),
        "--amount",
        "3.00",
        "--journal",
        journal,
      );
      expect(r.stdout).toMatch(/^ACCEPTED {2}3\.00 CNY/);
      const status = await paycode("terminal", "status", "--journal", journal);
      expect(status.stdout).toMatch(/^keys: synced \d+ s ago, fresh/);
    } finally {
      ts.clock.advance(-5 * 86_400_000);
    }
  });
});
