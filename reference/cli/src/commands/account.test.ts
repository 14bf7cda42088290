import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { generateEd25519, ManualClock } from "@paycode/protocol";
import { CreateAccountRequestSchema, ProvisionSeedRequestSchema } from "@paycode/protocol/v1";
import { Issuer, openStore } from "@paycode/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { paycodeInProcess as paycode } from "../testing/in-process-cli.js";
import { withPasswordThrottle } from "./wallet.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-account-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const MASTER_KEY = new Uint8Array(32).fill(7);

describe("paycode account", () => {
  it("lists an account locked by 10 wrong passwords and unlocks it; the right password works again", async () => {
    const store = `sqlite:${join(dir, "issuer.db")}`;
    const clock = new ManualClock(Date.UTC(2030, 0, 15, 10));
    const open = () => Issuer.open({ store, clock, masterKey: MASTER_KEY, passwordCostN: 2 ** 10 });
    let issuer = await open();
    const { accountId } = await issuer.control.createAccount(
      create(CreateAccountRequestSchema, { password: "right" }),
    );
    const provision = (password: string) =>
      issuer.provisionSeed(
        create(ProvisionSeedRequestSchema, {
          accountId,
          password,
          walletPublicKey: generateEd25519().publicKey,
          deviceLabel: "cli test",
        }),
      );
    for (let i = 0; i < 10; i++) {
      await provision("wrong").catch(() => {});
      clock.advance(16 * 60_000);
    }
    await expect(provision("right")).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await issuer.close();

    const listed = await paycode("account", "locked", "--store", store, "--json");
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ accountId, failures: 10 }),
    ]);
    const unlocked = await paycode("account", "unlock", accountId, "--store", store);
    expect(unlocked.status).toBe(0);
    expect(unlocked.stdout).toMatch(/unlocked \(was locked after 10 consecutive wrong passwords\)/);
    const event = JSON.parse(unlocked.stderr.replace(/^paycode audit: /, ""));
    expect(event).toMatchObject({
      type: "account.unlocked",
      subject: { kind: "account", id: accountId },
      detail: { failures: 10, locked: true, by: "operator" },
    });
    const audit = await openStore(store);
    try {
      const logged = await audit.read((tx) => tx.listAuditEvents({ type: "account.unlocked" }));
      expect(logged).toEqual([
        expect.objectContaining({ subjectKind: "account", subjectId: accountId }),
      ]);
    } finally {
      await audit.close();
    }
    const again = await paycode("account", "unlock", accountId, "--store", store);
    expect(again.stdout).toMatch(/nothing to unlock/);
    expect((await paycode("account", "locked", "--store", store)).stdout).toBe(
      "no locked accounts",
    );

    issuer = await open();
    try {
      expect((await provision("right")).walletId).not.toBe("");
    } finally {
      await issuer.close();
    }
  });

  it("fails with exit code 2 without --store and 1 on a store it cannot open", async () => {
    const usage = await paycode("account", "unlock", "a-1").catch((e: unknown) => e);
    expect(String((usage as Error).message ?? usage)).toMatch(/--store/);
    const bad = await paycode(
      "account",
      "unlock",
      "a-1",
      "--store",
      `sqlite:${join(dir, "missing", "x.db")}`,
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no store at .*x\.db/);
  });
});

describe("wallet commands and the password throttle", () => {
  it("tell a delay and a lock apart in words", async () => {
    const delay = await withPasswordThrottle(() =>
      Promise.reject(
        new ConnectError(
          "too many wrong passwords for this account; retry after 60 s",
          Code.ResourceExhausted,
        ),
      ),
    ).catch((e: Error) => e.message);
    expect(delay).toMatch(/refuses further attempts for 60 s/);
    const lock = await withPasswordThrottle(() =>
      Promise.reject(
        new ConnectError(
          "account locked after 10 consecutive wrong passwords",
          Code.FailedPrecondition,
        ),
      ),
    ).catch((e: Error) => e.message);
    expect(lock).toMatch(/locked .* operator can unlock it/);
    const other = await withPasswordThrottle(() =>
      Promise.reject(new ConnectError("payment is CLOSED", Code.FailedPrecondition)),
    ).catch((e: ConnectError) => e);
    expect(other).toBeInstanceOf(ConnectError);
  });
});
