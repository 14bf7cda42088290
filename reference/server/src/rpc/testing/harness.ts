import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import {
  buildOfflineCode,
  type Ed25519KeyPair,
  generateEd25519,
  ManualClock,
  OnlineCodec,
  stepOf,
} from "@paycode/protocol";
import type { IssuerProfile, WalletCertificate, WalletLimits } from "@paycode/protocol/v1";
import {
  ConformanceService,
  MerchantService,
  type Money,
  MoneySchema,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import { expect } from "vitest";
import type { AuditLog } from "../../issuer/audit-log.js";
import { Issuer } from "../../issuer/index.js";
import type { MutantName } from "../../issuer/mutants.js";
import { type TestTransport, testTransport, type WireVariant } from "../../testing/transports.js";
import { type PaycodeServer, startServer } from "../start-server.js";

/** 2026-03-02T08:00:00Z: a fixed issuer time, on a step boundary. */
export const HARNESS_T0_MS = 1_772_438_400_000;

export const cny = (amountMinor: bigint | number, currency = "CNY"): Money =>
  create(MoneySchema, { currency, amountMinor: BigInt(amountMinor) });

/** Where a test server keeps its data. */
export interface StoreUnderTest {
  readonly name: string;
  /** A fresh store URL for one server. */
  url(): Promise<string>;
  cleanup(): Promise<void>;
}

/** A SQLite file per server, in one temporary directory. */
export function sqliteStores(): StoreUnderTest {
  const dir = mkdtempSync(join(tmpdir(), "paycode-server-"));
  let n = 0;
  return {
    name: "sqlite",
    url: async () => `sqlite:${join(dir, `store-${n++}.db`)}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Harness {
  readonly server: PaycodeServer;
  readonly issuer: Issuer;
  readonly clock: ManualClock;
  readonly url: string;
  readonly control: Client<typeof ConformanceService>;
  transport(variant?: WireVariant): TestTransport;
  newMerchant(name?: string): Promise<TestMerchant>;
  newTerminal(merchantId: string): Promise<TestTerminal>;
  newWallet(o?: NewWalletOptions): Promise<TestWallet>;
  /** Provisions a new wallet for an existing account (revoking the old one). */
  reprovision(wallet: TestWallet): Promise<TestWallet>;
  balance(owner: { accountId: string } | { merchantId: string }): Promise<bigint>;
  expectLedgerBalanced(): Promise<void>;
  nowSeconds(): number;
  close(): Promise<void>;
}

export interface TestMerchant {
  readonly merchantId: string;
  readonly apiKey: string;
  readonly merchant: Client<typeof MerchantService>;
  readonly settlement: Client<typeof SettlementService>;
}

export interface TestTerminal {
  readonly terminalId: string;
  readonly apiKey: string;
  readonly settlement: Client<typeof SettlementService>;
}

export interface NewWalletOptions {
  balance?: bigint;
  password?: string;
  limits?: Partial<Pick<WalletLimits, "dailyPasswordFreeCount">> & {
    perPaymentPasswordFree?: bigint;
    dailyPasswordFreeAmount?: bigint;
  };
}

export interface TestWallet {
  readonly accountId: string;
  readonly password: string;
  readonly walletId: string;
  readonly token: string;
  readonly handle: number;
  readonly seed: Uint8Array;
  readonly profile: IssuerProfile;
  readonly certificate: WalletCertificate;
  readonly key: Ed25519KeyPair;
  readonly wallet: Client<typeof WalletService>;
  /** A fresh online code for the issuer's current step (+ `stepOffset`). */
  onlineCode(stepOffset?: number): string;
  /** An online code with this wallet's handle but a MAC from another seed. */
  forgedOnlineCode(): string;
  /** A fresh offline code (next counter) issued at the issuer's current time. */
  offlineCode(issuedAt?: number): { code: string; counter: bigint };
}

export interface HarnessOptions {
  variant?: WireVariant;
  /** Serve HTTPS with this certificate; clients trust it. */
  tls?: { cert: string; key: string };
  mutant?: MutantName;
  startMs?: number;
  /** The audit log given to both the issuer and the server. */
  audit?: AuditLog;
}

/**
 * A real issuer on `storeUrl` behind a real server on a random loopback
 * port, with a manual clock moved only through AdvanceClock.
 */
export async function startHarness(storeUrl: string, o: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock(o.startMs ?? HARNESS_T0_MS);
  const issuer = await Issuer.open({
    store: storeUrl,
    clock,
    masterKey: new Uint8Array(randomBytes(32)),
    advanceClock: (ms) => clock.advance(ms),
    passwordCostN: 1024,
    ...(o.mutant !== undefined ? { mutant: o.mutant } : {}),
    ...(o.audit !== undefined ? { audit: o.audit } : {}),
  });
  const server = await startServer({
    issuer,
    port: 0,
    enableTestControl: true,
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
    ...(o.audit !== undefined ? { audit: o.audit, clock } : {}),
    logger: {
      error: (m, e) => console.error(`[server] ${m}`, e),
      info() {},
    },
  });
  const transports: TestTransport[] = [];
  const transport = (variant: WireVariant = o.variant ?? "connect-h1") => {
    const t = testTransport(server.url, variant, o.tls !== undefined ? { ca: o.tls.cert } : {});
    transports.push(t);
    return t;
  };
  const main = transport();
  const control = main.client(ConformanceService);
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const makeWallet = async (accountId: string, password: string): Promise<TestWallet> => {
    const key = generateEd25519();
    const res = await main.client(WalletService).provisionSeed({
      accountId,
      password,
      walletPublicKey: key.publicKey,
      deviceLabel: "test phone",
    });
    const profile = res.profile!;
    const codec = new OnlineCodec({
      prefix: profile.issuerPrefix,
      codeKey: profile.codeKey,
      windowBackSteps: profile.windowBackSteps,
      windowAheadSteps: profile.windowAheadSteps,
      lookbackSteps: profile.lookbackSteps,
    });
    const used = new Map<number, number>();
    let offlineCounter = 0n;
    const nextCounter = (step: number) => {
      const c = used.get(step) ?? 0;
      if (c > 7) throw new Error(`test wallet used all 8 codes of step ${step}; advance the clock`);
      used.set(step, c + 1);
      return c;
    };
    return {
      accountId,
      password,
      walletId: res.walletId,
      token: res.walletToken,
      handle: res.handle,
      seed: res.seed,
      profile,
      certificate: res.certificate!,
      key,
      wallet: main.client(WalletService, res.walletToken),
      onlineCode(stepOffset = 0) {
        const step = stepOf(nowSeconds()) + stepOffset;
        return codec.generate({
          handle: res.handle,
          seed: res.seed,
          step,
          counter: nextCounter(step),
        });
      },
      forgedOnlineCode() {
        const step = stepOf(nowSeconds());
        return codec.generate({
          handle: res.handle,
          seed: new Uint8Array(randomBytes(32)),
          step,
          counter: 7,
        });
      },
      offlineCode(issuedAt = nowSeconds()) {
        offlineCounter += 1n;
        return {
          counter: offlineCounter,
          code: buildOfflineCode({
            certificate: res.certificate!,
            walletId: res.walletId,
            counter: offlineCounter,
            issuedAt,
            walletPrivateKey: key.privateKey,
          }),
        };
      },
    };
  };

  return {
    server,
    issuer,
    clock,
    url: server.url,
    control,
    transport,
    nowSeconds,
    async newMerchant(name = "shop") {
      const m = await control.createMerchant({ name });
      return {
        merchantId: m.merchantId,
        apiKey: m.apiKey,
        merchant: main.client(MerchantService, m.apiKey),
        settlement: main.client(SettlementService, m.apiKey),
      };
    },
    async newTerminal(merchantId) {
      const t = await control.createTerminal({ merchantId });
      return {
        terminalId: t.terminalId,
        apiKey: t.apiKey,
        settlement: main.client(SettlementService, t.apiKey),
      };
    },
    async newWallet(w = {}) {
      const password = w.password ?? "correct horse";
      const l = w.limits ?? {};
      const { accountId } = await control.createAccount({
        password,
        balance: cny(w.balance ?? 100_000n),
        limits: {
          ...(l.perPaymentPasswordFree !== undefined
            ? { perPaymentPasswordFree: cny(l.perPaymentPasswordFree) }
            : {}),
          ...(l.dailyPasswordFreeAmount !== undefined
            ? { dailyPasswordFreeAmount: cny(l.dailyPasswordFreeAmount) }
            : {}),
          ...(l.dailyPasswordFreeCount !== undefined
            ? { dailyPasswordFreeCount: l.dailyPasswordFreeCount }
            : {}),
        },
      });
      return makeWallet(accountId, password);
    },
    reprovision: (w) => makeWallet(w.accountId, w.password),
    async balance(owner) {
      const r = await control.getBalance(
        "accountId" in owner
          ? { owner: { case: "accountId", value: owner.accountId } }
          : { owner: { case: "merchantId", value: owner.merchantId } },
      );
      return r.balance!.amountMinor;
    },
    async expectLedgerBalanced() {
      const r = await control.getLedgerTotal({ currency: "CNY" });
      expect(r.total?.amountMinor).toBe(0n);
    },
    async close() {
      for (const t of transports) t.close();
      await server.close();
    },
  };
}

/** Milliseconds of a protobuf timestamp, or undefined. */
export function tsMs(t: Parameters<typeof timestampMs>[0] | undefined): number | undefined {
  return t === undefined ? undefined : timestampMs(t);
}

/** The UTC day of a clock time, YYYY-MM-DD. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
