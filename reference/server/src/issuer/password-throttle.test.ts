import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { generateEd25519, ManualClock } from "@paycode/protocol";
import {
  ConfirmPaymentRequestSchema,
  PaymentStatus,
  ProvisionSeedRequestSchema,
  RecordOutcome,
  UploadOfflineBatchRequestSchema,
} from "@paycode/protocol/v1";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../store/open-store.js";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { Issuer } from "./issuer.js";
import { PASSWORD_LOCK_FAILURES, unlockAccount } from "./password-throttle.js";
import { TERMINAL_REJECTION_BOUND, TERMINAL_WINDOW_MS } from "./settlement-service.js";
import { IssuerFixture, MASTER_KEY, MemoryAudit, PASSWORD } from "./testing.js";

const MINUTE = 60_000;

/** The Connect code of a call, or "ok". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (e) {
    return Code[ConnectError.from(e).code];
  }
}

/** The delay a throttled() error announces, in ms (whole seconds). */
async function retryAfterMs(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    const m = /retry after (\d+) s/.exec(ConnectError.from(e).rawMessage);
    return m ? Number(m[1]) * 1000 : undefined;
  }
}

const provision = (issuer: Issuer, accountId: string, password: string) =>
  issuer.provisionSeed(
    create(ProvisionSeedRequestSchema, {
      accountId,
      password,
      walletPublicKey: generateEd25519().publicKey,
      deviceLabel: "guesser",
    }),
  );

/**
 * The guessing scenario of issue 9 on one issuer: a guesser with a
 * controllable clock waits out each delay exactly and guesses again; the
 * account locks after 10 wrong passwords at 31 minutes, and the right
 * password is refused during every delay and after the lock.
 */
function describeGuessing(name: string, open: (audit: MemoryAudit) => Promise<IssuerFixture>) {
  describe(`password throttle on ${name}`, () => {
    it("4 free guesses, delays of 1, 2, 4, 8, 16 min, a lock at the 10th; the right password gains nothing meanwhile", async () => {
      const audit = new MemoryAudit();
      const f = await open(audit);
      try {
        const account = await f.account(10_000, { perPaymentPasswordFree: 100n });
        const w = await f.wallet(account);
        const t0 = f.clock.now();
        let guesses = 0;
        // The guesser: wrong passwords as fast as answered; when refused, waits exactly as told.
        for (let calls = 0; calls < 100; calls++) {
          const call = provision(f.issuer, account, `guess-${calls}`);
          const wait = await retryAfterMs(call);
          const code = await outcome(call);
          if (code === "FailedPrecondition") break;
          if (code === "Unauthenticated") guesses++;
          if (code === "ResourceExhausted") {
            // The right password during a delay is refused too, and does not end it.
            expect(await outcome(provision(f.issuer, account, PASSWORD))).toBe("ResourceExhausted");
            f.clock.advance(wait!);
          }
        }
        expect(guesses).toBe(PASSWORD_LOCK_FAILURES);
        expect(f.clock.now() - t0).toBe(31 * MINUTE);
        console.log(
          `[measure ${name}] guesses to lock: ${guesses}; least issuer time to lock: ${(f.clock.now() - t0) / MINUTE} min; guesses after the lock: 0 per day until an operator unlocks`,
        );
        // Locked: refused whatever the password, at both RPCs, and the owner's wallet still stands.
        f.clock.advance(30 * 86_400_000);
        expect(await outcome(provision(f.issuer, account, PASSWORD))).toBe("FailedPrecondition");
        const m = await f.merchant();
        const p = await f.scan(m, f.onlineCode(w), 500);
        expect(p.status).toBe(PaymentStatus.PENDING_CONFIRMATION);
        const confirm = (password: string) =>
          f.issuer.confirmPayment(
            w.principal,
            create(ConfirmPaymentRequestSchema, { paymentId: p.paymentId, password }),
          );
        expect(await outcome(confirm(PASSWORD))).toBe("FailedPrecondition");
        // The operator unlocks; the right password works again.
        expect(
          await unlockAccount({ store: f.store, clock: f.clock, audit }, account, "test"),
        ).toBe(PASSWORD_LOCK_FAILURES);
        expect((await confirm(PASSWORD)).payment?.status).toBe(PaymentStatus.SUCCEEDED);
        expect(audit.types("throttle.", "account.")).toEqual([
          "throttle.password",
          "account.locked",
          "account.unlocked",
        ]);
        for (const e of audit.events) expect(JSON.stringify(e)).not.toContain(PASSWORD);
      } finally {
        await f.close();
      }
    });

    it("guesses sent at once cannot outrun the count: 20 parallel wrong passwords, 5 checked", async () => {
      const f = await open(new MemoryAudit());
      try {
        const account = await f.account(0);
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => outcome(provision(f.issuer, account, `g${i}`))),
        );
        expect(answers.filter((a) => a === "Unauthenticated")).toHaveLength(5);
        expect(answers.filter((a) => a === "ResourceExhausted")).toHaveLength(15);
      } finally {
        await f.close();
      }
    });

    it("a terminal with 100 invalid records in an hour is refused until the hour ends; nothing is recorded meanwhile", async () => {
      const audit = new MemoryAudit();
      const f = await open(audit);
      try {
        const m = await f.merchant();
        const t = await f.terminal(m);
        const w = await f.payer(10_000);
        const bad = Array.from({ length: TERMINAL_REJECTION_BOUND }, () => f.record("", 100));
        const r = await f.upload(t, bad);
        expect(r.results.every((x) => x.outcome === RecordOutcome.REJECTED_INVALID)).toBe(true);
        const good = [f.record(f.offlineCode(w), 100)];
        const upload = () =>
          f.issuer.uploadOfflineBatch(
            t,
            create(UploadOfflineBatchRequestSchema, { batchId: "after", records: good }),
          );
        expect(await outcome(upload())).toBe("ResourceExhausted");
        f.clock.advance(TERMINAL_WINDOW_MS - 1);
        expect(await outcome(upload())).toBe("ResourceExhausted");
        f.clock.advance(1);
        expect((await upload()).results[0]!.outcome).toBe(RecordOutcome.SETTLED);
        expect(audit.types("throttle.")).toEqual(["throttle.terminal"]);
      } finally {
        await f.close();
      }
    });
  });
}

describeGuessing("SQLite", (audit) => IssuerFixture.open({ audit }));

const db = await createPostgresTestDb("password throttle tests");
afterAll(() => db?.drop());

describe.skipIf(!db)("throttles shared by two issuers on one PostgreSQL database", () => {
  describeGuessing("PostgreSQL", (audit) => IssuerFixture.open({ url: db!.url, audit }));

  it("guesses alternating between two servers lock the account at the 10th; both refuse it after", async () => {
    const f = await IssuerFixture.open({ url: db!.url });
    const store2 = await openStore(db!.url);
    const clock2 = new ManualClock(f.clock.now());
    const issuer2 = await Issuer.open({
      store: store2,
      clock: clock2,
      masterKey: MASTER_KEY,
      passwordCostN: 2 ** 10,
    });
    const advance = (ms: number) => {
      f.clock.advance(ms);
      clock2.advance(ms);
    };
    try {
      const account = await f.account(0);
      const servers = [f.issuer, issuer2];
      const seen: string[] = [];
      for (let i = 0; i < 5; i++)
        seen.push(await outcome(provision(servers[i % 2]!, account, "x")));
      expect(seen).toEqual(Array(5).fill("Unauthenticated"));
      // Each server refuses during the delay the other one started.
      for (const s of servers) {
        expect(await outcome(provision(s, account, PASSWORD))).toBe("ResourceExhausted");
      }
      for (const [i, d] of [1, 2, 4, 8, 16].entries()) {
        advance(d * MINUTE);
        expect(await outcome(provision(servers[i % 2]!, account, "x"))).toBe("Unauthenticated");
      }
      for (const s of servers) {
        expect(await outcome(provision(s, account, PASSWORD))).toBe("FailedPrecondition");
      }
      // A terminal throttled through one server is throttled at the other.
      const m = await f.merchant();
      const t = await f.terminal(m);
      await f.upload(
        t,
        Array.from({ length: TERMINAL_REJECTION_BOUND }, () => f.record("", 100)),
      );
      expect(
        await outcome(
          issuer2.uploadOfflineBatch(
            t,
            create(UploadOfflineBatchRequestSchema, { batchId: "x", records: [] }),
          ),
        ),
      ).toBe("ResourceExhausted");
    } finally {
      await issuer2.close();
      await store2.close();
      await f.close();
    }
  });
});

describe("throttle state survives a restart", () => {
  it("an account in a delay is still in it, and a locked one still locked, after reopening the store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paycode-throttle-"));
    const url = `sqlite:${join(dir, "issuer.db")}`;
    try {
      const f = await IssuerFixture.open({ url });
      const delayed = await f.account(0);
      const locked = await f.account(0);
      for (let i = 0; i < 5; i++) await outcome(provision(f.issuer, locked, "x"));
      for (const d of [1, 2, 4, 8, 16]) {
        f.clock.advance(d * MINUTE);
        await outcome(provision(f.issuer, locked, "x"));
      }
      for (let i = 0; i < 5; i++) await outcome(provision(f.issuer, delayed, "x"));
      const now = f.clock.now();
      await f.close();

      const again = await IssuerFixture.open({ url, clockStart: now });
      try {
        expect(await outcome(provision(again.issuer, delayed, PASSWORD))).toBe("ResourceExhausted");
        expect(await outcome(provision(again.issuer, locked, PASSWORD))).toBe("FailedPrecondition");
        again.clock.advance(MINUTE - 1);
        expect(await outcome(provision(again.issuer, delayed, PASSWORD))).toBe("ResourceExhausted");
        again.clock.advance(1);
        expect(await outcome(provision(again.issuer, delayed, PASSWORD))).toBe("ok");
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
