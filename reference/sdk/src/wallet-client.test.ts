import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  decodeOfflineCode,
  ManualClock,
  OfflineCodeVerifier,
  OnlineCodec,
} from "@paycode/protocol";
import { ProvisionSeedResponseSchema } from "@paycode/protocol/v1";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  PaycodeProtocolError,
  WalletCodesExhaustedError,
  WalletNotProvisionedError,
} from "./errors.js";
import { ISSUER_KEY, PROFILE, provisionedState, T0_MS, WALLET_SEED } from "./testing.js";
import { checkProvisionResponse, WalletClient } from "./wallet-client.js";
import { JsonFileWalletStateStore, MemoryWalletStateStore } from "./wallet-state.js";

const codec = new OnlineCodec({
  prefix: 62,
  codeKey: PROFILE.codeKey,
  windowBackSteps: 2,
  windowAheadSteps: 1,
  lookbackSteps: 60,
});

function verifyOnline(code: string, nowMs: number) {
  const parsed = codec.parse(code);
  expect(parsed, code).toBeDefined();
  return { parsed: parsed!, v: codec.verify(parsed!, WALLET_SEED, Math.floor(nowMs / 1000)) };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-wallet-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("WalletClient online codes", () => {
  it("makes 8 distinct valid codes per step, then throws with the wait to the next step", () => {
    const clock = new ManualClock(T0_MS + 15_000);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(provisionedState()),
      clock,
    });
    expect(wallet.codesLeftThisStep).toBe(8);
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      codes.push(wallet.onlineCode());
      expect(wallet.codesLeftThisStep).toBe(7 - i);
    }
    expect(new Set(codes).size).toBe(8);
    for (const [i, code] of codes.entries()) {
      expect(code).toMatch(/^62\d{16}$/);
      const { parsed, v } = verifyOnline(code, clock.now());
      expect(v).toEqual({ result: "valid", step: T0_MS / 60_000 });
      expect(parsed.counter).toBe(i);
      expect(parsed.handle).toBe(0x0abcdef);
    }
    let err: unknown;
    try {
      wallet.onlineCode();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WalletCodesExhaustedError);
    expect((err as WalletCodesExhaustedError).retryAfterMs).toBe(45_000);
    expect((err as Error).message).toMatch(/all 8 online codes.*45 s/);
    // The failed call consumed nothing; the next step starts from counter 0.
    clock.advance(45_000);
    expect(wallet.codesLeftThisStep).toBe(8);
    const next = verifyOnline(wallet.onlineCode(), clock.now());
    expect(next.parsed.counter).toBe(0);
    expect(next.v).toEqual({ result: "valid", step: T0_MS / 60_000 + 1 });
  });

  it("applies the clock offset learnt at provisioning", () => {
    // The wallet's clock is 7 minutes behind the issuer's.
    const offset = 7 * 60_000;
    const clock = new ManualClock(T0_MS);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(provisionedState({ clockOffsetMs: offset })),
      clock,
    });
    expect(wallet.nowMs()).toBe(T0_MS + offset);
    const code = wallet.onlineCode();
    // Valid at the issuer's time; at the wallet's uncorrected time it would be 7 steps ahead.
    expect(verifyOnline(code, T0_MS + offset).v).toEqual({
      result: "valid",
      step: T0_MS / 60_000 + 7,
    });
    expect(verifyOnline(code, T0_MS).v.result).toBe("invalid");
    const decoded = decodeOfflineCode(wallet.offlineCode())!;
    expect(decoded.payload.issuedAt).toBe(BigInt((T0_MS + offset) / 1000));
  });

  it("never repeats a (step, counter) when the wallet clock steps back", () => {
    const clock = new ManualClock(T0_MS + 120_000);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(provisionedState()),
      clock,
    });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) seen.add(wallet.onlineCode());
    clock.set(T0_MS); // two steps back
    for (let i = 0; i < 5; i++) {
      const code = wallet.onlineCode();
      const p = codec.parse(code)!;
      expect(p.counter).toBe(3 + i);
      seen.add(code);
    }
    expect(seen.size).toBe(8);
    expect(() => wallet.onlineCode()).toThrow(WalletCodesExhaustedError);
  });

  it("refuses to make codes before provisioning", () => {
    const wallet = new WalletClient({ store: new MemoryWalletStateStore() });
    expect(wallet.isProvisioned).toBe(false);
    expect(() => wallet.onlineCode()).toThrow(WalletNotProvisionedError);
    expect(() => wallet.offlineCode()).toThrow(WalletNotProvisionedError);
  });
});

describe("WalletClient offline codes", () => {
  it("signs codes with monotonic counters that a terminal verifier accepts", () => {
    const clock = new ManualClock(T0_MS + 10_000);
    const wallet = new WalletClient({
      store: new MemoryWalletStateStore(provisionedState()),
      clock,
    });
    const verifier = new OfflineCodeVerifier({
      keys: [{ keyId: "k1", publicKey: ISSUER_KEY.publicKey, notBefore: 0, notAfter: 2 ** 40 }],
    });
    for (let i = 1n; i <= 3n; i++) {
      const text = wallet.offlineCode();
      expect(text.startsWith("PC1:")).toBe(true);
      const v = verifier.verify(text, {
        nowSeconds: T0_MS / 1000 + 10,
        amountMinor: 100n,
        currency: "CNY",
      });
      expect(v).toMatchObject({ result: "valid", walletId: "w-test", counter: i });
    }
  });
});

describe("JSON-file wallet state", () => {
  it("persists counters so codes never repeat across restarts", () => {
    const path = join(dir, "sub", "wallet.json");
    const clock = new ManualClock(T0_MS);
    new JsonFileWalletStateStore(path).update(() => provisionedState());
    const online = new Set<string>();
    const offline: bigint[] = [];
    // Each "run" is a fresh process: a new store and client over the same file.
    for (let run = 0; run < 4; run++) {
      const wallet = new WalletClient({ store: new JsonFileWalletStateStore(path), clock });
      online.add(wallet.onlineCode());
      online.add(wallet.onlineCode());
      offline.push(decodeOfflineCode(wallet.offlineCode())!.payload.counter);
    }
    expect(online.size).toBe(8);
    expect(offline).toEqual([1n, 2n, 3n, 4n]);
    const wallet = new WalletClient({ store: new JsonFileWalletStateStore(path), clock });
    expect(wallet.codesLeftThisStep).toBe(0);
    expect(() => wallet.onlineCode()).toThrow(WalletCodesExhaustedError);
  });

  it("writes mode 0600 atomically and leaves no temporary or lock files", () => {
    const path = join(dir, "wallet.json");
    const store = new JsonFileWalletStateStore(path);
    store.update(() => provisionedState());
    new WalletClient({ store, clock: new ManualClock(T0_MS) }).onlineCode();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["wallet.json"]);
    expect(store.load()!.onlineNextCounter).toBe(1);
  });

  it("does not write when the update fails", () => {
    const path = join(dir, "wallet.json");
    const store = new JsonFileWalletStateStore(path);
    store.update(() => ({
      ...provisionedState(),
      onlineStep: T0_MS / 60_000,
      onlineNextCounter: 8,
    }));
    const before = store.load();
    expect(() => new WalletClient({ store, clock: new ManualClock(T0_MS) }).onlineCode()).toThrow();
    expect(store.load()).toEqual(before);
  });

  it("waits for another process's lock and reports a held lock clearly", () => {
    const path = join(dir, "wallet.json");
    const store = new JsonFileWalletStateStore(path, { lockTimeoutMs: 50 });
    store.update(() => provisionedState());
    writeFileSync(`${path}.lock`, "");
    expect(() => store.update((s) => s!)).toThrow(/locked by another process/);
    // A lock left by a crashed process is broken once stale.
    const stale = new JsonFileWalletStateStore(path, { lockTimeoutMs: 50, staleLockMs: 0 });
    expect(stale.update((s) => s!).walletId).toBe("w-test");
  });

  it("reports a corrupt file clearly", () => {
    const path = join(dir, "wallet.json");
    writeFileSync(path, "{ not json");
    expect(() => new JsonFileWalletStateStore(path).load()).toThrow(/not valid JSON/);
    writeFileSync(path, JSON.stringify({ ...provisionedState(), onlineNextCounter: 9 }));
    expect(() => new JsonFileWalletStateStore(path).load()).toThrow(/onlineNextCounter/);
  });
});

describe("ProvisionSeed response checks", () => {
  const state = provisionedState();
  const good = () =>
    create(ProvisionSeedResponseSchema, {
      walletId: "w-test",
      handle: 5,
      seed: WALLET_SEED,
      certificate: new WalletClient({ store: new MemoryWalletStateStore(state) }).certificate,
      profile: PROFILE,
      serverTime: timestampFromMs(T0_MS),
      limits: {},
      walletToken: "t",
    });
  const walletKey = new WalletClient({ store: new MemoryWalletStateStore(state) }).certificateBody
    .walletPublicKey;

  it("accepts a well-formed response", () => {
    expect(checkProvisionResponse(good(), walletKey).serverMs).toBe(T0_MS);
  });

  it.each([
    ["seed", (r: ReturnType<typeof good>) => (r.seed = new Uint8Array(31)), /seed is 31 bytes/],
    ["handle", (r: ReturnType<typeof good>) => (r.handle = 2 ** 28), /28 bits/],
    ["token", (r: ReturnType<typeof good>) => (r.walletToken = ""), /wallet_token/],
    ["time", (r: ReturnType<typeof good>) => (r.serverTime = undefined), /server_time/],
    ["profile", (r: ReturnType<typeof good>) => (r.profile = undefined), /no profile/],
    ["prefix", (r: ReturnType<typeof good>) => (r.profile!.issuerPrefix = 9), /issuer_prefix/],
    ["wallet id", (r: ReturnType<typeof good>) => (r.walletId = "other"), /another wallet id/],
    ["certificate", (r: ReturnType<typeof good>) => (r.certificate = undefined), /no certificate/],
  ])("rejects a bad %s", (_name, spoil, message) => {
    const r = good();
    spoil(r);
    expect(() => checkProvisionResponse(r, walletKey)).toThrow(PaycodeProtocolError);
    expect(() => checkProvisionResponse(r, walletKey)).toThrow(message);
  });

  it("rejects a certificate for another key", () => {
    expect(() => checkProvisionResponse(good(), new Uint8Array(32).fill(7))).toThrow(/public key/);
  });
});
