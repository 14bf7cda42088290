import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { GetIssuerKeysResponseSchema } from "@paycode/protocol/v1";
import {
  JsonFileWalletStateStore,
  MemoryWalletStateStore,
  OfflineTerminal,
  WalletClient,
} from "@paycode/sdk";
import { issuerKeysResponse, provisionedState } from "@paycode/sdk/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { paycodeInProcess as paycode } from "../testing/in-process-cli.js";
import { amountFrom } from "./amount-options.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-cli-"));
  process.exitCode = undefined;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe("amount options", () => {
  it("parse exactly with the currency exponent", () => {
    expect(amountFrom({ amount: "12.34", currency: "CNY" })).toEqual({
      currency: "CNY",
      amountMinor: 1234n,
    });
    expect(amountFrom({ amountMinor: "1234", currency: "CNY" }).amountMinor).toBe(1234n);
    expect(amountFrom({ amount: "1234", currency: "JPY" }).amountMinor).toBe(1234n);
    expect(() => amountFrom({ amount: "12.345", currency: "CNY" })).toThrow(/2 decimal place/);
    expect(() => amountFrom({ currency: "CNY" })).toThrow(/--amount/);
  });
});

describe("paycode wallet code", () => {
  it("prints an online code with its barcode and QR, and counts down", async () => {
    const state = join(dir, "wallet.json");
    new JsonFileWalletStateStore(state).update(() => provisionedState());
    const r = await paycode("wallet", "code", "--state", state);
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^62\d{16}$/);
    const grouped = lines[0]!.replace(/(\d{4})(?=\d)/g, "$1 ");
    expect(r.stdout).toContain(grouped);
    expect(r.stdout).toMatch(/[█▌▐]/);
    expect(r.stdout).toMatch(/online code; 7 more this minute/);
    const plain = await paycode("wallet", "code", "--state", state, "--plain");
    expect(plain.stdout).toMatch(/^62\d{16}$/);
    expect(plain.stdout).not.toBe(lines[0]);
  });

  it("prints a signed offline QR code", async () => {
    const state = join(dir, "wallet.json");
    new JsonFileWalletStateStore(state).update(() => provisionedState());
    const r = await paycode("wallet", "code", "--offline", "--state", state);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^PC1:[0-9A-Z $%*+\-./:]+$/);
    expect(r.stdout).toMatch(/offline code, valid for 120 s/);
  });

  it("fails with one clear line when the wallet is not provisioned", async () => {
    const r = await paycode("wallet", "code", "--state", join(dir, "none.json"));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("paycode: wallet is not provisioned: run provision first\n");
  });
});

describe("paycode terminal accept/status", () => {
  it("accepts, refuses a duplicate (exit 0, printed), and reports status", async () => {
    const journal = join(dir, "j.db");
    // Seed a key sync dated now, as `terminal sync` would have stored it.
    const t = OfflineTerminal.open({ journalPath: journal });
    t.journal.setMeta(
      "issuer_keys",
      toBinary(GetIssuerKeysResponseSchema, issuerKeysResponse({ generatedAtMs: Date.now() })),
    );
    t.close();
    // The fixture certificate is valid around 2026-01-01; make one valid now instead.
    const wallet = walletValidNow();
    const qr = wallet.offlineCode();
    const ok = await paycode("terminal", "accept", qr, "--journal", journal, "--amount", "2.50");
    expect(ok).toMatchObject({ status: 0 });
    expect(ok.stdout).toMatch(/^ACCEPTED {2}2\.50 CNY {2}wallet w-test #1 {2}record /);
    const dup = await paycode("terminal", "accept", qr, "--journal", journal, "--amount", "2.50");
    expect(dup.status).toBe(0);
    expect(dup.stdout).toMatch(/^REFUSED {2}DUPLICATE: /);
    const bad = await paycode("terminal", "accept", qr, "--journal", journal, "--amount", "2.505");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^paycode: invalid amount "2.505": CNY has 2 decimal place/);
    const st = await paycode("terminal", "status", "--journal", journal);
    expect(st.stdout).toMatch(/keys: synced \d+ s ago, fresh/);
    expect(st.stdout).toMatch(/records: 1 journaled, 1 not yet uploaded/);
  });
});

describe("paycode scan input checks", () => {
  it("rejects an inexact amount before any network call", async () => {
    const r = await paycode(
      "scan",
      "--server",
      "http://127.0.0.1:9",
      "--api-key",
      "k",
      "--amount",
      "12.345",
      "--code",
      "621234567890123456",
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^paycode: invalid amount "12.345"/);
  });

  it("reports an unreachable server in one line with the order number", async () => {
    const r = await paycode(
      "scan",
      "--server",
      "http://127.0.0.1:9",
      "--api-key",
      "k",
      "--amount",
      "1",
      "--code",
      "621234567890123456",
      "--out-trade-no",
      "order-1",
      "--attempts",
      "1",
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^paycode: unavailable: .*; outcome unknown, do not scan again: find out with paycode payment get --server http:\/\/127\.0\.0\.1:9 --api-key KEY --out-trade-no order-1\n$/,
    );
  });
});

/** A wallet whose certificate is valid around the real clock (the CLI uses the system clock). */
function walletValidNow(): WalletClient {
  return new WalletClient({
    store: new MemoryWalletStateStore(provisionedState({ aroundMs: Date.now() })),
  });
}
