import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { type Client, createClient } from "@connectrpc/connect";
import { allCases, runSuite } from "@paycode/conformance";
import {
  ConformanceService,
  DeclineReason,
  MerchantService,
  PaymentStatus,
} from "@paycode/protocol/v1";
import {
  createPaycodeTransport,
  JsonFileWalletStateStore,
  OfflineTerminal,
  WalletClient,
} from "@paycode/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paycodeInProcess as paycode } from "../testing/in-process-cli.js";
import { type EmbeddedTarget, startEmbeddedTarget } from "./reference-target.js";

/**
 * Clock hygiene of clients: after a conformance run (or anyone with test
 * control) moved or set the issuer clock, a wallet that syncs (GetWallet,
 * `paycode wallet sync`) makes codes that pay again.
 */
describe("a wallet follows an issuer clock that was moved or set", () => {
  let target: EmbeddedTarget;
  let dir: string;
  let pt: ReturnType<typeof createPaycodeTransport>;
  let control: Client<typeof ConformanceService>;
  let scan: (code: string) => Promise<{ status: PaymentStatus; declineReason: DeclineReason }>;

  beforeAll(async () => {
    target = await startEmbeddedTarget({ fastPasswords: true });
    dir = mkdtempSync(join(tmpdir(), "paycode-resync-"));
    pt = createPaycodeTransport({ baseUrl: target.url, httpVersion: "1.1" });
    control = createClient(ConformanceService, pt.transport);
    const { apiKey } = await control.createMerchant({ name: "resync" });
    const merchant = createClient(MerchantService, pt.transport);
    let n = 0;
    scan = async (code) => {
      const r = await merchant.scan(
        {
          code,
          amount: { currency: "CNY", amountMinor: 100n },
          outTradeNo: `resync-${n++}`,
          subject: "resync",
        },
        { headers: { authorization: `Bearer ${apiKey}` } },
      );
      return { status: r.payment!.status, declineReason: r.payment!.declineReason };
    };
  });
  afterAll(async () => {
    pt?.close();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function provisionedWallet(name: string): Promise<{ wallet: WalletClient; state: string }> {
    const { accountId } = await control.createAccount({
      password: "pw",
      balance: { currency: "CNY", amountMinor: 100_000n },
    });
    const state = join(dir, `${name}.json`);
    const wallet = new WalletClient({
      store: new JsonFileWalletStateStore(state),
      transport: pt.transport,
    });
    await wallet.provision({ accountId, password: "pw", deviceLabel: name });
    return { wallet, state };
  }

  it("AdvanceClock by two days: codes fail until `paycode wallet sync`, then pay", async () => {
    const { wallet, state } = await provisionedWallet("advanced");
    expect((await scan(wallet.onlineCode())).status).toBe(PaymentStatus.SUCCEEDED);
    await control.advanceClock({ seconds: 2 * 86_400 });
    const stale = await scan(wallet.onlineCode());
    expect(stale.status).toBe(PaymentStatus.DECLINED);
    const r = await paycode("wallet", "sync", "--server", target.url, "--state", state);
    expect(r).toMatchObject({ status: 0, stderr: "" });
    const m = /^clock offset: (-?\d+) ms \(issuer minus this machine; was (-?\d+) ms\)$/m.exec(
      r.stdout,
    );
    expect(Number(m?.[1]) - Number(m?.[2])).toBeGreaterThan(2 * 86_400_000 - 60_000);
    const synced = new WalletClient({ store: new JsonFileWalletStateStore(state) });
    expect((await scan(synced.onlineCode())).status).toBe(PaymentStatus.SUCCEEDED);
  });

  it("SetClock a day ahead, running: GetWallet re-syncs the offset and codes pay", async () => {
    const { wallet } = await provisionedWallet("set");
    const caps = await control.getCapabilities({});
    const ahead = timestampMs(caps.now!) + 86_400_000 + 12_345;
    await control.setClock({ now: timestampFromMs(ahead), frozen: false });
    expect((await scan(wallet.onlineCode())).status).toBe(PaymentStatus.DECLINED);
    const before = wallet.clockOffsetMs;
    const w = await wallet.getWallet();
    expect(w.serverTime).toBeDefined();
    expect(wallet.clockOffsetMs - before).toBeGreaterThan(86_400_000 - 60_000);
    expect((await scan(wallet.onlineCode())).status).toBe(PaymentStatus.SUCCEEDED);
  });

  it("a terminal that follows the issuer clock accepts a synced wallet's offline code after SetClock", async () => {
    const { wallet } = await provisionedWallet("terminal");
    const m = await control.createMerchant({ name: "terminal" });
    const { apiKey } = await control.createTerminal({ merchantId: m.merchantId });
    const caps = await control.getCapabilities({});
    await control.setClock({
      now: timestampFromMs(timestampMs(caps.now!) + 6 * 3_600_000),
      frozen: false,
    });
    await wallet.sync();
    const tpt = createPaycodeTransport({ baseUrl: target.url, httpVersion: "1.1", bearer: apiKey });
    const open = (name: string, followIssuerClock: boolean) =>
      OfflineTerminal.open({
        journalPath: join(dir, `${name}.db`),
        transport: tpt.transport,
        followIssuerClock,
      });
    const own = open("own-clock", false);
    const follows = open("follows", true);
    try {
      await own.sync();
      const s = await follows.sync();
      expect(s.clockOffsetMs).toBeGreaterThan(6 * 3_600_000 - 60_000);
      const code = wallet.offlineCode();
      // On its own clock the terminal sees the code as made hours ahead, and its keys as from the future.
      expect(own.accept(code, { currency: "CNY", amountMinor: 100n }).accepted).toBe(false);
      expect(
        follows.accept(wallet.offlineCode(), { currency: "CNY", amountMinor: 100n }),
      ).toMatchObject({
        accepted: true,
      });
      // The offset is kept in the journal: a terminal reopened offline still follows the issuer.
      follows.close();
      const reopened = open("follows", true);
      expect(reopened.status().clockOffsetMs).toBe(s.clockOffsetMs);
      reopened.close();
    } finally {
      own.close();
      tpt.close();
    }
  });

  it("after a conformance run (which sets the clock and puts it back) a synced wallet's codes pay", async () => {
    const { wallet } = await provisionedWallet("after-run");
    const report = await runSuite({
      target: target.url,
      cases: allCases,
      run: ["test-control/*", "over-limit/daily-reset-edges-frozen"],
      parallel: 4,
    });
    expect(report.cases.filter((c) => c.status !== "passed")).toEqual([]);
    const caps = await control.getCapabilities({});
    expect(caps.clockFrozen).toBe(false);
    const r = await wallet.sync();
    expect(r.synced).toBe(true);
    expect((await scan(wallet.onlineCode())).status).toBe(PaymentStatus.SUCCEEDED);
    expect((await scan(wallet.onlineCode())).declineReason).toBe(DeclineReason.UNSPECIFIED);
  });
});
