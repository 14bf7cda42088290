// `paycode demo`: the whole protocol in one run, against an embedded server.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { OffsetClock } from "@paycode/protocol";
import { ConformanceService } from "@paycode/protocol/v1";
import {
  createPaycodeTransport,
  formatMoney,
  groupDigits,
  MemoryWalletStateStore,
  MerchantClient,
  OfflineTerminal,
  type PaycodeTransport,
  statusName,
  WalletClient,
} from "@paycode/sdk";
import { CliError } from "@paycode/sdk/cli";
import { Issuer, openStore, type PaycodeServer, silentLogger, startServer } from "@paycode/server";
import type { Command } from "commander";
import { createAccount } from "./admin.js";
import { run } from "./client-common.js";
import { describeResult } from "./scan.js";

const cny = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });
const PASSWORD = "demo password";

interface DemoOptions {
  keepServer?: boolean;
}

/** Registers `paycode demo`. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "a guided tour in a few seconds: embedded server, wallet, scans, step-up, offline terminal, report",
    )
    .option("--keep-server", "keep the embedded server running afterwards, until Ctrl-C")
    .addHelpText(
      "after",
      `
Starts a reference server on a free loopback port (temporary SQLite store,
test control on), then walks through what the other commands do by hand:
provision a wallet, pay with an online code, a payment over the
password-free limit that the payer confirms, an offline code accepted by a
terminal with no network, its upload, a refund and the settlement report.
Nothing waits for time to pass. The store is deleted at the end.`,
    )
    .action(run((opts: DemoOptions) => demo(opts)));
}

class Steps {
  private n = 0;
  constructor(private readonly total: number) {}
  step(title: string, command: string): void {
    this.n++;
    console.log();
    console.log(`[${this.n}/${this.total}] ${title}    (by hand: paycode ${command})`);
  }
}

function say(line: string): void {
  console.log(`      ${line}`);
}

async function demo(opts: DemoOptions): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "paycode-demo-"));
  const transports: PaycodeTransport[] = [];
  const open = (bearer?: string) => {
    const t = createPaycodeTransport({
      baseUrl: server.url,
      ...(bearer !== undefined ? { bearer } : {}),
      timeoutMs: 10_000,
    });
    transports.push(t);
    return t.transport;
  };
  const store = await openStore(`sqlite:${join(dir, "issuer.db")}`);
  const clock = new OffsetClock();
  let issuer: Issuer | undefined;
  let server!: PaycodeServer;
  let terminal: OfflineTerminal | undefined;
  try {
    issuer = await Issuer.open({
      store,
      clock,
      masterKey: randomBytes(32),
      advanceClock: (ms) => clock.advance(ms),
      // A demo account's password needs no production-strength hashing.
      passwordCostN: 2 ** 10,
    });
    server = await startServer({
      issuer,
      port: 0,
      enableTestControl: true,
      logger: silentLogger,
      closeGraceMs: 100,
    });
    console.log(
      `Paycode demo: reference server on ${server.url} (SQLite in ${dir}, test control on)`,
    );
    const s = new Steps(9);

    // 1. Provision: account, merchant, terminal through test control.
    s.step("create a payer, a merchant and a terminal", "admin … create");
    const tc = createClient(ConformanceService, open());
    const accountId = await createAccount(tc, {
      password: PASSWORD,
      balance: cny(100_000n),
      passwordFree: 5_000n,
      offlinePerPayment: 2_000n,
      offlineTotal: 10_000n,
    });
    say(
      `account ${accountId}: balance 1000.00 CNY, password-free up to 50.00 CNY, offline up to 20.00 CNY`,
    );
    const m = await tc.createMerchant({ name: "Demo Café" });
    say(`merchant ${m.merchantId} "Demo Café", API key ${m.apiKey}`);
    const t = await tc.createTerminal({ merchantId: m.merchantId });
    say(`terminal ${t.terminalId} (a bus validator of the merchant), API key ${t.apiKey}`);

    // 2. Wallet provisioning.
    s.step("provision the payer's wallet", "wallet provision");
    const wallet = new WalletClient({ store: new MemoryWalletStateStore(), transport: open() });
    const w = await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "demo phone" });
    say(`wallet ${w.walletId}, handle ${w.handle}; clock offset ${w.clockOffsetMs} ms`);
    say(
      `offline certificate: ${formatMoney(cny(w.certificate.perPaymentLimitMinor))} per payment, ` +
        `${formatMoney(cny(w.certificate.cumulativeLimitMinor))} in total`,
    );

    // 3. An online code, made with no network, charged by a till.
    s.step("pay 12.34 CNY with an online code", "wallet code; paycode scan");
    const merchant = new MerchantClient({ transport: open(m.apiKey), pollIntervalMs: 100 });
    const code1 = wallet.onlineCode();
    say(
      `wallet shows the code ${groupDigits(code1)} (made offline: HOTP of the seed and the minute)`,
    );
    const r1 = await merchant.pay({
      outTradeNo: "demo-order-1",
      amount: cny(1_234n),
      code: code1,
      subject: "coffee",
    });
    for (const line of describeResult(r1).split("\n")) say(line);

    // 4-5. Over the password-free limit: the payer confirms on the phone.
    s.step("pay 88.00 CNY: over the password-free limit", "scan");
    const code2 = wallet.onlineCode();
    say(`wallet shows the code ${groupDigits(code2)}`);
    const r2Promise = merchant.pay({
      outTradeNo: "demo-order-2",
      amount: cny(8_800n),
      code: code2,
      subject: "lunch for the team",
    });
    const pendingSeen = new Promise<string>((resolve, reject) => {
      const poll = async () => {
        for (let i = 0; i < 100; i++) {
          const info = await wallet.getWallet();
          const p = info.pendingPayments[0];
          if (p) return resolve(p.paymentId);
          await new Promise((r) => setTimeout(r, 50));
        }
        reject(new CliError("the payment never waited for confirmation"));
      };
      poll().catch(reject);
    });
    const pendingId = await pendingSeen;
    say(`issuer: PENDING_CONFIRMATION, payment ${pendingId}; the till polls and waits`);
    s.step("the payer confirms with the password", `wallet confirm ${pendingId}`);
    const info = await wallet.getWallet();
    const pending = info.pendingPayments[0]!;
    say(
      `phone shows: "${pending.subject}" ${formatMoney(pending.amount)}, confirm by ${new Date(timestampMs(pending.confirmDeadline!)).toISOString()}`,
    );
    const confirmed = await wallet.confirm(pendingId, PASSWORD);
    say(`confirmed: ${statusName(confirmed.status)}`);
    const r2 = await r2Promise;
    say(`till after ${r2.polls} poll(s):`);
    for (const line of describeResult(r2).split("\n")) say(`  ${line}`);

    // 6. Offline: terminal syncs keys, then accepts a signed code with no network.
    s.step(
      "offline: a terminal accepts a signed QR code",
      "terminal sync; wallet code --offline; terminal accept",
    );
    terminal = OfflineTerminal.open({
      journalPath: join(dir, "terminal.db"),
      transport: open(t.apiKey),
    });
    const synced = await terminal.sync();
    say(
      `terminal synced issuer keys (revocation list v${synced.revocationListVersion}); from now on it needs no network`,
    );
    const qr = wallet.offlineCode();
    say(`wallet shows a QR code with the text ${qr}`);
    const accepted = terminal.accept(qr, cny(450n));
    if (!accepted.accepted) {
      throw new CliError(`the terminal refused the offline code: ${accepted.reason}`);
    }
    const rec = accepted.record;
    say(
      `ACCEPTED 4.50 CNY from wallet ${rec.walletId} (counter ${rec.counter}), journaled as ${rec.recordId}`,
    );
    const again = terminal.accept(qr, cny(450n));
    say(`the same code again: ${again.accepted ? "ACCEPTED (wrong!)" : `REFUSED ${again.reason}`}`);

    // 7. Upload.
    s.step("the terminal is online again: upload", "terminal upload");
    const up = await terminal.upload();
    say(
      `uploaded ${up.records} record(s) in ${up.batches} batch(es): ${Object.entries(up.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );

    // 8. A partial refund.
    s.step("refund 2.34 CNY of the coffee", "payment refund");
    const refund = await merchant.refund({
      paymentId: r1.payment.paymentId,
      outRefundNo: "demo-refund-1",
      amount: cny(234n),
      reason: "no milk",
    });
    say(
      `refund ${refund.refund.refundId}: ${formatMoney(refund.refund.amount)}; payment now ${statusName(refund.payment.status)}, ${formatMoney(refund.payment.refunded)} refunded`,
    );

    // 9. Settlement report and balances.
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    s.step(`settlement report for ${today}`, "report");
    const report = await merchant.settlementReport(today, "CNY");
    const rows: [string, string, string][] = [
      ["online payments", String(report.paymentCount), formatMoney(report.paymentTotal)],
      ["offline settled", String(report.offlineCount), formatMoney(report.offlineTotal)],
      ["refunds", String(report.refundCount), `-${formatMoney(report.refundTotal)}`],
      ["net", "", formatMoney(report.netTotal)],
    ];
    for (const [label, count, total] of rows) {
      say(`${label.padEnd(16)} ${count.padStart(3)}  ${total.padStart(14)}`);
    }
    const payer = await tc.getBalance({ owner: { case: "accountId", value: accountId } });
    const shop = await tc.getBalance({ owner: { case: "merchantId", value: m.merchantId } });
    say(
      `payer balance ${formatMoney(payer.balance)}, merchant balance ${formatMoney(shop.balance)}`,
    );

    console.log();
    console.log(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s. Try the same by hand: README.md, "Try it by hand"; every command has --help.`,
    );
    if (opts.keepServer) {
      console.log(`server still on ${server.url} (test control on); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
    }
  } finally {
    terminal?.close();
    for (const tr of transports) tr.close();
    if (server !== undefined) await server.close();
    if (issuer !== undefined) await issuer.close();
    await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
