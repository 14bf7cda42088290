import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { GetIssuerKeysResponseSchema, RecordOutcome } from "@paycode/protocol/v1";
import {
  MemoryWalletStateStore,
  OfflineTerminal,
  PaycodeProtocolError,
  type UploadProgress,
  WalletClient,
} from "@paycode/sdk";
import { issuerKeysResponse } from "@paycode/sdk/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PASSWORD, TestServer } from "../testing/test-server.js";

const CNY = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });

let ts: TestServer;
let dir: string;
const terminals: OfflineTerminal[] = [];

beforeAll(async () => {
  ts = await TestServer.start();
});
afterAll(async () => {
  await ts.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-upload-"));
});
afterEach(() => {
  for (const t of terminals.splice(0)) t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function payer(balance = 100_000n) {
  const accountId = await ts.account(balance);
  const wallet = new WalletClient({
    store: new MemoryWalletStateStore(),
    clock: ts.clock,
    transport: ts.transport(),
  });
  await wallet.provision({ accountId, password: PASSWORD, deviceLabel: "phone" });
  return { accountId, wallet };
}

async function site() {
  const m = await ts.merchant();
  return { merchantId: m.merchantId, terminalKey: await ts.terminalKey(m.merchantId) };
}

function open(
  journal: string,
  key: string,
  o: { baseUrl?: string; maxAttempts?: number } = {},
): OfflineTerminal {
  const t = OfflineTerminal.open({
    journalPath: join(dir, journal),
    transport: ts.transport({ bearer: key, ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}) }),
    clock: ts.clock,
    sleep: async () => {},
    retry: { maxAttempts: o.maxAttempts ?? 3 },
  });
  terminals.push(t);
  return t;
}

describe("OfflineTerminal against the reference server", () => {
  it("syncs, accepts offline, uploads, and settles once", async () => {
    const p = await payer();
    const s = await site();
    const t = open("t.db", s.terminalKey);
    const st = await t.sync();
    expect(st).toMatchObject({
      keysFresh: true,
      keysSyncedAtMs: ts.clock.now(),
      revokedWallets: 0,
    });
    for (const amount of [100n, 200n, 300n]) {
      expect(t.accept(p.wallet.offlineCode(), CNY(amount)).accepted).toBe(true);
    }
    ts.clock.advance(3600_000); // uploads happen later; acceptance time is what counts
    const progress: UploadProgress[] = [];
    const summary = await t.upload({ batchSize: 2, onProgress: (x) => progress.push(x) });
    expect(summary).toEqual({ batches: 2, records: 3, outcomes: { SETTLED: 3 }, issuerLiable: 0 });
    expect(progress.map((x) => [x.recordsSent, x.recordsTotal, x.resumed])).toEqual([
      [2, 3, false],
      [3, 3, false],
    ]);
    expect(t.records().every((r) => r.outcome === RecordOutcome.SETTLED && r.paymentId)).toBe(true);
    expect(await ts.balance({ merchantId: s.merchantId })).toBe(600n);
    expect(await ts.balance({ accountId: p.accountId })).toBe(100_000n - 600n);
    expect(await t.upload()).toEqual({ batches: 0, records: 0, outcomes: {}, issuerLiable: 0 });
    expect(await ts.ledgerTotal()).toBe(0n);
  });

  it("resumes an interrupted upload with the same batch id and content after a restart", async () => {
    const p = await payer();
    const s = await site();
    const first = open("crash.db", s.terminalKey);
    await first.sync();
    for (const amount of [100n, 200n, 300n]) first.accept(p.wallet.offlineCode(), CNY(amount));
    first.close();

    const proxy = await ts.proxy();
    proxy.down = true;
    const offline = open("crash.db", s.terminalKey, { baseUrl: proxy.url, maxAttempts: 2 });
    await expect(offline.upload({ batchSize: 2 })).rejects.toThrow();
    const [interrupted] = offline.batches();
    expect(offline.batches()).toHaveLength(1);
    expect(interrupted!.completedAtMs).toBeUndefined();
    const inBatch = offline.records().filter((r) => r.batchId === interrupted!.batchId);
    expect(inBatch.map((r) => r.amountMinor)).toEqual([100n, 200n]);
    offline.close(); // the "crash"

    proxy.down = false;
    const resumed = open("crash.db", s.terminalKey, { baseUrl: proxy.url });
    expect(resumed.batches()[0]).toEqual(interrupted); // same id and the same stored request bytes
    const progress: UploadProgress[] = [];
    const summary = await resumed.upload({ batchSize: 2, onProgress: (x) => progress.push(x) });
    expect(progress[0]).toMatchObject({ batchId: interrupted!.batchId, resumed: true });
    expect(progress[1]).toMatchObject({ resumed: false });
    expect(summary.outcomes).toEqual({ SETTLED: 3 });
    expect(await ts.balance({ merchantId: s.merchantId })).toBe(600n);
  });

  it("gets the same results when a settled batch's answer was lost", async () => {
    const p = await payer();
    const s = await site();
    const proxy = await ts.proxy();
    const t = open("lost.db", s.terminalKey, { baseUrl: proxy.url, maxAttempts: 1 });
    await t.sync();
    t.accept(p.wallet.offlineCode(), CNY(400n));
    t.accept(p.wallet.offlineCode(), CNY(500n));
    proxy.dropResponses = 1; // the server settles, the terminal never hears
    await expect(t.upload()).rejects.toThrow();
    expect(await ts.balance({ merchantId: s.merchantId })).toBe(900n);
    const batchId = t.batches()[0]!.batchId;
    t.close();

    const again = open("lost.db", s.terminalKey, { baseUrl: proxy.url });
    const progress: UploadProgress[] = [];
    const summary = await again.upload({ onProgress: (x) => progress.push(x) });
    // Idempotent per batch: the stored results (SETTLED), not DUPLICATE, and no second transfer.
    expect(summary.outcomes).toEqual({ SETTLED: 2 });
    expect(progress).toEqual([expect.objectContaining({ batchId, resumed: true })]);
    expect(await ts.balance({ merchantId: s.merchantId })).toBe(900n);
    expect(await ts.balance({ accountId: p.accountId })).toBe(100_000n - 900n);
  });

  it("settles a code accepted at two terminals for both: the payer pays once, the issuer the other", async () => {
    const p = await payer();
    const s = await site();
    const a = open("a.db", s.terminalKey);
    const b = open("b.db", await ts.terminalKey(s.merchantId));
    await a.sync();
    await b.sync();
    const code = p.wallet.offlineCode();
    expect(a.accept(code, CNY(250n)).accepted).toBe(true);
    expect(b.accept(code, CNY(250n)).accepted).toBe(true);
    expect(await a.upload()).toMatchObject({ outcomes: { SETTLED: 1 }, issuerLiable: 0 });
    expect(await b.upload()).toMatchObject({ outcomes: { SETTLED: 1 }, issuerLiable: 1 });
    expect(await ts.balance({ accountId: p.accountId })).toBe(100_000n - 250n);
    expect(await ts.balance({ merchantId: s.merchantId })).toBe(500n);
  });

  it("refuses a wallet revoked before its sync; settles one revoked after it", async () => {
    const s = await site();
    const t = open("rev.db", s.terminalKey);
    const early = await payer();
    const late = await payer();
    const lateCode = late.wallet.offlineCode();
    await early.wallet.revoke("lost phone");
    await t.sync();
    expect(t.status().revokedWallets).toBeGreaterThanOrEqual(1);
    expect(t.accept(early.wallet.offlineCode(), CNY(100n))).toMatchObject({
      accepted: false,
      reason: "REVOKED",
      walletId: early.wallet.walletId,
    });
    expect(t.accept(lateCode, CNY(100n)).accepted).toBe(true);
    ts.clock.advance(1000);
    await late.wallet.revoke("revoked after the terminal synced");
    expect((await t.upload()).outcomes).toEqual({ SETTLED: 1 });
  });

  it("follows a newer revocation list and refuses an older one than it holds", async () => {
    const s = await site();
    const t = open("ver.db", s.terminalKey);
    await t.sync();
    const held = t.status().revocationListVersion!;
    const p = await payer();
    await p.wallet.revoke();
    await t.sync();
    const newer = t.status().revocationListVersion!;
    expect(newer).toBeGreaterThan(held);
    // A journal that has seen a later list (say, from a server later restored from backup).
    const ahead = issuerKeysResponse({ version: newer + 100n, generatedAtMs: ts.clock.now() });
    t.journal.setMeta("issuer_keys", toBinary(GetIssuerKeysResponseSchema, ahead));
    t.close();
    const reopened = open("ver.db", s.terminalKey);
    await expect(reopened.sync()).rejects.toThrow(PaycodeProtocolError);
    await expect(reopened.sync()).rejects.toThrow(/older than the one held/);
    expect(reopened.status().revocationListVersion).toBe(newer + 100n);
  });
});
