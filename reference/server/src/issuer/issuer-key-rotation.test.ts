import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OfflineCodeVerifier } from "@paycode/protocol";
import {
  type GetIssuerKeysResponse,
  PaymentStatus,
  ProvisionSeedRequestSchema,
  RecordOutcome,
  SetClockRequestSchema,
  UploadOfflineBatchRequestSchema,
  WalletCertificateBodySchema,
} from "@paycode/protocol/v1";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { Issuer } from "./issuer.js";
import { KEY_REFRESH_MS, rotateIssuerKey } from "./issuer-keys.js";
import type { MutantName } from "./mutants.js";
import { SeedVault } from "./seed-vault.js";
import { IssuerFixture, MASTER_KEY, MemoryAudit, PASSWORD, type TestWallet } from "./testing.js";

/**
 * Issuer signing-key rotation: [KEY-5] the next key is listed at least
 * max_key_age_seconds before it signs; [KEY-6] / [SETTLE-1] the old key
 * keeps verifying, and stays listed, until the certificates it signed
 * expire; running servers pick the rotation up without a restart.
 */
const pg = await createPostgresTestDb("issuer-key rotation tests");
afterAll(() => pg?.drop());

const DAY = 86_400_000;
const MAX_KEY_AGE = DAY;
const LEAD = MAX_KEY_AGE + KEY_REFRESH_MS;
const BACKDATE = 300_000;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f.close();
});

async function fixture(url: string | undefined, mutant?: MutantName) {
  const audit = new MemoryAudit();
  const f = await IssuerFixture.open({ ...(url ? { url } : {}), audit, mutant });
  open.push(f);
  return { f, audit };
}

const listed = (r: GetIssuerKeysResponse) => r.keys.map((k) => k.keyId).sort();
const ids = (...keyIds: string[]) => keyIds.sort();

/** A terminal's view: verifies an offline code against the keys of its last sync. */
function terminalAccepts(keys: GetIssuerKeysResponse, code: string, nowMs: number): boolean {
  const verifier = new OfflineCodeVerifier({
    keys: keys.keys.map((k) => ({
      keyId: k.keyId,
      publicKey: k.publicKey,
      notBefore: Number(k.notBefore),
      notAfter: Number(k.notAfter),
    })),
    validitySeconds: keys.profile!.offlineCodeValiditySeconds,
    clockSkewSeconds: keys.profile!.offlineClockSkewSeconds,
  });
  const v = verifier.verify(code, {
    nowSeconds: Math.floor(nowMs / 1000),
    amountMinor: 100n,
    currency: "CNY",
  });
  return v.result === "valid";
}

async function provisionKey(issuer: Issuer, w: TestWallet): Promise<string> {
  const r = await issuer.provisionSeed(
    create(ProvisionSeedRequestSchema, {
      accountId: w.accountId,
      password: PASSWORD,
      walletPublicKey: w.keys.publicKey,
      deviceLabel: "phone",
    }),
  );
  return r.certificate!.issuerKeyId;
}

const stores: [string, () => string | undefined][] = [
  ["SQLite", () => undefined],
  ["PostgreSQL", () => pg?.url],
];

for (const [name, url] of stores) {
  describe.skipIf(name === "PostgreSQL" && !pg)(`issuer signing-key rotation on ${name}`, () => {
    it("lists the next key a max key age ahead, switches without restart, and old certificates keep paying and settling", async () => {
      const { f, audit } = await fixture(url());
      const peer = await Issuer.open({ store: f.store, clock: f.clock, masterKey: MASTER_KEY });
      open.push(peer);
      const m = await f.merchant();
      const t = await f.terminal(m);
      const old = await f.payer(1_000_000);
      const oldKey = old.provision.certificate!.issuerKeyId;
      const spare = await f.payer(1_000_000);

      const r = await f.issuer.rotateIssuerKey();
      expect(r.notBefore).toBeGreaterThanOrEqual(f.clock.now() + LEAD);
      expect(r.retiring.map((k) => k.keyId)).toEqual([oldKey]);
      expect(audit.events.at(-1)).toMatchObject({
        type: "key.issuer.rotated",
        detail: { keyId: r.keyId },
      });
      // [KEY-5] Listed at once here, and by the peer within KEY_REFRESH_MS.
      expect(listed(await f.issuer.getIssuerKeys(t))).toEqual(ids(oldKey, r.keyId));
      f.clock.advance(KEY_REFRESH_MS);
      expect(listed(await peer.getIssuerKeys(t))).toEqual(ids(oldKey, r.keyId));
      const syncedEarly = await peer.getIssuerKeys(t);

      // Until the new key takes over, both servers sign with the old one.
      const takeover = r.notBefore + BACKDATE;
      f.clock.advance(takeover - 1 - f.clock.now());
      expect(await provisionKey(f.issuer, spare)).toBe(oldKey);
      expect(await provisionKey(peer, spare)).toBe(oldKey);
      f.clock.advance(1);
      expect(await provisionKey(f.issuer, spare)).toBe(r.keyId);
      expect(await provisionKey(peer, spare)).toBe(r.keyId);
      // Every sync after the rotation had the new key for at least max_key_age.
      expect(
        f.clock.now() - Number(syncedEarly.generatedAt!.seconds) * 1000,
      ).toBeGreaterThanOrEqual(MAX_KEY_AGE);
      const fresh = await f.wallet(spare.accountId);
      expect(fresh.provision.certificate!.issuerKeyId).toBe(r.keyId);
      // A terminal that synced before the switch accepts the new wallet's code.
      expect(terminalAccepts(syncedEarly, f.offlineCode(fresh), f.clock.now())).toBe(true);

      // [KEY-6] The old certificate keeps verifying at terminals, paying at Scan and settling.
      const tp = t;
      for (const issuer of [f.issuer, peer]) {
        const keys = await issuer.getIssuerKeys(tp);
        expect(listed(keys)).toContain(oldKey);
        expect(terminalAccepts(keys, f.offlineCode(old), f.clock.now())).toBe(true);
      }
      expect((await f.scan(m, f.offlineCode(old), 100)).status).toBe(PaymentStatus.SUCCEEDED);
      const up = await peer.uploadOfflineBatch(
        tp,
        create(UploadOfflineBatchRequestSchema, {
          batchId: "b1",
          records: [f.record(f.offlineCode(old), 100), f.record(f.offlineCode(fresh), 100)],
        }),
      );
      expect(up.results.map((x) => x.outcome)).toEqual([
        RecordOutcome.SETTLED,
        RecordOutcome.SETTLED,
      ]);
      // Just before the old certificate expires it still pays; the old key is still listed.
      const oldCertEnd =
        Number(fromBinary(WalletCertificateBodySchema, old.provision.certificate!.body).notAfter) *
        1000;
      f.clock.advance(oldCertEnd - 120_000 - f.clock.now());
      expect(listed(await peer.getIssuerKeys(tp))).toContain(oldKey);
      expect((await f.scan(m, f.offlineCode(old), 100)).status).toBe(PaymentStatus.SUCCEEDED);
      // Once every certificate the old key could have signed expired, it is no longer listed.
      const oldKeyEnd = r.retiring[0]!.notAfter + 30 * DAY;
      f.clock.advance(oldKeyEnd + 1_000 - f.clock.now());
      expect(listed(await peer.getIssuerKeys(tp))).toEqual([r.keyId]);
      await f.expectLedgerBalanced();
    });

    it("a rotation made through the store alone (the operator command) reaches a running issuer", async () => {
      const { f } = await fixture(url());
      const t = await f.terminal(await f.merchant());
      const before = listed(await f.issuer.getIssuerKeys(t));
      const r = await rotateIssuerKey(f.store, new SeedVault(MASTER_KEY), f.clock.now(), LEAD);
      f.clock.advance(KEY_REFRESH_MS);
      expect(listed(await f.issuer.getIssuerKeys(t))).toEqual(ids(...before, r.keyId));
    });
  });
}

describe("issuer-key rotation and a clock set back", () => {
  it("re-reads the keys when test control sets the clock back before the switch", async () => {
    const { f } = await fixture(undefined);
    const w = await f.payer(1_000);
    const oldKey = w.provision.certificate!.issuerKeyId;
    const before = f.clock.now();
    const r = await f.issuer.rotateIssuerKey();
    f.clock.advance(r.notBefore + BACKDATE - before);
    expect(await provisionKey(f.issuer, w)).toBe(r.keyId);
    await f.issuer.control.setClock(
      create(SetClockRequestSchema, { now: timestampFromMs(before), frozen: true }),
    );
    expect(await provisionKey(f.issuer, w)).toBe(oldKey);
  });
});

describe("issuer-key rotation mutants", () => {
  it("sign-with-new-key-at-once signs with the key just listed [KEY-5]", async () => {
    const { f } = await fixture(undefined, "sign-with-new-key-at-once");
    const w = await f.payer(1_000);
    const r = await f.issuer.rotateIssuerKey();
    expect(await provisionKey(f.issuer, w)).toBe(r.keyId);
  });

  it("drop-retired-issuer-key forgets the old key while its certificates are valid [KEY-6]", async () => {
    const { f } = await fixture(undefined, "drop-retired-issuer-key");
    const m = await f.merchant();
    const t = await f.terminal(m);
    const w = await f.payer(1_000);
    await f.issuer.rotateIssuerKey();
    expect(listed(await f.issuer.getIssuerKeys(t))).not.toContain(
      w.provision.certificate!.issuerKeyId,
    );
    expect((await f.scan(m, f.offlineCode(w), 100)).status).toBe(PaymentStatus.DECLINED);
  });
});
