import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { ManualClock } from "@paycode/protocol";
import { GetIssuerKeysResponseSchema } from "@paycode/protocol/v1";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PaycodeProtocolError } from "./errors.js";
import { checkIssuerKeys, OfflineTerminal } from "./offline-terminal.js";
import { issuerKeysResponse, provisionedState, T0_MS } from "./testing.js";
import { WalletClient } from "./wallet-client.js";
import { MemoryWalletStateStore } from "./wallet-state.js";

const CNY = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });

let dir: string;
let clock: ManualClock;
let wallet: WalletClient;
const open: OfflineTerminal[] = [];

function terminal(name = "journal.db", keys = issuerKeysResponse()): OfflineTerminal {
  const t = OfflineTerminal.open({ journalPath: join(dir, name), clock });
  // Seed the key sync as sync() persists it, then reopen so the terminal loads it from disk.
  t.journal.setMeta("issuer_keys", toBinary(GetIssuerKeysResponseSchema, keys));
  t.close();
  const reopened = OfflineTerminal.open({ journalPath: join(dir, name), clock });
  open.push(reopened);
  return reopened;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-terminal-"));
  clock = new ManualClock(T0_MS + 30_000);
  wallet = new WalletClient({ store: new MemoryWalletStateStore(provisionedState()), clock });
});
afterEach(() => {
  for (const t of open.splice(0)) t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("OfflineTerminal.accept", () => {
  it("refuses everything before the first key sync", () => {
    const t = OfflineTerminal.open({ journalPath: join(dir, "j.db"), clock });
    open.push(t);
    expect(t.accept(wallet.offlineCode(), CNY(100n))).toMatchObject({
      accepted: false,
      reason: "NO_KEYS",
    });
    expect(t.status().keysFresh).toBe(false);
  });

  it("accepts a valid code and has it on disk before returning", () => {
    const t = terminal();
    const r = t.accept(wallet.offlineCode(), CNY(250n));
    expect(r.accepted).toBe(true);
    if (!r.accepted) return;
    expect(r.record).toMatchObject({ walletId: "w-test", counter: 1n, amountMinor: 250n });
    expect(r.record.acceptedAtMs).toBe(clock.now());
    expect(r.record.keysSyncedAtMs).toBe(T0_MS);
    // A second connection (another process after a crash) sees the committed row.
    const db = new Database(join(dir, "journal.db"), { readonly: true });
    const row = db.prepare("SELECT record_id, amount_minor FROM records").get() as Record<
      string,
      unknown
    >;
    db.close();
    expect(row).toEqual({ record_id: r.record.recordId, amount_minor: 250 });
    expect(t.status()).toMatchObject({ unbatchedRecords: 1, keysFresh: true });
  });

  it("uses WAL with synchronous=FULL", () => {
    expect(terminal().journal.settings()).toEqual({ journalMode: "wal", synchronous: 2 });
  });

  it("refuses a code it has already accepted, also after a restart", () => {
    const t = terminal();
    const code = wallet.offlineCode();
    expect(t.accept(code, CNY(100n)).accepted).toBe(true);
    expect(t.accept(code, CNY(100n))).toMatchObject({
      accepted: false,
      reason: "DUPLICATE",
      counter: 1n,
    });
    t.close();
    const again = OfflineTerminal.open({ journalPath: join(dir, "journal.db"), clock });
    open.push(again);
    expect(again.accept(code, CNY(100n))).toMatchObject({ accepted: false, reason: "DUPLICATE" });
    expect(again.records()).toHaveLength(1);
  });

  it("refuses a wallet on its revocation list", () => {
    const t = terminal("j.db", issuerKeysResponse({ revoked: ["w-other", "w-test"] }));
    expect(t.accept(wallet.offlineCode(), CNY(100n))).toMatchObject({
      accepted: false,
      reason: "REVOKED",
      walletId: "w-test",
    });
    expect(t.records()).toHaveLength(0);
  });

  it("refuses above the certificate's per-payment limit", () => {
    const t = terminal();
    expect(t.accept(wallet.offlineCode(), CNY(5000n)).accepted).toBe(true);
    expect(t.accept(wallet.offlineCode(), CNY(5001n))).toMatchObject({
      accepted: false,
      reason: "OVER_LIMIT",
    });
  });

  it("refuses once its own total for the wallet would pass the cumulative limit", () => {
    const t = terminal();
    for (let i = 0; i < 3; i++)
      expect(t.accept(wallet.offlineCode(), CNY(5000n)).accepted).toBe(true);
    expect(t.accept(wallet.offlineCode(), CNY(4000n)).accepted).toBe(true); // 19000
    expect(t.accept(wallet.offlineCode(), CNY(1001n))).toMatchObject({
      accepted: false,
      reason: "CUMULATIVE_LIMIT",
    });
    expect(t.accept(wallet.offlineCode(), CNY(1000n)).accepted).toBe(true); // exactly 20000
    // The limit is per terminal: another terminal has its own running total.
    const other = terminal("other.db");
    expect(other.accept(wallet.offlineCode(), CNY(5000n)).accepted).toBe(true);
  });

  it("refuses with stale keys and accepts again after a fresh sync", () => {
    const t = terminal();
    clock.set(T0_MS + 86_400_000); // exactly max_key_age: still fresh
    expect(t.accept(wallet.offlineCode(), CNY(100n)).accepted).toBe(true);
    clock.advance(1000);
    expect(t.accept(wallet.offlineCode(), CNY(100n))).toMatchObject({
      accepted: false,
      reason: "STALE_KEYS",
    });
    expect(t.status().keysFresh).toBe(false);
    const fresh = terminal("journal.db", issuerKeysResponse({ generatedAtMs: clock.now() }));
    expect(fresh.accept(wallet.offlineCode(), CNY(100n)).accepted).toBe(true);
  });

  it("passes on the codec's verdicts", () => {
    const t = terminal();
    expect(t.accept("PC1:NOTACODE", CNY(100n))).toMatchObject({
      accepted: false,
      reason: "MALFORMED",
    });
    expect(t.accept("621234567890123456", CNY(100n))).toMatchObject({ reason: "MALFORMED" });
    const code = wallet.offlineCode();
    expect(t.accept(code, { currency: "USD", amountMinor: 100n })).toMatchObject({
      reason: "CURRENCY_MISMATCH",
    });
    clock.advance(121_000);
    expect(t.accept(code, CNY(100n))).toMatchObject({ reason: "CODE_EXPIRED", counter: 1n });
    const unknownKey = terminal("k.db", issuerKeysResponse({ keyId: "k9" }));
    expect(unknownKey.accept(wallet.offlineCode(), CNY(100n))).toMatchObject({
      reason: "KEY_UNKNOWN",
    });
  });

  it("rejects a non-positive amount as a caller error", () => {
    const t = terminal();
    expect(() => t.accept(wallet.offlineCode(), CNY(0n))).toThrow(RangeError);
  });
});

describe("GetIssuerKeys response checks", () => {
  it("accepts a good response and rejects broken ones", () => {
    expect(() => checkIssuerKeys(issuerKeysResponse())).not.toThrow();
    const noTime = issuerKeysResponse();
    noTime.generatedAt = undefined;
    expect(() => checkIssuerKeys(noTime)).toThrow(PaycodeProtocolError);
    const noKeys = issuerKeysResponse();
    noKeys.keys = [];
    expect(() => checkIssuerKeys(noKeys)).toThrow(/no issuer keys/);
    const shortKey = issuerKeysResponse();
    shortKey.keys[0]!.publicKey = new Uint8Array(31);
    expect(() => checkIssuerKeys(shortKey)).toThrow(/32 bytes/);
    const noProfile = issuerKeysResponse();
    noProfile.profile = undefined;
    expect(() => checkIssuerKeys(noProfile)).toThrow(/no profile/);
  });
});
