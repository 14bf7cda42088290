// Fixtures for this folder's tests; not exported from index.ts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ProfileOverrides } from "@paycode/protocol";
import {
  buildOfflineCode,
  type Ed25519KeyPair,
  generateEd25519,
  ManualClock,
  OffsetClock,
  OnlineCodec,
  stepOf,
} from "@paycode/protocol";
import type { Payment } from "@paycode/protocol/v1";
import {
  CreateAccountRequestSchema,
  CreateMerchantRequestSchema,
  CreateTerminalRequestSchema,
  GetBalanceRequestSchema,
  GetLedgerTotalRequestSchema,
  MoneySchema,
  OfflineRecordSchema,
  ProvisionSeedRequestSchema,
  type ProvisionSeedResponse,
  ScanRequestSchema,
  UploadOfflineBatchRequestSchema,
  WalletLimitsSchema,
} from "@paycode/protocol/v1";
import { expect } from "vitest";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";
import type { AuditEvent, AuditLog } from "./audit-log.js";
import { Issuer } from "./issuer.js";
import type { MerchantPrincipal, TerminalPrincipal, WalletPrincipal } from "./issuer-api.js";
import type { MutantName } from "./mutants.js";
import type { ScanThrottleConfig } from "./scan-throttle.js";

/** Mid-day UTC, so a few hours of clock movement stay on one day. */
export const T0 = Date.UTC(2030, 0, 15, 10, 0, 0);
export const MASTER_KEY = new Uint8Array(32).fill(0x4d);
export const PASSWORD = "correct horse";

export const cny = (amountMinor: bigint | number) =>
  create(MoneySchema, { currency: "CNY", amountMinor: BigInt(amountMinor) });

export interface TestWallet {
  principal: WalletPrincipal;
  provision: ProvisionSeedResponse;
  keys: Ed25519KeyPair;
  accountId: string;
  /** Next offline counter. */
  counter: bigint;
}

export interface TestMerchant {
  principal: MerchantPrincipal;
  merchantId: string;
  apiKey: string;
}

/** An issuer on a real store with a manual clock, plus the moves a wallet, scanner and terminal make. */
export class IssuerFixture {
  private onlineCodec?: OnlineCodec;
  private steps = new Map<string, number>();
  private seq = 0;

  constructor(
    readonly issuer: Issuer,
    readonly clock: ManualClock,
    readonly store: Store,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async open(
    o: {
      url?: string;
      mutant?: MutantName;
      profile?: ProfileOverrides;
      clockStart?: number;
      scanThrottle?: ScanThrottleConfig | null;
      principalCacheTtlMs?: number;
      audit?: AuditLog;
      masterKey?: Uint8Array;
    } = {},
  ): Promise<IssuerFixture> {
    let dir: string | undefined;
    let url = o.url;
    if (!url) {
      dir = mkdtempSync(join(tmpdir(), "paycode-issuer-"));
      url = `sqlite:${join(dir, "issuer.db")}`;
    }
    const store = await openStore(url);
    const clock = new ManualClock(o.clockStart ?? T0);
    // The issuer clock follows the manual one until test control sets or
    // freezes it (SetClock); AdvanceClock moves both.
    const issuerClock = new OffsetClock(clock);
    const issuer = await Issuer.open({
      store,
      clock: issuerClock,
      masterKey: o.masterKey ?? MASTER_KEY,
      profile: o.profile,
      mutant: o.mutant,
      ...(o.principalCacheTtlMs !== undefined
        ? { principalCacheTtlMs: o.principalCacheTtlMs }
        : {}),
      ...(o.audit !== undefined ? { audit: o.audit } : {}),
      advanceClock: (ms) => {
        if (issuerClock.frozen) issuerClock.advance(ms);
        clock.advance(ms);
      },
      settableClock: issuerClock,
      passwordCostN: 2 ** 10,
      scanThrottle: o.scanThrottle,
      audit: o.audit,
    });
    return new IssuerFixture(issuer, clock, store, async () => {
      await issuer.close();
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
  }

  close(): Promise<void> {
    return this.cleanup();
  }

  nextId(prefix: string): string {
    return `${prefix}-${++this.seq}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async merchant(): Promise<TestMerchant> {
    const r = await this.issuer.control.createMerchant(
      create(CreateMerchantRequestSchema, { name: "shop" }),
    );
    return {
      merchantId: r.merchantId,
      apiKey: r.apiKey,
      principal: await this.issuer.authenticateMerchant(r.apiKey),
    };
  }

  async terminal(merchant: TestMerchant): Promise<TerminalPrincipal> {
    return (await this.terminalWithKey(merchant)).principal;
  }

  async terminalWithKey(
    merchant: TestMerchant,
  ): Promise<{ principal: TerminalPrincipal; terminalId: string; apiKey: string }> {
    const r = await this.issuer.control.createTerminal(
      create(CreateTerminalRequestSchema, { merchantId: merchant.merchantId }),
    );
    return {
      principal: await this.issuer.authenticateTerminal(r.apiKey),
      terminalId: r.terminalId,
      apiKey: r.apiKey,
    };
  }

  async account(
    balance: bigint | number,
    limits: {
      perPaymentPasswordFree?: bigint;
      dailyPasswordFreeAmount?: bigint;
      dailyPasswordFreeCount?: number;
      perPaymentOffline?: bigint;
      cumulativeOffline?: bigint;
    } = {},
  ): Promise<string> {
    const r = await this.issuer.control.createAccount(
      create(CreateAccountRequestSchema, {
        password: PASSWORD,
        balance: cny(balance),
        limits: create(WalletLimitsSchema, {
          perPaymentPasswordFree:
            limits.perPaymentPasswordFree === undefined
              ? undefined
              : cny(limits.perPaymentPasswordFree),
          dailyPasswordFreeAmount:
            limits.dailyPasswordFreeAmount === undefined
              ? undefined
              : cny(limits.dailyPasswordFreeAmount),
          dailyPasswordFreeCount: limits.dailyPasswordFreeCount ?? 0,
          perPaymentOffline:
            limits.perPaymentOffline === undefined ? undefined : cny(limits.perPaymentOffline),
          cumulativeOffline:
            limits.cumulativeOffline === undefined ? undefined : cny(limits.cumulativeOffline),
        }),
      }),
    );
    return r.accountId;
  }

  async wallet(accountId: string): Promise<TestWallet> {
    const keys = generateEd25519();
    const provision = await this.issuer.provisionSeed(
      create(ProvisionSeedRequestSchema, {
        accountId,
        password: PASSWORD,
        walletPublicKey: keys.publicKey,
        deviceLabel: "test phone",
      }),
    );
    const principal = await this.issuer.authenticateWallet(provision.walletToken);
    return { principal, provision, keys, accountId, counter: 1n };
  }

  /** A funded account with a wallet. */
  async payer(
    balance: bigint | number,
    limits?: Parameters<IssuerFixture["account"]>[1],
  ): Promise<TestWallet> {
    return this.wallet(await this.account(balance, limits));
  }

  private codec(w: TestWallet): OnlineCodec {
    const p = w.provision.profile!;
    this.onlineCodec ??= new OnlineCodec({
      prefix: p.issuerPrefix,
      codeKey: p.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    });
    return this.onlineCodec;
  }

  /** A fresh online code at the current time (or `stepOffset` steps away), with a new counter each call. */
  onlineCode(w: TestWallet, o: { stepOffset?: number; counter?: number } = {}): string {
    const step = stepOf(Math.floor(this.clock.now() / 1000)) + (o.stepOffset ?? 0);
    const key = `${w.provision.walletId}:${step}`;
    const counter = o.counter ?? this.steps.get(key) ?? 0;
    this.steps.set(key, counter + 1);
    return this.codec(w).generate({
      handle: w.provision.handle,
      seed: w.provision.seed,
      step,
      counter,
    });
  }

  offlineCode(w: TestWallet, o: { counter?: bigint; issuedAtMs?: number } = {}): string {
    const counter = o.counter ?? w.counter++;
    return buildOfflineCode({
      certificate: w.provision.certificate!,
      walletId: w.provision.walletId,
      counter,
      issuedAt: Math.floor((o.issuedAtMs ?? this.clock.now()) / 1000),
      walletPrivateKey: w.keys.privateKey,
    });
  }

  scan(
    m: TestMerchant,
    code: string,
    amount: bigint | number,
    outTradeNo = this.nextId("order"),
  ): Promise<Payment> {
    return this.issuer
      .scan(
        m.principal,
        create(ScanRequestSchema, { outTradeNo, amount: cny(amount), code, subject: "test" }),
      )
      .then((r) => r.payment!);
  }

  async balance(w: TestWallet | TestMerchant): Promise<bigint> {
    const r = await this.issuer.control.getBalance(
      create(GetBalanceRequestSchema, {
        owner:
          "merchantId" in w
            ? { case: "merchantId", value: w.merchantId }
            : { case: "accountId", value: w.accountId },
      }),
    );
    return r.balance!.amountMinor;
  }

  /** An offline record as a terminal journals it. */
  record(
    code: string,
    amount: bigint | number,
    o: { acceptedAtMs?: number; keysSyncedAtMs?: number; recordId?: string } = {},
  ) {
    return create(OfflineRecordSchema, {
      recordId: o.recordId ?? this.nextId("rec"),
      code,
      amount: cny(amount),
      acceptedAt: timestampFromMs(o.acceptedAtMs ?? this.clock.now()),
      keysSyncedAt: timestampFromMs(o.keysSyncedAtMs ?? this.clock.now() - 60_000),
    });
  }

  upload(
    t: TerminalPrincipal,
    records: ReturnType<IssuerFixture["record"]>[],
    batchId = this.nextId("batch"),
  ) {
    return this.issuer.uploadOfflineBatch(
      t,
      create(UploadOfflineBatchRequestSchema, { batchId, records }),
    );
  }

  /** The ledger invariant: every currency sums to zero and every balance equals its transfers. */
  async expectLedgerBalanced(): Promise<void> {
    const total = await this.issuer.control.getLedgerTotal(
      create(GetLedgerTotalRequestSchema, { currency: "CNY" }),
    );
    expect(total.total?.amountMinor).toBe(0n);
    const audit = await this.store.transaction((tx) => tx.ledgerAudit());
    expect(audit).toEqual([]);
  }
}

/** An audit log that keeps its events, for tests that check what was reported. */
export class MemoryAudit implements AuditLog {
  readonly events: AuditEvent[] = [];
  async record(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
  /** The types recorded, in order; with `families` ("throttle."), only those starting so. */
  types(...families: string[]): string[] {
    return this.events
      .map((e) => e.type)
      .filter((t) => families.length === 0 || families.some((f) => t.startsWith(f)));
  }
}
