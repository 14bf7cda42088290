import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { generateEd25519, ManualClock, OnlineCodec, stepOf } from "@paycode/protocol";
import {
  ConformanceService,
  CreateMerchantRequestSchema,
  CreateTerminalRequestSchema,
  MerchantService,
  PaymentStatus,
  WalletService,
} from "@paycode/protocol/v1";
import { Issuer, openStore, SeedVault } from "@paycode/server";
import { createPostgresTestDb, testTransport } from "@paycode/server/testing";
import { afterAll, describe, expect, it } from "vitest";
import { runPaycode, startServe } from "../testing/spawn-cli.js";

/**
 * The operator commands of issue 9 part 3 (`credential`, `master-key`,
 * `issuer-key`), run as the real binary against SQLite and PostgreSQL.
 */
const dir = mkdtempSync(join(tmpdir(), "paycode-operator-"));
const pg = await createPostgresTestDb("operator command tests");
const dbs = pg ? [pg] : [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const db of dbs) await db.drop();
});

/** A fresh database per test: each test seals under its own master key. */
async function freshPostgres(): Promise<string> {
  const db = await createPostgresTestDb("operator command tests");
  dbs.push(db!);
  return db!.url;
}

const noEnvKey = { PAYCODE_MASTER_KEY: "" };
const mode = (path: string) => statSync(path).mode & 0o777;

function keyFile(name: string, key = randomBytes(32)): { path: string; key: Uint8Array } {
  const path = join(dir, name);
  writeFileSync(path, `${key.toString("hex")}\n`, { mode: 0o600 });
  return { path, key: new Uint8Array(key) };
}

/** A store with one merchant and terminal, made by an issuer that then closes. */
async function seed(url: string, masterKey: Uint8Array) {
  const store = await openStore(url);
  try {
    const issuer = await Issuer.open({ store, clock: new ManualClock(Date.now()), masterKey });
    const m = await issuer.control.createMerchant(
      create(CreateMerchantRequestSchema, { name: "s" }),
    );
    const t = await issuer.control.createTerminal(
      create(CreateTerminalRequestSchema, { merchantId: m.merchantId }),
    );
    await issuer.close();
    return { merchantId: m.merchantId, merchantKey: m.apiKey, terminalId: t.terminalId };
  } finally {
    await store.close();
  }
}

/** Whether `apiKey` authenticates as a merchant on a fresh issuer over the store. */
async function merchantKeyWorks(url: string, masterKey: Uint8Array, apiKey: string) {
  const store = await openStore(url);
  try {
    const issuer = await Issuer.open({ store, clock: new ManualClock(Date.now()), masterKey });
    try {
      await issuer.authenticateMerchant(apiKey);
      return true;
    } catch {
      return false;
    } finally {
      await issuer.close();
    }
  } finally {
    await store.close();
  }
}

const stores: [string, () => Promise<string>][] = [
  ["SQLite", async () => `sqlite:${join(dir, `op-${randomBytes(4).toString("hex")}.db`)}`],
  ["PostgreSQL", freshPostgres],
];

for (const [name, makeUrl] of stores) {
  describe.skipIf(name === "PostgreSQL" && !pg)(`operator commands on ${name}`, () => {
    it("credential issue | rotate | list | revoke", async () => {
      const url = await makeUrl();
      const master = keyFile(`master-${name}`);
      const s = await seed(url, master.key);
      const newKeyPath = join(dir, `new-merchant-key-${name}`);
      const rot = await runPaycode(
        [
          "credential",
          "rotate",
          "--store",
          url,
          "--merchant",
          s.merchantId,
          "--grace",
          "0",
          "--key-file",
          newKeyPath,
          "--json",
        ],
        { env: noEnvKey },
      );
      expect(rot.code, rot.stderr).toBe(0);
      expect(mode(newKeyPath)).toBe(0o600);
      const newKey = readFileSync(newKeyPath, "utf8").trim();
      expect(rot.stdout).not.toContain(newKey);
      // The audit line names ids only.
      expect(rot.stderr).toMatch(/^paycode audit: .*"credential.rotated"/m);
      expect(rot.stderr).not.toContain(newKey);
      expect(await merchantKeyWorks(url, master.key, newKey)).toBe(true);
      expect(await merchantKeyWorks(url, master.key, s.merchantKey)).toBe(false);

      const list = await runPaycode([
        "credential",
        "list",
        "--store",
        url,
        "--merchant",
        s.merchantId,
        "--json",
      ]);
      expect(list.code, list.stderr).toBe(0);
      const rows = JSON.parse(list.stdout) as { keyId: string; state: string }[];
      expect(rows.map((r) => r.state).sort()).toEqual(["active", "expired"]);
      expect(list.stdout).not.toContain(newKey);

      const issued = await runPaycode([
        "credential",
        "issue",
        "--store",
        url,
        "--terminal",
        s.terminalId,
        "--json",
      ]);
      expect(issued.code, issued.stderr).toBe(0);
      const { keyId } = JSON.parse(issued.stdout) as { keyId: string };
      const revoke = await runPaycode(["credential", "revoke", "--store", url, keyId]);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.stdout).toContain(`revoked ${keyId}`);

      // Exit status: 1 for an unknown id, 2 for a wrong command line.
      expect((await runPaycode(["credential", "revoke", "--store", url, "ak_nope"])).code).toBe(1);
      expect((await runPaycode(["credential", "issue", "--store", url])).code).toBe(2);
      expect(
        (await runPaycode(["credential", "issue", "--store", url, "--merchant", "m_nope"])).code,
      ).toBe(1);
    });

    it("master-key generate | rotate, then issuer-key rotate | list under the new key", async () => {
      const url = await makeUrl();
      const old = keyFile(`old-master-${name}`);
      await seed(url, old.key);
      const newPath = join(dir, `new-master-${name}`);
      const gen = await runPaycode(["master-key", "generate", newPath]);
      expect(gen.code, gen.stderr).toBe(0);
      expect(mode(newPath)).toBe(0o600);
      expect(gen.stdout).not.toMatch(/[0-9a-f]{64}/);
      // A key file others can read is refused, and nothing changes.
      const shared = keyFile(`shared-${name}`);
      chmodSync(shared.path, 0o644);
      const refused = await runPaycode(
        [
          "master-key",
          "rotate",
          "--store",
          url,
          "--master-key-file",
          old.path,
          "--new-key-file",
          shared.path,
        ],
        { env: noEnvKey },
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/accessible to other users/);
      // A wrong current key: exit 1, nothing changed.
      const wrong = keyFile(`wrong-${name}`);
      const bad = await runPaycode(
        [
          "master-key",
          "rotate",
          "--store",
          url,
          "--master-key-file",
          wrong.path,
          "--new-key-file",
          newPath,
        ],
        { env: noEnvKey },
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/nothing changed/);

      const rot = await runPaycode(
        [
          "master-key",
          "rotate",
          "--store",
          url,
          "--master-key-file",
          old.path,
          "--new-key-file",
          newPath,
        ],
        { env: noEnvKey },
      );
      expect(rot.code, rot.stderr).toBe(0);
      expect(rot.stdout).toMatch(/re-sealed \d+ wallet seeds and 1 issuer keys/);
      const newKey = new Uint8Array(Buffer.from(readFileSync(newPath, "utf8").trim(), "hex"));

      const ik = await runPaycode(
        ["issuer-key", "rotate", "--store", url, "--master-key-file", newPath, "--lead", "25h"],
        { env: noEnvKey },
      );
      expect(ik.code, ik.stderr).toBe(0);
      // K_code: rotate with a transition, then show the version (never the key).
      const ck = await runPaycode(["code-key", "rotate", "--store", url, "--transition", "1h"]);
      expect(ck.code, ck.stderr).toBe(0);
      expect(ck.stdout).toMatch(/^code_key_version 2; codes under version 1 accepted until /);
      const shown = await runPaycode(["code-key", "show", "--store", url]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/^code_key_version 2\ncodes under version 1 accepted until/);
      expect(shown.stdout + ck.stderr).not.toMatch(/[0-9a-f]{64}/);
      const listed = await runPaycode(["issuer-key", "list", "--store", url, "--json"]);
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { state: string }[]).map((k) => k.state)).toEqual([
        "valid",
        "next",
      ]);
      // The new master key opens everything (the new issuer key included); the old one no longer does.
      const store = await openStore(url);
      try {
        const issuer = await Issuer.open({
          store,
          clock: new ManualClock(Date.now()),
          masterKey: newKey,
        });
        await issuer.close();
        await expect(
          Issuer.open({ store, clock: new ManualClock(Date.now()), masterKey: old.key }),
        ).rejects.toThrow();
      } finally {
        await store.close();
      }
    });
  });
}

describe("master-key rotation under a running server", () => {
  it("serve --extra-master-key-file keeps provisioning and paying while master-key rotate runs", async () => {
    const url = `sqlite:${join(dir, "live.db")}`;
    const old = keyFile("live-old");
    const next = keyFile("live-new");
    // Step 1: the server holds both keys.
    const s = await startServe(
      [
        "--store",
        url,
        "--port",
        "0",
        "--enable-test-control",
        "--master-key-file",
        old.path,
        "--extra-master-key-file",
        next.path,
      ],
      { env: noEnvKey },
    );
    const t = testTransport(s.url, "connect-h1");
    try {
      const control = t.client(ConformanceService);
      const wallets = t.client(WalletService);
      const provision = async () => {
        const a = await control.createAccount({
          password: "pw-live",
          balance: { currency: "CNY", amountMinor: 1_000n },
        });
        const pair = generateEd25519();
        return wallets.provisionSeed({
          accountId: a.accountId,
          password: "pw-live",
          walletPublicKey: pair.publicKey,
          deviceLabel: "live",
        });
      };
      const before = await provision();
      // Step 2, while it serves.
      const rot = await runPaycode(
        [
          "master-key",
          "rotate",
          "--store",
          url,
          "--master-key-file",
          old.path,
          "--new-key-file",
          next.path,
        ],
        { env: noEnvKey },
      );
      expect(rot.code, rot.stderr).toBe(0);
      // The running server seals under the new key now, and still signs certificates.
      const after = await provision();
      expect(after.certificate?.issuerSignature.length).toBe(64);
      expect(after.certificate?.issuerKeyId).toBe(before.certificate?.issuerKeyId);
      // And a wallet provisioned before the rotation pays.
      const m = await control.createMerchant({ name: "live" });
      const p = before.profile!;
      const code = new OnlineCodec({
        prefix: p.issuerPrefix,
        codeKey: p.codeKey,
        windowBackSteps: p.windowBackSteps,
        windowAheadSteps: p.windowAheadSteps,
        lookbackSteps: p.lookbackSteps,
      }).generate({
        handle: before.handle,
        seed: before.seed,
        step: stepOf(Math.floor(Date.now() / 1000)),
        counter: 0,
      });
      const paid = await t.client(MerchantService, m.apiKey).scan({
        outTradeNo: "live-1",
        amount: { currency: "CNY", amountMinor: 100n },
        code,
        subject: "",
      });
      expect(paid.payment?.status).toBe(PaymentStatus.SUCCEEDED);
    } finally {
      t.close();
      s.child.kill("SIGTERM");
      await s.exited;
    }
    // Step 3: the new key alone opens every secret, including the one sealed after the rotation.
    const store = await openStore(url);
    try {
      let n = 0;
      const vault = new SeedVault(next.key);
      for (const w of await store.read((tx) => tx.listWalletSeedEnvelopes())) {
        vault.open(w.seedEnvelope, `wallet-seed:${w.id}`);
        n++;
      }
      expect(n).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe("operator command help", () => {
  it("documents every subcommand and its exit status", async () => {
    for (const args of [
      ["credential", "rotate"],
      ["credential", "revoke"],
      ["master-key", "rotate"],
      ["issuer-key", "rotate"],
      ["code-key", "rotate"],
    ]) {
      const help = await runPaycode([...args, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("Exit status");
    }
  });
});
