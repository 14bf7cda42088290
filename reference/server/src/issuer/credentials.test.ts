import { Code, ConnectError } from "@connectrpc/connect";
import { PaymentStatus, RecordOutcome } from "@paycode/protocol/v1";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { revokeApiKey, rotateApiKey } from "./credentials.js";
import { Issuer } from "./issuer.js";
import type { MutantName } from "./mutants.js";
import { IssuerFixture, MASTER_KEY, MemoryAudit } from "./testing.js";

/**
 * Issue 9 part 3, merchant and terminal API keys: [KEY-1] revocation,
 * [KEY-2] several keys at once, [KEY-3] the grace deadline of a rotation,
 * on both stores, with payments flowing throughout.
 */
const pg = await createPostgresTestDb("credential tests");
afterAll(() => pg?.drop());

const open: IssuerFixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function fixture(
  url: string | undefined,
  o: { mutant?: MutantName; principalCacheTtlMs?: number } = {},
) {
  const audit = new MemoryAudit();
  const f = await IssuerFixture.open({ ...(url ? { url } : {}), ...o, audit });
  open.push(f);
  return { f, audit };
}

async function refused(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (e) {
    if (e instanceof ConnectError && e.code === Code.Unauthenticated) return true;
    throw e;
  }
}

const stores: [string, () => string | undefined][] = [
  ["SQLite", () => undefined],
  ["PostgreSQL", () => pg?.url],
];

for (const [name, url] of stores) {
  describe.skipIf(name === "PostgreSQL" && !pg)(`API key lifecycle on ${name}`, () => {
    it("[KEY-2] [KEY-3] rotates merchant and terminal keys while scans and uploads go on, refusing none that should pass", async () => {
      const { f, audit } = await fixture(url(), { principalCacheTtlMs: 30_000 });
      const m = await f.merchant();
      const t = await f.terminalWithKey(m);
      const w = await f.payer(1_000_000);
      let merchantKeys = [m.apiKey];
      let terminalKeys = [t.apiKey];
      let paid = 0;
      let settled = 0;
      // Pays with every key currently valid: each scan and upload must pass.
      const payWithEach = async () => {
        for (const key of merchantKeys) {
          const principal = await f.issuer.authenticateMerchant(key);
          const p = await f.scan({ ...m, principal }, f.onlineCode(w), 100);
          expect(p.status).toBe(PaymentStatus.SUCCEEDED);
          paid++;
        }
        for (const key of terminalKeys) {
          const principal = await f.issuer.authenticateTerminal(key);
          const r = await f.upload(principal, [f.record(f.offlineCode(w), 50)]);
          expect(r.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
          settled++;
        }
      };
      await payWithEach();
      const mr = await f.issuer.rotateApiKey({ kind: "merchant", id: m.merchantId }, 600_000);
      const tr = await f.issuer.rotateApiKey({ kind: "terminal", id: t.terminalId }, 600_000);
      expect(mr.retiring).toEqual([`ak-${m.merchantId}`]);
      expect(tr.retiring).toEqual([`ak-${t.terminalId}`]);
      merchantKeys = [m.apiKey, mr.apiKey];
      terminalKeys = [t.apiKey, tr.apiKey];
      // Through the grace period both keys work, on a cold cache and a warm one.
      for (let i = 0; i < 3; i++) {
        await payWithEach();
        f.clock.advance(199_999);
      }
      // 1 ms before the deadline the old keys still work ...
      f.clock.advance(600_000 - 3 * 199_999 - 1);
      await payWithEach();
      // ... and from the deadline on they are refused, although cached.
      f.clock.advance(1);
      expect(await refused(f.issuer.authenticateMerchant(m.apiKey))).toBe(true);
      expect(await refused(f.issuer.authenticateTerminal(t.apiKey))).toBe(true);
      merchantKeys = [mr.apiKey];
      terminalKeys = [tr.apiKey];
      await payWithEach();
      expect(paid).toBe(1 + 2 * 4 + 1);
      expect(settled).toBe(paid);
      await f.expectLedgerBalanced();
      // Audit: who and which key ids, never key material.
      const rotated = audit.events.filter((e) => e.type === "credential.rotated");
      expect(rotated.map((e) => e.subject)).toEqual([
        { kind: "merchant", id: m.merchantId },
        { kind: "terminal", id: t.terminalId },
      ]);
      const text = JSON.stringify(audit.events);
      for (const secret of [m.apiKey, t.apiKey, mr.apiKey, tr.apiKey]) {
        expect(text).not.toContain(secret);
      }
    });

    it("[KEY-1] a revoked key is refused at once by the issuer that revoked it, and by another server within its cache TTL", async () => {
      const { f, audit } = await fixture(url(), { principalCacheTtlMs: 30_000 });
      const peer = await Issuer.open({
        store: f.store,
        clock: f.clock,
        masterKey: MASTER_KEY,
        principalCacheTtlMs: 30_000,
      });
      try {
        const m = await f.merchant();
        const extra = await f.issuer.issueApiKey({ kind: "merchant", id: m.merchantId });
        // [KEY-2] Issuing a key leaves the first one valid.
        await f.issuer.authenticateMerchant(m.apiKey);
        // The peer caches the key now.
        f.clock.advance(10_000);
        await peer.authenticateMerchant(extra.apiKey);
        expect(await f.issuer.revokeApiKey(extra.keyId)).toBe(true);
        expect(await f.issuer.revokeApiKey(extra.keyId)).toBe(false);
        expect(await refused(f.issuer.authenticateMerchant(extra.apiKey))).toBe(true);
        // The peer cannot be told: its cache entry lives out its TTL, no longer.
        f.clock.advance(29_999);
        await peer.authenticateMerchant(extra.apiKey);
        f.clock.advance(1);
        expect(await refused(peer.authenticateMerchant(extra.apiKey))).toBe(true);
        // The other key is untouched.
        await peer.authenticateMerchant(m.apiKey);
        await f.issuer.authenticateMerchant(m.apiKey);
        // (Test control's own credential.created events are not this test's.)
        const changes = audit.events.filter((e) => e.type !== "credential.created");
        expect(changes.map((e) => [e.type, e.detail?.keyId])).toEqual([
          ["credential.issued", extra.keyId],
          ["credential.revoked", extra.keyId],
        ]);
      } finally {
        await peer.close();
      }
    });

    it("[KEY-1] an operator revocation through the store alone reaches a running issuer within its TTL", async () => {
      const { f } = await fixture(url(), { principalCacheTtlMs: 5_000 });
      const m = await f.merchant();
      const t = await f.terminalWithKey(m);
      await f.issuer.authenticateTerminal(t.apiKey);
      await revokeApiKey(f.store, `ak-${t.terminalId}`, f.clock.now());
      f.clock.advance(5_000);
      expect(await refused(f.issuer.authenticateTerminal(t.apiKey))).toBe(true);
      // A rotation with no grace retires the old key at once.
      const r = await rotateApiKey(
        f.store,
        { kind: "merchant", id: m.merchantId },
        f.clock.now(),
        0,
      );
      f.clock.advance(5_000);
      expect(await refused(f.issuer.authenticateMerchant(m.apiKey))).toBe(true);
      expect((await f.issuer.authenticateMerchant(r.apiKey)).merchantId).toBe(m.merchantId);
      // A merchant key is no terminal key, and the other way round.
      expect(await refused(f.issuer.authenticateTerminal(r.apiKey))).toBe(true);
    });

    it("[KEY-2] scans in flight while the key rotates all pass, with old and new key alike", async () => {
      const { f } = await fixture(url(), { principalCacheTtlMs: 30_000 });
      const m = await f.merchant();
      const payers = await Promise.all(Array.from({ length: 4 }, () => f.payer(100_000)));
      const scanWith = async (key: string, w: (typeof payers)[number]) => {
        const principal = await f.issuer.authenticateMerchant(key);
        return (await f.scan({ ...m, principal }, f.onlineCode(w), 100)).status;
      };
      const rotation = f.issuer.rotateApiKey({ kind: "merchant", id: m.merchantId }, 60_000);
      const during = payers.flatMap((w) => [scanWith(m.apiKey, w), scanWith(m.apiKey, w)]);
      const r = await rotation;
      const after = payers.map((w) => scanWith(r.apiKey, w));
      const alsoOld = payers.map((w) => scanWith(m.apiKey, w));
      const statuses = await Promise.all([...during, ...after, ...alsoOld]);
      expect(statuses).toEqual(statuses.map(() => PaymentStatus.SUCCEEDED));
      await f.expectLedgerBalanced();
    });

    it("unknown owners and key ids are not_found", async () => {
      const { f } = await fixture(url());
      await expect(f.issuer.issueApiKey({ kind: "merchant", id: "m_nope" })).rejects.toThrow(
        /not found/,
      );
      await expect(f.issuer.revokeApiKey("ak_nope")).rejects.toThrow(/not found/);
    });
  });
}

describe("accept-revoked-api-key mutant [KEY-1]", () => {
  it("still authenticates a revoked key (the checks above catch it)", async () => {
    const { f } = await fixture(undefined, { mutant: "accept-revoked-api-key" });
    const m = await f.merchant();
    await f.issuer.revokeApiKey(`ak-${m.merchantId}`);
    expect((await f.issuer.authenticateMerchant(m.apiKey)).merchantId).toBe(m.merchantId);
  });
});
