import { create } from "@bufbuild/protobuf";
import { ManualClock } from "@paycode/protocol";
import {
  CreateMerchantRequestSchema,
  CreateTerminalRequestSchema,
  PaymentStatus,
  RecordOutcome,
  ScanRequestSchema,
  UploadOfflineBatchRequestSchema,
} from "@paycode/protocol/v1";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../store/open-store.js";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { Issuer } from "./issuer.js";
import { describeIssuerScenarios } from "./scenarios/index.js";
import { cny, IssuerFixture, MASTER_KEY, T0 } from "./testing.js";

const db = await createPostgresTestDb("issuer tests");
afterAll(() => db?.drop());

describe.skipIf(!db)("issuer on PostgreSQL", () => {
  describeIssuerScenarios("PostgreSQL", () => IssuerFixture.open({ url: db!.url }));

  it("two issuer servers on one database: a code scanned at both pays once; a record debits the payer once", async () => {
    const f = await IssuerFixture.open({ url: db!.url });
    // A second, independent server process: its own pool, caches and issuer instance.
    const store2 = await openStore(db!.url);
    const issuer2 = await Issuer.open({
      store: store2,
      clock: new ManualClock(f.clock.now()),
      masterKey: MASTER_KEY,
      passwordCostN: 2 ** 10,
    });
    try {
      const m = await f.merchant();
      const m2 = await issuer2.authenticateMerchant(m.apiKey);
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      const scans = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? f.issuer : issuer2).scan(
            i % 2 ? m.principal : m2,
            create(ScanRequestSchema, { outTradeNo: `twin-${i}`, amount: cny(1_000), code }),
          ),
        ),
      );
      expect(scans.filter((s) => s.payment?.status === PaymentStatus.SUCCEEDED)).toHaveLength(1);
      expect(await f.balance(w)).toBe(9_000n);

      // The same order retried at both servers at once: one payment, one debit.
      const code2 = f.onlineCode(w);
      const retries = await Promise.all(
        [f.issuer, issuer2, f.issuer, issuer2].map((iss, i) =>
          iss.scan(
            i % 2 ? m2 : m.principal,
            create(ScanRequestSchema, { outTradeNo: "same-order", amount: cny(500), code: code2 }),
          ),
        ),
      );
      expect(new Set(retries.map((r) => r.payment?.paymentId)).size).toBe(1);
      expect(await f.balance(w)).toBe(8_500n);

      const t = await f.terminal(m);
      const t2 = await issuer2.authenticateTerminal(
        (
          await f.issuer.control.createTerminal(
            create(CreateTerminalRequestSchema, { merchantId: m.merchantId }),
          )
        ).apiKey,
      );
      const offline = f.offlineCode(w);
      const [a, b] = await Promise.all([
        f.upload(t, [f.record(offline, 700)]),
        issuer2.uploadOfflineBatch(
          t2,
          create(UploadOfflineBatchRequestSchema, {
            batchId: "b",
            records: [f.record(offline, 700)],
          }),
        ),
      ]);
      // [SEC-2] Both settle, the payer pays once, exactly one is paid by the issuer (§10.3).
      const outcomes = [a.results[0]!.outcome, b.results[0]!.outcome];
      expect(outcomes).toEqual([RecordOutcome.SETTLED, RecordOutcome.SETTLED]);
      expect([a.results[0]!.issuerLiable, b.results[0]!.issuerLiable].sort()).toEqual([
        false,
        true,
      ]);
      expect(await f.balance(w)).toBe(7_800n);
      expect(await f.balance(m)).toBe(1_500n + 1_400n);
      await f.expectLedgerBalanced();
    } finally {
      await issuer2.close();
      await store2.close();
      await f.close();
    }
  });

  it("servers opening one fresh database together agree on one issuer key and code key", async () => {
    const fresh = await createPostgresTestDb("issuer key race");
    try {
      const issuers = await Promise.all(
        [0, 1, 2].map(() =>
          Issuer.open({ store: fresh!.url, clock: new ManualClock(T0), masterKey: MASTER_KEY }),
        ),
      );
      const keys = await Promise.all(
        issuers.map(async (i) => {
          const caps = await i.control.getCapabilities();
          const m = await i.control.createMerchant(
            create(CreateMerchantRequestSchema, { name: "x" }),
          );
          const k = await i.getIssuerKeys(await i.authenticateMerchant(m.apiKey));
          return `${k.keys.map((x) => x.keyId).join(",")}/${Buffer.from(caps.profile!.codeKey).toString("hex")}`;
        }),
      );
      expect(new Set(keys).size).toBe(1);
      await Promise.all(issuers.map((i) => i.close()));
    } finally {
      await fresh?.drop();
    }
  });
});
