import { create } from "@bufbuild/protobuf";
import { OnlineCodec, stepOf } from "@paycode/protocol";
import {
  DeclineReason,
  type IssuerProfile,
  PaymentStatus,
  ProvisionSeedRequestSchema,
  type ProvisionSeedResponse,
  ScanRequestSchema,
} from "@paycode/protocol/v1";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { rotateCodeKey } from "./code-key.js";
import { Issuer } from "./issuer.js";
import type { MerchantPrincipal } from "./issuer-api.js";
import { KEY_REFRESH_MS } from "./issuer-keys.js";
import {
  cny,
  IssuerFixture,
  MASTER_KEY,
  MemoryAudit,
  PASSWORD,
  type TestWallet,
} from "./testing.js";

/**
 * [KEY-9] K_code rotation with a profile version: codes under the previous
 * K_code pay until the transition ends, on every server, and never twice;
 * re-provisioned wallets get the new key and version; after the deadline
 * old codes decline as under any unknown key.
 */
const pg = await createPostgresTestDb("code-key rotation tests");
afterAll(() => pg?.drop());

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f.close();
});

const DAY = 86_400_000;

/** Makes online codes of one provisioned wallet under the profile it was given. */
class Phone {
  private readonly codec: OnlineCodec;
  private counter = 0;
  constructor(
    readonly provision: ProvisionSeedResponse,
    private readonly clock: { now(): number },
  ) {
    const p = provision.profile as IssuerProfile;
    this.codec = new OnlineCodec({
      prefix: p.issuerPrefix,
      codeKey: p.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    });
  }
  code(): string {
    return this.codec.generate({
      handle: this.provision.handle,
      seed: this.provision.seed,
      step: stepOf(Math.floor(this.clock.now() / 1000)),
      counter: this.counter++ % 16,
    });
  }
}

async function provision(issuer: Issuer, w: TestWallet): Promise<ProvisionSeedResponse> {
  return issuer.provisionSeed(
    create(ProvisionSeedRequestSchema, {
      accountId: w.accountId,
      password: PASSWORD,
      walletPublicKey: w.keys.publicKey,
      deviceLabel: "phone",
    }),
  );
}

async function scan(issuer: Issuer, m: MerchantPrincipal, code: string) {
  const r = await issuer.scan(
    m,
    create(ScanRequestSchema, {
      outTradeNo: `o-${Math.random().toString(36).slice(2)}`,
      amount: cny(100),
      code,
      subject: "s",
    }),
  );
  return r.payment!;
}

const stores: [string, () => string | undefined][] = [
  ["SQLite", () => undefined],
  ["PostgreSQL", () => pg?.url],
];

for (const [name, url] of stores) {
  describe.skipIf(name === "PostgreSQL" && !pg)(`code-key rotation on ${name}`, () => {
    it("old-profile codes pay through the transition on every server, never twice; new profiles carry the new key and version", async () => {
      const audit = new MemoryAudit();
      const f = await IssuerFixture.open({ ...(url() ? { url: url()! } : {}), audit });
      open.push(f);
      const peer = await Issuer.open({ store: f.store, clock: f.clock, masterKey: MASTER_KEY });
      open.push(peer);
      const m = await f.merchant();
      const mp = await peer.authenticateMerchant(m.apiKey);
      const w = await f.payer(1_000_000);
      const oldPhone = new Phone(w.provision, f.clock);
      const v1 = w.provision.profile!;
      expect(v1.codeKeyVersion).toBeGreaterThanOrEqual(1);

      // The operator command, through the store alone; servers see it within KEY_REFRESH_MS.
      const r = await rotateCodeKey(f.store, f.clock.now(), DAY, audit);
      expect(r.version).toBe(v1.codeKeyVersion + 1);
      expect(audit.events.at(-1)).toMatchObject({ type: "key.code.rotated" });
      expect(JSON.stringify(audit.events)).not.toContain(Buffer.from(v1.codeKey).toString("hex"));
      f.clock.advance(KEY_REFRESH_MS);
      for (const issuer of [f.issuer, peer]) {
        const caps = await issuer.control.getCapabilities();
        expect(caps.profile!.codeKeyVersion).toBe(r.version);
        expect(Buffer.from(caps.profile!.codeKey).equals(Buffer.from(v1.codeKey))).toBe(false);
      }
      // Old-profile codes pay on both servers, and a code pays once only.
      const code = oldPhone.code();
      expect((await scan(f.issuer, m.principal, code)).status).toBe(PaymentStatus.SUCCEEDED);
      const again = await scan(peer, mp, code);
      expect(again.status).toBe(PaymentStatus.DECLINED);
      expect(again.declineReason).toBe(DeclineReason.CODE_REUSED);
      expect((await scan(peer, mp, oldPhone.code())).status).toBe(PaymentStatus.SUCCEEDED);

      // Re-provisioning gives the new profile; its codes pay everywhere.
      const fresh = await provision(peer, w);
      expect(fresh.profile!.codeKeyVersion).toBe(r.version);
      const newPhone = new Phone(fresh, f.clock);
      expect((await scan(f.issuer, m.principal, newPhone.code())).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
      // A wallet provisioned after the rotation has the new profile from the start.
      const other = await f.payer(1_000_000);
      expect(other.provision.profile!.codeKeyVersion).toBe(r.version);
      // Up to the deadline, exclusive, old-profile codes still decode (this
      // device was replaced by re-provisioning, so it is WALLET_REVOKED) ...
      f.clock.advance(r.previousUntil - f.clock.now() - 1);
      const lastCall = await scan(peer, mp, oldPhone.code());
      expect(lastCall.declineReason).toBe(DeclineReason.WALLET_REVOKED);
      // ... and from the deadline on they are CODE_INVALID.
      f.clock.advance(1);
      const after = await scan(peer, mp, oldPhone.code());
      expect(after.status).toBe(PaymentStatus.DECLINED);
      // As any code under an unknown K_code: MALFORMED when it decrypts to P ≥ 2^53 (§6.1 step 2), else INVALID.
      expect([DeclineReason.CODE_INVALID, DeclineReason.CODE_MALFORMED]).toContain(
        after.declineReason,
      );
      expect((await scan(peer, mp, newPhone.code())).status).toBe(PaymentStatus.SUCCEEDED);
      await f.expectLedgerBalanced();
    });

    it("an old-profile wallet that does not re-provision pays until the deadline and is refused as a code under an unknown key from it", async () => {
      const f = await IssuerFixture.open(url() ? { url: url()! } : {});
      open.push(f);
      const m = await f.merchant();
      const w = await f.payer(1_000_000);
      const phone = new Phone(w.provision, f.clock);
      const r = await f.issuer.rotateCodeKey(2 * 3_600_000);
      expect((await scan(f.issuer, m.principal, phone.code())).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
      f.clock.advance(r.previousUntil - f.clock.now() - 1);
      expect((await scan(f.issuer, m.principal, phone.code())).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
      f.clock.advance(1);
      const p = await scan(f.issuer, m.principal, phone.code());
      expect([DeclineReason.CODE_INVALID, DeclineReason.CODE_MALFORMED]).toContain(p.declineReason);
      // Re-provisioning brings it back.
      const again = new Phone(await provision(f.issuer, w), f.clock);
      expect((await scan(f.issuer, m.principal, again.code())).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
    });
  });
}
