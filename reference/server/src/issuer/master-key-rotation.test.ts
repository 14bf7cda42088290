import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  PaymentStatus,
  ProvisionSeedRequestSchema,
  RecordOutcome,
  ScanRequestSchema,
  UploadOfflineBatchRequestSchema,
} from "@paycode/protocol/v1";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Store } from "../store/store.js";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { Issuer } from "./issuer.js";
import { rotateMasterKey } from "./master-key-rotation.js";
import { SeedVault } from "./seed-vault.js";
import { cny, IssuerFixture, MASTER_KEY, MemoryAudit, PASSWORD } from "./testing.js";

/**
 * [KEY-8] Master-key rotation re-seals every wallet seed and issuer private
 * key in one transaction: a failure midway changes nothing, and afterwards
 * provisioning, scans, uploads and certificate signing work under the new key.
 */
const pg = await createPostgresTestDb("master-key tests");
afterAll(() => pg?.drop());

const NEW_KEY = new Uint8Array(32).fill(0x6e);
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f.close();
});

/** Every sealed secret of the store, as bytes, by row. */
async function sealed(store: Store): Promise<Map<string, string>> {
  return store.read(async (tx) => {
    const out = new Map<string, string>();
    for (const w of await tx.listWalletSeedEnvelopes())
      out.set(`w:${w.id}`, Buffer.from(w.seedEnvelope).toString("hex"));
    for (const k of await tx.listIssuerKeys())
      out.set(`k:${k.keyId}`, Buffer.from(k.privateKeyEnvelope).toString("hex"));
    out.set("check", Buffer.from((await tx.getSetting("master_key_check"))!).toString("hex"));
    return out;
  });
}

async function openAll(store: Store, key: Uint8Array): Promise<number> {
  const vault = new SeedVault(key);
  return store.read(async (tx) => {
    let n = 0;
    for (const w of await tx.listWalletSeedEnvelopes()) {
      vault.open(w.seedEnvelope, `wallet-seed:${w.id}`);
      n++;
    }
    for (const k of await tx.listIssuerKeys()) {
      vault.open(k.privateKeyEnvelope, `issuer-key:${k.keyId}`);
      n++;
    }
    return n;
  });
}

const stores: [string, () => string | undefined][] = [
  ["SQLite", () => undefined],
  ["PostgreSQL", () => pg?.url],
];

for (const [name, url] of stores) {
  describe.skipIf(name === "PostgreSQL" && !pg)(`master-key rotation on ${name}`, () => {
    it("a failure midway, or a wrong old key, changes nothing", async () => {
      const f = await IssuerFixture.open(url() ? { url: url()! } : {});
      open.push(f);
      const w1 = await f.payer(10_000);
      await f.wallet(w1.accountId); // re-provisioned: the revoked wallet's seed is sealed too
      await f.payer(10_000);
      const before = await sealed(f.store);
      expect([...before.keys()].filter((k) => k.startsWith("w:")).length).toBeGreaterThanOrEqual(3);
      for (const failAt of [1, 2, 4]) {
        await expect(
          rotateMasterKey(f.store, MASTER_KEY, NEW_KEY, f.clock.now(), {
            afterEach: (done) => {
              if (done === failAt) throw new Error(`crash after ${done}`);
            },
          }),
        ).rejects.toThrow(`crash after ${failAt}`);
        expect(await sealed(f.store)).toEqual(before);
      }
      await expect(
        rotateMasterKey(f.store, new Uint8Array(32).fill(1), NEW_KEY, f.clock.now()),
      ).rejects.toThrow(/not the one this database is sealed under/);
      expect(await sealed(f.store)).toEqual(before);
      expect(await openAll(f.store, MASTER_KEY)).toBe(before.size - 1);
      await expect(openAll(f.store, NEW_KEY)).rejects.toThrow(/cannot decrypt/);
    });

    it("re-seals every secret; servers given the new key as an extra key keep working throughout", async () => {
      const audit = new MemoryAudit();
      const f = await IssuerFixture.open({ ...(url() ? { url: url()! } : {}), audit });
      open.push(f);
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(100_000);
      const cold = await f.payer(100_000);
      // Step 1 of a live rotation: a server that also holds the new key.
      const rotating = await Issuer.open({
        store: f.store,
        clock: f.clock,
        masterKey: MASTER_KEY,
        extraMasterKeys: [NEW_KEY],
      });
      open.push(rotating);
      const before = await sealed(f.store);
      const r = await rotateMasterKey(f.store, MASTER_KEY, NEW_KEY, f.clock.now(), { audit });
      const wallets = [...before.keys()].filter((k) => k.startsWith("w:")).length;
      expect(r).toEqual({ wallets, issuerKeys: 1 });
      const after = await sealed(f.store);
      for (const [row, hex] of before) expect(after.get(row), row).not.toBe(hex);
      expect(await openAll(f.store, NEW_KEY)).toBe(wallets + 1);
      await expect(openAll(f.store, MASTER_KEY)).rejects.toThrow(/cannot decrypt/);
      expect(audit.events.at(-1)).toMatchObject({
        type: "key.master.rotated",
        detail: { wallets, issuerKeys: 1 },
      });

      // The server holding both keys: cold seeds open, provisioning seals under the new key.
      const principal = await rotating.authenticateMerchant(m.apiKey);
      const scanVia = async (issuer: Issuer, code: string) =>
        (
          await issuer.scan(
            principal,
            create(ScanRequestSchema, {
              outTradeNo: f.nextId("o"),
              amount: cny(100),
              code,
              subject: "s",
            }),
          )
        ).payment!.status;
      expect(await scanVia(rotating, f.onlineCode(cold))).toBe(PaymentStatus.SUCCEEDED);
      expect(await scanVia(rotating, f.offlineCode(w))).toBe(PaymentStatus.SUCCEEDED);
      const provisionVia = (issuer: Issuer, accountId: string) =>
        issuer.provisionSeed(
          create(ProvisionSeedRequestSchema, {
            accountId,
            password: PASSWORD,
            walletPublicKey: w.keys.publicKey,
            deviceLabel: "new phone",
          }),
        );
      const viaRotating = await provisionVia(rotating, await f.account(1_000));
      expect(viaRotating.certificate?.issuerSignature.length).toBe(64);

      // The old-key-only server pays from the seeds it holds, refuses to seal under a retired key.
      expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
      await expect(provisionVia(f.issuer, await f.account(1_000))).rejects.toSatisfy(
        (e) => e instanceof ConnectError && e.code === Code.Unavailable,
      );

      // Step 3: a server with the new key alone provisions, signs certificates, takes scans and uploads.
      const next = await Issuer.open({ store: f.store, clock: f.clock, masterKey: NEW_KEY });
      open.push(next);
      const provisioned = await provisionVia(next, await f.account(1_000));
      expect(provisioned.certificate?.issuerSignature.length).toBe(64);
      expect(await scanVia(next, f.onlineCode(cold))).toBe(PaymentStatus.SUCCEEDED);
      const tp = await next.authenticateTerminal(
        (await next.issueApiKey({ kind: "terminal", id: t.terminalId })).apiKey,
      );
      const up = await next.uploadOfflineBatch(
        tp,
        create(UploadOfflineBatchRequestSchema, {
          batchId: "b-after-rotation",
          records: [f.record(f.offlineCode(cold), 100)],
        }),
      );
      expect(up.results[0]!.outcome).toBe(RecordOutcome.SETTLED);
      expect(await openAll(f.store, NEW_KEY)).toBe(wallets + 1 + 2);
      await f.expectLedgerBalanced();
      // Opening with the retired key alone is refused at start.
      await expect(
        Issuer.open({ store: f.store, clock: f.clock, masterKey: MASTER_KEY }),
      ).rejects.toThrow(/master key|decrypt/);
    });
  });
}
