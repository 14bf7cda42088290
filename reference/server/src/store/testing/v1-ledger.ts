// A schema-v1 database with money in it, for the test of migration v2.
import { expect } from "vitest";
import { applyMigrations } from "../migrate.js";
import { MIGRATIONS } from "../migrations.js";
import type { SqlDialect } from "../sql-dialect.js";
import type { SqlExecutor } from "../sql-executor.js";
import type { Store } from "../store.js";

export interface V1Ledger {
  /** Account id → balance as schema v1 reported it. */
  balances: Map<string, bigint>;
  /** The merchant whose stored balance disagreed with its transfers before the migration. */
  broken: { accountId: string; balance: bigint; fromTransfers: bigint };
}

/**
 * Applies migration 1 only and moves money the v1 way (both balance rows
 * updated per transfer): an issuer funds two payers, who pay two merchants,
 * one of which refunds; one merchant (own currency) is left inconsistent.
 */
export async function seedV1Ledger(exec: SqlExecutor, dialect: SqlDialect): Promise<V1Ledger> {
  await applyMigrations(exec, dialect, 0, MIGRATIONS.slice(0, 1));
  const balances = new Map<string, bigint>();
  const account = async (id: string, kind: string, currency = "CNY") => {
    await exec.run(
      "INSERT INTO accounts (id, kind, currency, balance, created_at) VALUES (?, ?, ?, 0, 0)",
      [id, kind, currency],
    );
    balances.set(id, 0n);
  };
  let n = 0;
  const move = async (from: string, to: string, amount: bigint, currency = "CNY") => {
    await exec.run(
      `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, created_at)
       VALUES (?, ?, ?, ?, ?, 'payment', 0)`,
      [`t${++n}`, from, to, amount, currency],
    );
    await exec.run("UPDATE accounts SET balance = balance - ? WHERE id = ?", [amount, from]);
    await exec.run("UPDATE accounts SET balance = balance + ? WHERE id = ?", [amount, to]);
    balances.set(from, balances.get(from)! - amount);
    balances.set(to, balances.get(to)! + amount);
  };
  await account("issuer", "issuer");
  await account("p1", "payer");
  await account("p2", "payer");
  await account("m1", "merchant");
  await account("m2", "merchant");
  await move("issuer", "p1", 1_000n);
  await move("issuer", "p2", 500n);
  await move("p1", "m1", 300n);
  await move("p2", "m1", 200n);
  await move("p1", "m2", 50n);
  await move("m1", "p2", 20n);

  await account("issuer-x", "issuer", "XTS");
  await account("m-x", "merchant", "XTS");
  await move("issuer-x", "m-x", 40n, "XTS");
  await exec.run("UPDATE accounts SET balance = balance + 7 WHERE id = 'm-x'");
  balances.set("m-x", 47n);
  // A v1 merchant and terminal, whose one key migration 6 moves to api_keys.
  await exec.run(
    "INSERT INTO merchants (id, name, account_id, api_key_hash, created_at) VALUES ('mer1', 'shop', 'm1', ?, 0)",
    [V1_MERCHANT_KEY_HASH],
  );
  await exec.run(
    "INSERT INTO terminals (id, merchant_id, api_key_hash, created_at) VALUES ('ter1', 'mer1', ?, 0)",
    [V1_TERMINAL_KEY_HASH],
  );
  return { balances, broken: { accountId: "m-x", balance: 47n, fromTransfers: 40n } };
}

const V1_MERCHANT_KEY_HASH = new Uint8Array(32).fill(1);
const V1_TERMINAL_KEY_HASH = new Uint8Array(32).fill(2);

/** After migration 2: every balance reads as before and the audit sees the same mismatch. */
export async function expectMigratedLedger(store: Store, v1: V1Ledger): Promise<void> {
  await store.transaction(async (tx) => {
    for (const [id, balance] of v1.balances) {
      expect((await tx.getAccount(id))?.balance, id).toBe(balance);
    }
    expect(await tx.ledgerTotal("CNY")).toEqual({ total: 0n, transferCount: 6 });
    expect(await tx.ledgerAudit()).toEqual([v1.broken]);
    // New money after the migration keeps the ledger balanced.
    await tx.transfer({
      id: "after-v2",
      debitAccountId: "p1",
      creditAccountId: "m1",
      amount: 10n,
      currency: "CNY",
      kind: "payment",
      paymentId: null,
      refundId: null,
      createdAt: 0,
    });
    expect((await tx.getAccount("m1"))?.balance).toBe(v1.balances.get("m1")! + 10n);
    expect((await tx.getAccount("p1"))?.balance).toBe(v1.balances.get("p1")! - 10n);
    expect(await tx.ledgerTotal("CNY")).toEqual({ total: 0n, transferCount: 7 });
    // Migration 6: the v1 keys still name their merchant and terminal.
    expect(await tx.findApiKey(V1_MERCHANT_KEY_HASH)).toMatchObject({
      key: { keyId: "ak-mer1", ownerKind: "merchant", revokedAt: null, expiresAt: null },
      merchantId: "mer1",
      merchantAccountId: "m1",
    });
    expect(await tx.findApiKey(V1_TERMINAL_KEY_HASH)).toMatchObject({
      key: { keyId: "ak-ter1", ownerKind: "terminal" },
      merchantId: "mer1",
      merchantAccountId: null,
    });
  });
}
