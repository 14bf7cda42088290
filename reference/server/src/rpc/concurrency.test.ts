import { DeclineReason, MerchantService, PaymentStatus } from "@paycode/protocol/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import {
  cny,
  type Harness,
  type StoreUnderTest,
  sqliteStores,
  startHarness,
} from "./testing/harness.js";

const pg = await createPostgresTestDb("server concurrency tests");
const stores: StoreUnderTest[] = [sqliteStores()];
if (pg !== undefined)
  stores.push({ name: "postgres", url: async () => pg.url, cleanup: () => pg.drop() });
afterAll(async () => {
  for (const s of stores) await s.cleanup();
});

const ROUNDS = 50;
const AMOUNT = 100n;

describe.each(stores)("concurrent double scan on $name", (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(await store.url());
  });
  afterAll(async () => {
    await h?.close();
  });

  it(`lets exactly one of two merchants win each of ${ROUNDS} codes, debiting once`, async () => {
    const a = await h.newMerchant("a");
    const b = await h.newMerchant("b");
    // Separate connections (and protocols), so the two scans really race.
    const ma = h.transport("connect-h1").client(MerchantService, a.apiKey);
    const mb = h.transport("grpc-h2").client(MerchantService, b.apiKey);
    const w = await h.newWallet({
      balance: 1_000_000n,
      limits: { dailyPasswordFreeCount: 1000, dailyPasswordFreeAmount: 10_000_000n },
    });
    let winsA = 0;
    for (let i = 0; i < ROUNDS; i++) {
      if (i > 0 && i % 8 === 0) await h.control.advanceClock({ seconds: 60 });
      const code = w.onlineCode();
      const [ra, rb] = await Promise.all([
        ma.scan({ outTradeNo: `race-${i}`, amount: cny(AMOUNT), code }),
        mb.scan({ outTradeNo: `race-${i}`, amount: cny(AMOUNT), code }),
      ]);
      const statuses = [ra.payment!, rb.payment!].map((p) => PaymentStatus[p.status]).sort();
      expect(statuses, `round ${i}`).toEqual(["DECLINED", "SUCCEEDED"]);
      const loser = ra.payment!.status === PaymentStatus.SUCCEEDED ? rb.payment! : ra.payment!;
      expect(DeclineReason[loser.declineReason], `round ${i}`).toBe("CODE_REUSED");
      if (ra.payment!.status === PaymentStatus.SUCCEEDED) winsA++;
    }
    expect(await h.balance(w)).toBe(1_000_000n - BigInt(ROUNDS) * AMOUNT);
    expect(await h.balance(a)).toBe(BigInt(winsA) * AMOUNT);
    expect(await h.balance(b)).toBe(BigInt(ROUNDS - winsA) * AMOUNT);
    await h.expectLedgerBalanced();
  });

  it("settles a burst of concurrent scans of distinct codes without losing one", async () => {
    const m = await h.newMerchant("burst");
    const transports = [
      h.transport("connect-h1"),
      h.transport("connect-h2"),
      h.transport("grpc-web-h1"),
    ];
    const clients = transports.map((t) => t.client(MerchantService, m.apiKey));
    const wallets = await Promise.all(
      [0, 1, 2, 3].map(() =>
        h.newWallet({ balance: 10_000n, limits: { dailyPasswordFreeCount: 100 } }),
      ),
    );
    const jobs = wallets.flatMap((w, wi) =>
      [0, 1, 2, 3, 4, 5].map((k) => ({ code: w.onlineCode(), order: `burst-${wi}-${k}` })),
    );
    const results = await Promise.all(
      jobs.map((j, i) =>
        clients[i % clients.length]!.scan({ outTradeNo: j.order, amount: cny(10n), code: j.code }),
      ),
    );
    expect(results.every((r) => r.payment!.status === PaymentStatus.SUCCEEDED)).toBe(true);
    for (const w of wallets) expect(await h.balance(w)).toBe(10_000n - 60n);
    expect(await h.balance(m)).toBe(BigInt(jobs.length) * 10n);
    await h.expectLedgerBalanced();
  });
});
