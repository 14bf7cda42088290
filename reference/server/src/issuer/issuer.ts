import { randomBytes, randomInt } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "@paycode/protocol";
import {
  type IssuerProfileConfig,
  isSmallOrderEd25519PublicKey,
  issueCertificate,
  OfflineCodeVerifier,
  OnlineCodec,
  type ProfileOverrides,
  profileToProto,
  resolveProfile,
} from "@paycode/protocol";
import {
  type AdvanceClockRequest,
  type AdvanceClockResponse,
  AdvanceClockResponseSchema,
  CancelAction,
  type CancelPaymentRequest,
  type CancelPaymentResponse,
  CancelPaymentResponseSchema,
  type ConfirmPaymentRequest,
  type ConfirmPaymentResponse,
  ConfirmPaymentResponseSchema,
  type CreateAccountRequest,
  type CreateAccountResponse,
  CreateAccountResponseSchema,
  type CreateMerchantRequest,
  type CreateMerchantResponse,
  CreateMerchantResponseSchema,
  type CreateTerminalRequest,
  type CreateTerminalResponse,
  CreateTerminalResponseSchema,
  type GetBalanceRequest,
  type GetBalanceResponse,
  GetBalanceResponseSchema,
  type GetCapabilitiesResponse,
  GetCapabilitiesResponseSchema,
  type GetIssuerKeysResponse,
  GetIssuerKeysResponseSchema,
  type GetLedgerTotalRequest,
  type GetLedgerTotalResponse,
  GetLedgerTotalResponseSchema,
  type GetPaymentRequest,
  type GetPaymentResponse,
  GetPaymentResponseSchema,
  type GetSettlementReportRequest,
  type GetSettlementReportResponse,
  GetSettlementReportResponseSchema,
  type GetWalletResponse,
  GetWalletResponseSchema,
  IssuerKeySchema,
  type OfflineRecord,
  type ProvisionSeedRequest,
  type ProvisionSeedResponse,
  ProvisionSeedResponseSchema,
  RecordOutcome,
  RecordResultSchema,
  type RefundPaymentRequest,
  type RefundPaymentResponse,
  RefundPaymentResponseSchema,
  type RevokeSeedRequest,
  type RevokeSeedResponse,
  RevokeSeedResponseSchema,
  type ScanRequest,
  type ScanResponse,
  ScanResponseSchema,
  type UploadOfflineBatchRequest,
  UploadOfflineBatchRequestSchema,
  type UploadOfflineBatchResponse,
  UploadOfflineBatchResponseSchema,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import { openStore } from "../store/open-store.js";
import type {
  BatchResultRecord,
  DeclineReasonName,
  IssuerKeyRecord,
  PaymentRecord,
  PaymentStatusName,
  RefundRecord,
  WalletRecord,
} from "../store/records.js";
import { type Store, TransactionRetry, type Tx } from "../store/store.js";
import { bearerHashesEqual, hashBearerKey, newBearerKey } from "./api-keys.js";
import { BoundedCache } from "./bounded-cache.js";
import {
  type CodeDecoderDeps,
  type DecodedCode,
  decodeScannedCode,
  offlineUsageKey,
  verifyOffline,
  type WalletSecret,
} from "./code-decoder.js";
import { bytesEqual, sha256 } from "./digest.js";
import { newId } from "./ids.js";
import type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "./issuer-api.js";
import { type IssuerSigningKey, issuerKeyEntry, loadOrCreateIssuerKeys } from "./issuer-keys.js";
import { limitsFromProto, limitsToProto, stepUpReason } from "./limits.js";
import { isMutantName, type MutantName } from "./mutants.js";
import { burnPasswordTime, DEFAULT_SCRYPT_N, hashPassword, verifyPassword } from "./passwords.js";
import { assertTransition, isPastDeadline } from "./payment-state.js";
import { SeedVault } from "./seed-vault.js";
import { money, paymentToProto, refundToProto, timestamp } from "./to-proto.js";
import { utcDay, utcDayRange } from "./utc-day.js";
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isCurrency,
  MAX_BATCH_RECORDS,
  MAX_CODE_LENGTH,
  notFound,
  permissionDenied,
  requireAmount,
  requireCode,
  requireCurrency,
  requireId,
  requireMaxLength,
  requirePassword,
  requireReference,
  unauthenticated,
} from "./validation.js";

export interface IssuerOpenOptions {
  /** A store, or a store URL the issuer opens (and closes on `close()`). */
  store: Store | string;
  clock: Clock;
  /** 32-byte key that wraps the data keys of seeds and of the issuer signing key. */
  masterKey: Uint8Array;
  /** Overrides of "paycode-default-v1". */
  profile?: ProfileOverrides;
  /**
   * FF1 key of online codes. Generated and stored on first open when absent;
   * when given, it must equal the stored one (if any).
   */
  codeKey?: Uint8Array;
  /** A deliberately broken rule, for conformance self-tests only. */
  mutant?: MutantName;
  /** Moves `clock` forward; enables test-control AdvanceClock ("controllable-clock"). */
  advanceClock?: (ms: number) => void;
  /** scrypt N of new password hashes; tests lower it for speed. */
  passwordCostN?: number;
  /** Implementation name in GetCapabilities. */
  implementation?: string;
}

type Decision<T> = { ok: T } | { error: ConnectError };

type OutcomeName = keyof typeof RecordOutcome;

/** An offline record after the checks that need no store (contract §4 steps before revocation). */
type CheckedRecord =
  | { reject: OutcomeName }
  | {
      walletId: string;
      counter: bigint;
      amount: bigint;
      currency: string;
      acceptedAtMs: number;
      keysSyncedAtMs: number;
      cumulativeLimit: bigint;
    };

type Lookup = { paymentId: string } | { outTradeNo: string };

const DEFAULT_IMPLEMENTATION = "paycode-reference/0.1.0";
const HANDLE_SPACE = 2 ** 28;
const minBigint = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const issuerAccountId = (currency: string) => `acc_issuer_${currency.toLowerCase()}`;

/**
 * The issuer: every business rule of contract §4 over a `Store`. Stateless
 * apart from caches of immutable data, so many instances may share one
 * PostgreSQL database. Each money decision is one store transaction.
 */
export class Issuer implements IssuerApi {
  private readonly walletSecrets = new BoundedCache<number, WalletSecret>(100_000);
  private readonly merchantKeys = new BoundedCache<string, MerchantPrincipal>(10_000);
  private readonly terminalKeys = new BoundedCache<string, TerminalPrincipal>(10_000);
  private readonly walletTokens = new BoundedCache<string, WalletPrincipal>(100_000);
  private readonly merchantAccounts = new BoundedCache<string, string>(10_000);
  private readonly online: OnlineCodec;
  private readonly offline: OfflineCodeVerifier;
  private readonly decoder: CodeDecoderDeps;

  private constructor(
    private readonly store: Store,
    private readonly ownsStore: boolean,
    private readonly clock: Clock,
    readonly profile: IssuerProfileConfig,
    private readonly codeKey: Uint8Array,
    private readonly vault: SeedVault,
    private readonly signingKey: IssuerSigningKey,
    private readonly issuerKeys: IssuerKeyRecord[],
    readonly mutant: MutantName | undefined,
    private readonly advance: ((ms: number) => void) | undefined,
    private readonly passwordCostN: number,
    private readonly implementation: string,
  ) {
    this.online = new OnlineCodec({
      prefix: profile.issuerPrefix,
      codeKey,
      windowBackSteps: profile.windowBackSteps,
      windowAheadSteps: profile.windowAheadSteps,
      lookbackSteps: profile.lookbackSteps,
    });
    this.offline = new OfflineCodeVerifier({
      keys: issuerKeys.map(issuerKeyEntry),
      validitySeconds: profile.offlineCodeValiditySeconds,
      clockSkewSeconds: profile.offlineClockSkewSeconds,
    });
    this.decoder = {
      online: this.online,
      offline: () => this.offline,
      walletByHandle: (handle) => this.walletByHandle(handle),
      mutant,
    };
  }

  static async open(o: IssuerOpenOptions): Promise<Issuer> {
    if (o.mutant !== undefined && !isMutantName(o.mutant))
      throw new Error(`unknown mutant "${o.mutant}"`);
    const profile = resolveProfile(o.profile);
    const vault = new SeedVault(o.masterKey);
    if (o.codeKey !== undefined && o.codeKey.length !== 32)
      throw new RangeError("codeKey must be 32 bytes");
    const ownsStore = typeof o.store === "string";
    const store = typeof o.store === "string" ? await openStore(o.store) : o.store;
    try {
      const now = o.clock.now();
      // The code key is given to every wallet, so it is stored as is; what
      // must agree across servers sharing the database is that it is one key.
      const codeKey = await store.transaction((tx) =>
        tx.putSettingIfAbsent("code_key", o.codeKey ?? new Uint8Array(randomBytes(32))),
      );
      if (o.codeKey !== undefined && !bytesEqual(codeKey, o.codeKey)) {
        throw new Error("codeKey differs from the code key this database was created with");
      }
      const keys = await loadOrCreateIssuerKeys(store, vault, now);
      await store.transaction(async (tx) => {
        await tx.insertAccount({
          id: issuerAccountId(profile.currency),
          kind: "issuer",
          currency: profile.currency,
          passwordHash: null,
          limits: null,
          createdAt: now,
        });
      });
      return new Issuer(
        store,
        ownsStore,
        o.clock,
        profile,
        codeKey,
        vault,
        keys.signing,
        keys.all,
        o.mutant,
        o.advanceClock,
        o.passwordCostN ?? DEFAULT_SCRYPT_N,
        o.implementation ?? DEFAULT_IMPLEMENTATION,
      );
    } catch (e) {
      if (ownsStore) await store.close();
      throw e;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Runs a transaction whose client errors must not undo what it wrote before them (lazy closes). */
  private async decide<T>(fn: (tx: Tx) => Promise<Decision<T>>): Promise<T> {
    const d = await this.store.transaction(fn);
    if ("error" in d) throw d.error;
    return d.ok;
  }

  private async walletByHandle(handle: number): Promise<WalletSecret | undefined> {
    const cached = this.walletSecrets.get(handle);
    if (cached) return cached;
    const w = await this.store.transaction((tx) => tx.getWalletByHandle(handle));
    if (!w) return undefined;
    const secret = { walletId: w.id, seed: this.vault.open(w.seedEnvelope, `wallet-seed:${w.id}`) };
    this.walletSecrets.set(handle, secret);
    return secret;
  }

  /** Inside a transaction pass its `tx`: a nested `store.transaction` would wait for the outer one. */
  private async merchantAccountId(merchantId: string, tx?: Tx): Promise<string> {
    const cached = this.merchantAccounts.get(merchantId);
    if (cached) return cached;
    const m = tx
      ? await tx.getMerchant(merchantId)
      : await this.store.transaction((t) => t.getMerchant(merchantId));
    if (!m) throw notFound(`merchant ${merchantId} not found`);
    this.merchantAccounts.set(merchantId, m.accountId);
    return m.accountId;
  }

  /** Materialises the auto-close of a pending payment past its deadline (contract §4 "Auto-close"). */
  private async lazyClose(tx: Tx, p: PaymentRecord, now: number): Promise<PaymentRecord> {
    if (!isPastDeadline(p, now) || this.mutant === "no-auto-close") return p;
    const locked = await tx.getPayment(p.id, { forUpdate: true });
    if (!locked || !isPastDeadline(locked, now)) return locked ?? p;
    return this.setStatus(tx, locked, "CLOSED", { updatedAt: locked.confirmDeadline! });
  }

  /** Changes a payment's status, guarded by the state machine. */
  private setStatus(
    tx: Tx,
    p: PaymentRecord,
    status: PaymentStatusName,
    changes: Partial<PaymentRecord> = {},
  ): Promise<PaymentRecord> {
    assertTransition(p.status, status);
    return this.save(tx, { ...p, updatedAt: this.clock.now(), ...changes, status });
  }

  private async save(tx: Tx, next: PaymentRecord): Promise<PaymentRecord> {
    await tx.updatePayment(next.id, {
      status: next.status,
      declineReason: next.declineReason,
      refundedAmount: next.refundedAmount,
      confirmDeadline: next.confirmDeadline,
      passwordFree: next.passwordFree,
      updatedAt: next.updatedAt,
    });
    return next;
  }

  private lookupOf(lookup: CancelPaymentRequest["lookup"] | GetPaymentRequest["lookup"]): Lookup {
    if (lookup.case === "paymentId") {
      requireId("payment_id", lookup.value);
      return { paymentId: lookup.value };
    }
    if (lookup.case === "outTradeNo") {
      requireReference("out_trade_no", lookup.value);
      return { outTradeNo: lookup.value };
    }
    throw invalidArgument("payment_id or out_trade_no is required");
  }

  private async findPayment(
    tx: Tx,
    merchant: MerchantPrincipal,
    lookup: Lookup,
    options: { forUpdate?: boolean; anyMerchant?: boolean } = {},
  ): Promise<PaymentRecord | undefined> {
    const p =
      "paymentId" in lookup
        ? await tx.getPayment(lookup.paymentId, options)
        : await tx.getPaymentByOutTradeNo(merchant.merchantId, lookup.outTradeNo, options);
    // Another merchant's payment is indistinguishable from none.
    if (!p || (p.merchantId !== merchant.merchantId && !options.anyMerchant)) return undefined;
    return p;
  }

  /** Full refund of what remains of a succeeded payment (CancelPayment). */
  private async refundRest(tx: Tx, p: PaymentRecord, now: number): Promise<PaymentRecord> {
    if (this.mutant === "cancel-does-not-refund") {
      return this.setStatus(tx, p, "REFUNDED", { refundedAmount: p.amount, updatedAt: now });
    }
    const rest = p.amount - p.refundedAmount;
    const merchantAccount = await this.merchantAccountId(p.merchantId, tx);
    await tx.lockAccounts([merchantAccount, p.payerAccountId!]);
    const refund: RefundRecord = {
      id: newId("ref"),
      paymentId: p.id,
      merchantId: p.merchantId,
      outRefundNo: null,
      amount: rest,
      currency: p.currency,
      reason: "cancelled",
      createdAt: now,
    };
    if (!(await tx.insertRefund(refund))) throw new TransactionRetry("concurrent cancel");
    await tx.transfer({
      id: newId("tr"),
      debitAccountId: merchantAccount,
      creditAccountId: p.payerAccountId!,
      amount: rest,
      currency: p.currency,
      kind: "refund",
      paymentId: p.id,
      refundId: refund.id,
      createdAt: now,
    });
    return this.setStatus(tx, p, "REFUNDED", { refundedAmount: p.amount, updatedAt: now });
  }

  // ----------------------------------------------------------- authentication

  async authenticateMerchant(apiKey: string): Promise<MerchantPrincipal> {
    return this.authenticateBearer(
      apiKey,
      this.merchantKeys,
      (tx, hash) => tx.getMerchantByKeyHash(hash),
      (m) => m.apiKeyHash,
      "invalid merchant API key",
      (m) => {
        this.merchantAccounts.set(m.id, m.accountId);
        return { kind: "merchant", merchantId: m.id };
      },
    );
  }

  async authenticateTerminal(apiKey: string): Promise<TerminalPrincipal> {
    return this.authenticateBearer(
      apiKey,
      this.terminalKeys,
      (tx, hash) => tx.getTerminalByKeyHash(hash),
      (t) => t.apiKeyHash,
      "invalid terminal API key",
      (t) => ({ kind: "terminal", terminalId: t.id, merchantId: t.merchantId }),
    );
  }

  /** A revoked wallet still authenticates (GetWallet reports it revoked); its codes and confirmations are refused. */
  async authenticateWallet(walletToken: string): Promise<WalletPrincipal> {
    return this.authenticateBearer(
      walletToken,
      this.walletTokens,
      (tx, hash) => tx.getWalletByTokenHash(hash),
      (w) => w.tokenHash,
      "invalid wallet token",
      (w) => ({ kind: "wallet", walletId: w.id, accountId: w.accountId }),
    );
  }

  /**
   * Shared by the three authenticate* methods: hashes the bearer secret, answers
   * from `cache` when it can, else looks the hash up (an empty secret never
   * reaches the store), compares in constant time and caches the principal.
   */
  private async authenticateBearer<R, P>(
    secret: string,
    cache: BoundedCache<string, P>,
    lookup: (tx: Tx, hash: Uint8Array) => Promise<R | undefined>,
    storedHash: (record: R) => Uint8Array,
    invalidMessage: string,
    principalOf: (record: R) => P,
  ): Promise<P> {
    const hash = hashBearerKey(secret);
    const key = Buffer.from(hash).toString("hex");
    const cached = cache.get(key);
    if (cached) return cached;
    const record = secret ? await this.store.transaction((tx) => lookup(tx, hash)) : undefined;
    if (!record || !bearerHashesEqual(storedHash(record), hash))
      throw unauthenticated(invalidMessage);
    const principal = principalOf(record);
    cache.set(key, principal);
    return principal;
  }

  // ------------------------------------------------------------------ wallet

  async provisionSeed(req: ProvisionSeedRequest): Promise<ProvisionSeedResponse> {
    requireId("account_id", req.accountId);
    requirePassword("password", req.password);
    if (req.walletPublicKey.length !== 32) {
      throw invalidArgument(
        `wallet_public_key must be 32 bytes (Ed25519), got ${req.walletPublicKey.length}`,
      );
    }
    if (isSmallOrderEd25519PublicKey(req.walletPublicKey)) {
      throw invalidArgument("wallet_public_key is not a usable Ed25519 key (small order)");
    }
    requireMaxLength("device_label", req.deviceLabel, 128);

    const account = await this.store.transaction((tx) => tx.getAccount(req.accountId));
    if (account?.kind !== "payer" || !account.passwordHash) {
      await burnPasswordTime(req.password);
      throw unauthenticated("unknown account or wrong password");
    }
    if (!(await verifyPassword(req.password, account.passwordHash))) {
      throw unauthenticated("unknown account or wrong password");
    }
    const limits = account.limits ?? this.profile.defaultLimits;

    const made = await this.store.transaction(async (tx) => {
      const now = this.clock.now();
      const nowSec = Math.floor(now / 1000);
      await tx.lockAccounts([account.id]);
      // A new device replaces the old one: its codes stop paying (WALLET_REVOKED)
      // and its id enters the revocation list terminals download.
      const previous = await tx.listActiveWallets(account.id);
      for (const w of previous) await tx.revokeWallet(w.id, now, "re-provisioned");

      const walletId = newId("w");
      const seed = new Uint8Array(randomBytes(32));
      const token = newBearerKey("wallet");
      const notBefore = nowSec - this.profile.certificateBackdateSeconds;
      const notAfter = nowSec + this.profile.certificateValiditySeconds;
      const certificate = issueCertificate(
        {
          walletId,
          walletPublicKey: req.walletPublicKey,
          currency: account.currency,
          perPaymentLimitMinor: limits.perPaymentOffline,
          cumulativeLimitMinor: limits.cumulativeOffline,
          notBefore: BigInt(notBefore),
          notAfter: BigInt(notAfter),
        },
        this.signingKey.keyId,
        this.signingKey.privateKey,
      );
      const record: WalletRecord = {
        id: walletId,
        accountId: account.id,
        handle: 0,
        tokenHash: hashBearerKey(token),
        seedEnvelope: this.vault.seal(seed, `wallet-seed:${walletId}`),
        publicKey: req.walletPublicKey,
        certificate: toBinary(WalletCertificateSchema, certificate),
        certNotAfter: notAfter * 1000,
        deviceLabel: req.deviceLabel,
        createdAt: now,
        revokedAt: null,
        revokeReason: null,
      };
      // Handles are random so they reveal nothing about how many wallets exist.
      for (let attempt = 0; ; attempt++) {
        record.handle = randomInt(0, HANDLE_SPACE);
        if (await tx.insertWallet(record)) break;
        if (attempt >= 32) throw new TransactionRetry("no free wallet handle found");
      }
      return { record, seed, token, certificate, now, previous };
    });
    for (const w of made.previous) this.walletSecrets.delete(w.handle);
    this.walletSecrets.set(made.record.handle, { walletId: made.record.id, seed: made.seed });

    return create(ProvisionSeedResponseSchema, {
      walletId: made.record.id,
      handle: made.record.handle,
      seed: made.seed,
      certificate: made.certificate,
      profile: profileToProto(this.profile, this.codeKey),
      serverTime: timestamp(made.now),
      limits: limitsToProto(limits, account.currency),
      walletToken: made.token,
    });
  }

  async revokeSeed(wallet: WalletPrincipal, req: RevokeSeedRequest): Promise<RevokeSeedResponse> {
    requireMaxLength("reason", req.reason, 256);
    const w = await this.store.transaction(async (tx) => {
      await tx.revokeWallet(
        wallet.walletId,
        this.clock.now(),
        req.reason || "revoked by the wallet",
      );
      return tx.getWallet(wallet.walletId);
    });
    if (!w || w.revokedAt === null) throw notFound("wallet not found");
    this.walletSecrets.delete(w.handle);
    return create(RevokeSeedResponseSchema, { revokedAt: timestamp(w.revokedAt) });
  }

  async getWallet(wallet: WalletPrincipal): Promise<GetWalletResponse> {
    const r = await this.store.transaction(async (tx) => {
      const now = this.clock.now();
      const w = await tx.getWallet(wallet.walletId);
      const account = await tx.getAccount(wallet.accountId);
      if (!w || !account) return undefined;
      if (this.mutant !== "no-auto-close") await tx.closeExpiredPaymentsOfWallet(w.id, now);
      return { w, account, pending: await tx.listPendingPayments(w.id) };
    });
    if (!r) throw notFound("wallet not found");
    return create(GetWalletResponseSchema, {
      walletId: r.w.id,
      accountId: r.account.id,
      balance: money(r.account.balance, r.account.currency),
      revoked: r.w.revokedAt !== null,
      pendingPayments: r.pending.map(paymentToProto),
      limits: limitsToProto(r.account.limits ?? this.profile.defaultLimits, r.account.currency),
    });
  }

  /** Why a payment cannot be confirmed now, if it cannot; `before` is the record prior to lazy closing. */
  private notConfirmable(p: PaymentRecord, before: PaymentRecord): ConnectError | undefined {
    if (p.status === "CLOSED" && before.status === "PENDING_CONFIRMATION") {
      return failedPrecondition("the confirmation deadline has passed; the payment is closed");
    }
    if (p.status !== "PENDING_CONFIRMATION") {
      return failedPrecondition(`payment is ${p.status}, not PENDING_CONFIRMATION`);
    }
    return undefined;
  }

  async confirmPayment(
    wallet: WalletPrincipal,
    req: ConfirmPaymentRequest,
  ): Promise<ConfirmPaymentResponse> {
    requireId("payment_id", req.paymentId);
    requirePassword("password", req.password);
    const notYours = () => notFound(`payment ${req.paymentId} not found`);

    // 1. Ownership and state (closing it if its deadline passed), before the costly password check.
    const pending = await this.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      const p = await tx.getPayment(req.paymentId);
      if (!p || p.walletId !== wallet.walletId) return { error: notYours() };
      const w = await tx.getWallet(wallet.walletId);
      if (!w || w.revokedAt !== null) return { error: permissionDenied("the wallet is revoked") };
      const current = await this.lazyClose(tx, p, this.clock.now());
      const refusal = this.notConfirmable(current, p);
      return refusal ? { error: refusal } : { ok: current };
    });

    // 2. The password, outside any transaction: scrypt is slow and must not hold locks.
    const account = await this.store.transaction((tx) => tx.getAccount(wallet.accountId));
    const passwordOk =
      account?.passwordHash !== null && account?.passwordHash !== undefined
        ? await verifyPassword(req.password, account.passwordHash)
        : false;
    if (!passwordOk && this.mutant !== "confirm-without-password") {
      throw permissionDenied("wrong payment password");
    }

    // 3. The money decision, re-checking the state under the row lock.
    const merchantAccount = await this.merchantAccountId(pending.merchantId);
    const done = await this.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      const now = this.clock.now();
      const p = await tx.getPayment(req.paymentId, { forUpdate: true });
      if (!p || p.walletId !== wallet.walletId) return { error: notYours() };
      const current = await this.lazyClose(tx, p, now);
      const refusal = this.notConfirmable(current, p);
      if (refusal) return { error: refusal };
      await tx.lockAccounts([current.payerAccountId!, merchantAccount]);
      const payer = await tx.getAccount(current.payerAccountId!, { forUpdate: true });
      if (!payer) throw new Error(`payer account of payment ${p.id} is missing`);
      if (payer.balance < current.amount && this.mutant !== "ignore-insufficient-funds") {
        return {
          ok: await this.setStatus(tx, current, "DECLINED", {
            declineReason: "INSUFFICIENT_FUNDS",
            updatedAt: now,
          }),
        };
      }
      await tx.transfer({
        id: newId("tr"),
        debitAccountId: payer.id,
        creditAccountId: merchantAccount,
        amount: current.amount,
        currency: current.currency,
        kind: "payment",
        paymentId: current.id,
        refundId: null,
        createdAt: now,
      });
      // Confirmed payments do not count toward the password-free totals.
      return {
        ok: await this.setStatus(tx, current, "SUCCEEDED", { passwordFree: false, updatedAt: now }),
      };
    });
    return create(ConfirmPaymentResponseSchema, { payment: paymentToProto(done) });
  }

  // ---------------------------------------------------------------- merchant

  async scan(merchant: MerchantPrincipal, req: ScanRequest): Promise<ScanResponse> {
    requireReference("out_trade_no", req.outTradeNo);
    requireAmount("amount", req.amount);
    requireCode(req.code);
    requireMaxLength("subject", req.subject, 256);
    const amount = req.amount.amountMinor;
    const currency = req.amount.currency;
    const now = this.clock.now();
    const codeDigest = sha256(req.code);
    const merchantAccount = await this.merchantAccountId(merchant.merchantId);
    const decoded = await decodeScannedCode(this.decoder, req.code, amount, currency, now);

    const payment = await this.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      if (this.mutant !== "no-idempotency") {
        const existing = await tx.getPaymentByOutTradeNo(merchant.merchantId, req.outTradeNo);
        if (existing) {
          const same =
            existing.amount === amount &&
            existing.currency === currency &&
            bytesEqual(existing.codeDigest, codeDigest);
          if (!same) {
            return {
              error: alreadyExists(
                `out_trade_no "${req.outTradeNo}" was already used with a different amount or code`,
              ),
            };
          }
          return { ok: await this.lazyClose(tx, existing, now) };
        }
      }
      const p: PaymentRecord = {
        id: newId("pay"),
        merchantId: merchant.merchantId,
        outTradeNo: req.outTradeNo,
        amount,
        currency,
        status: "DECLINED",
        declineReason: null,
        codeKind: decoded.kind,
        codeDigest,
        subject: req.subject,
        walletId: null,
        payerAccountId: null,
        passwordFree: false,
        refundedAmount: 0n,
        confirmDeadline: null,
        source: "scan",
        terminalId: null,
        recordId: null,
        createdAt: now,
        updatedAt: now,
      };
      await this.decideScan(tx, p, decoded, merchantAccount, now);
      if (!(await tx.insertPayment(p))) {
        if (this.mutant !== "no-idempotency") {
          // Another scan of this order committed first: start over and replay it.
          throw new TransactionRetry("concurrent Scan with the same out_trade_no");
        }
        await tx.insertPayment({ ...p, outTradeNo: `${req.outTradeNo}#${p.id}` });
      }
      if (p.status === "SUCCEEDED") {
        await tx.transfer({
          id: newId("tr"),
          debitAccountId: p.payerAccountId!,
          creditAccountId: merchantAccount,
          amount,
          currency,
          kind: "payment",
          paymentId: p.id,
          refundId: null,
          createdAt: now,
        });
        await tx.addDailyUsage(p.payerAccountId!, utcDay(now), amount);
      }
      return { ok: p };
    });
    return create(ScanResponseSchema, { payment: paymentToProto(payment) });
  }

  /**
   * Decides a new scan in rule order (contract §4): code verdict, burn,
   * revocation, currency, offline limit, funds, step-up. Fills in `p`.
   */
  private async decideScan(
    tx: Tx,
    p: PaymentRecord,
    decoded: DecodedCode,
    merchantAccount: string,
    now: number,
  ): Promise<void> {
    const decline = (reason: DeclineReasonName) => {
      p.status = "DECLINED";
      p.declineReason = reason;
    };
    if (decoded.verdict === "declined") return decline(decoded.reason);
    const wallet = await tx.getWallet(decoded.walletId);
    if (!wallet) return decline("CODE_INVALID");
    p.walletId = wallet.id;
    p.payerAccountId = wallet.accountId;

    // Burn first, whatever the outcome: a code declined for funds cannot be retried.
    const burned = await tx.burn({
      usageKey: decoded.usageKey,
      walletId: wallet.id,
      paymentId: p.id,
      createdAt: now,
    });
    if (!burned && this.mutant !== "accept-reused-code") return decline("CODE_REUSED");
    const refuse = async (reason: DeclineReasonName) => {
      if (burned && this.mutant === "no-burn-on-decline") await tx.unburn(decoded.usageKey);
      decline(reason);
    };

    if (wallet.revokedAt !== null && this.mutant !== "ignore-revocation")
      return refuse("WALLET_REVOKED");
    await tx.lockAccounts([wallet.accountId, merchantAccount]);
    const payer = await tx.getAccount(wallet.accountId, { forUpdate: true });
    if (!payer) throw new Error(`account ${wallet.accountId} of wallet ${wallet.id} is missing`);
    if (decoded.offlineRefusal === "CURRENCY_MISMATCH" || p.currency !== payer.currency) {
      return refuse("CURRENCY_MISMATCH");
    }
    if (decoded.offlineRefusal === "OVER_LIMIT" && this.mutant !== "ignore-offline-limit") {
      return refuse("LIMIT_EXCEEDED");
    }
    if (payer.balance < p.amount && this.mutant !== "ignore-insufficient-funds") {
      return refuse("INSUFFICIENT_FUNDS");
    }
    const limits = payer.limits ?? this.profile.defaultLimits;
    const usage = await tx.getDailyUsage(payer.id, utcDay(now));
    if (stepUpReason(limits, usage, p.amount) && this.mutant !== "ignore-password-free-limit") {
      p.status = "PENDING_CONFIRMATION";
      p.confirmDeadline = now + this.profile.confirmationTimeoutSeconds * 1000;
      return;
    }
    p.status = "SUCCEEDED";
    p.passwordFree = true;
  }

  async getPayment(
    merchant: MerchantPrincipal,
    req: GetPaymentRequest,
  ): Promise<GetPaymentResponse> {
    const lookup = this.lookupOf(req.lookup);
    const p = await this.store.transaction(async (tx) => {
      const found = await this.findPayment(tx, merchant, lookup, {
        anyMerchant: this.mutant === "leak-other-merchant-order",
      });
      return found && this.lazyClose(tx, found, this.clock.now());
    });
    if (!p) throw notFound("payment not found");
    return create(GetPaymentResponseSchema, { payment: paymentToProto(p) });
  }

  async cancelPayment(
    merchant: MerchantPrincipal,
    req: CancelPaymentRequest,
  ): Promise<CancelPaymentResponse> {
    const lookup = this.lookupOf(req.lookup);
    const r = await this.decide(
      async (tx): Promise<Decision<{ p: PaymentRecord; action: CancelAction }>> => {
        const now = this.clock.now();
        const found = await this.findPayment(tx, merchant, lookup, { forUpdate: true });
        if (!found) return { error: notFound("payment not found") };
        // A payment past its deadline was closed by the rule, not by this call: action NONE,
        // whether or not the sweep has run yet.
        const p = await this.lazyClose(tx, found, now);
        if (p.status === "PENDING_CONFIRMATION") {
          return {
            ok: {
              p: await this.setStatus(tx, p, "CLOSED", { updatedAt: now }),
              action: CancelAction.CLOSED,
            },
          };
        }
        if (p.status === "SUCCEEDED") {
          return { ok: { p: await this.refundRest(tx, p, now), action: CancelAction.REFUNDED } };
        }
        return { ok: { p, action: CancelAction.NONE } };
      },
    );
    return create(CancelPaymentResponseSchema, { payment: paymentToProto(r.p), action: r.action });
  }

  async refundPayment(
    merchant: MerchantPrincipal,
    req: RefundPaymentRequest,
  ): Promise<RefundPaymentResponse> {
    requireId("payment_id", req.paymentId);
    requireReference("out_refund_no", req.outRefundNo);
    requireAmount("amount", req.amount);
    requireMaxLength("reason", req.reason, 256);
    const amount = req.amount.amountMinor;
    const r = await this.decide(
      async (tx): Promise<Decision<{ refund: RefundRecord; p: PaymentRecord }>> => {
        const now = this.clock.now();
        const found = await this.findPayment(
          tx,
          merchant,
          { paymentId: req.paymentId },
          { forUpdate: true },
        );
        if (!found) return { error: notFound("payment not found") };
        const p = await this.lazyClose(tx, found, now);
        const prior = await tx.getRefund(p.id, req.outRefundNo);
        if (prior) {
          if (prior.amount === amount && prior.currency === req.amount!.currency)
            return { ok: { refund: prior, p } };
          return {
            error: alreadyExists(
              `out_refund_no "${req.outRefundNo}" was already used with a different amount`,
            ),
          };
        }
        if (p.status !== "SUCCEEDED") {
          return {
            error: failedPrecondition(
              `only a SUCCEEDED payment can be refunded; this one is ${p.status}`,
            ),
          };
        }
        if (req.amount!.currency !== p.currency) {
          return {
            error: invalidArgument(`amount.currency must be the payment currency ${p.currency}`),
          };
        }
        const remaining = p.amount - p.refundedAmount;
        if (amount > remaining && this.mutant !== "refund-over-remaining") {
          return {
            error: failedPrecondition(
              `refund of ${amount} exceeds the ${remaining} not yet refunded`,
            ),
          };
        }
        const merchantAccount = await this.merchantAccountId(p.merchantId, tx);
        await tx.lockAccounts([merchantAccount, p.payerAccountId!]);
        const refund: RefundRecord = {
          id: newId("ref"),
          paymentId: p.id,
          merchantId: p.merchantId,
          outRefundNo: req.outRefundNo,
          amount,
          currency: p.currency,
          reason: req.reason,
          createdAt: now,
        };
        if (!(await tx.insertRefund(refund)))
          throw new TransactionRetry("concurrent refund with the same out_refund_no");
        await tx.transfer({
          id: newId("tr"),
          debitAccountId: merchantAccount,
          creditAccountId: p.payerAccountId!,
          amount,
          currency: p.currency,
          kind: "refund",
          paymentId: p.id,
          refundId: refund.id,
          createdAt: now,
        });
        // The cap only matters for the refund-over-remaining mutant (the schema forbids refunded > amount).
        const refunded = minBigint(p.refundedAmount + amount, p.amount);
        const next =
          refunded === p.amount
            ? await this.setStatus(tx, p, "REFUNDED", { refundedAmount: refunded, updatedAt: now })
            : await this.save(tx, { ...p, refundedAmount: refunded, updatedAt: now });
        return { ok: { refund, p: next } };
      },
    );
    return create(RefundPaymentResponseSchema, {
      refund: refundToProto(r.refund),
      payment: paymentToProto(r.p),
    });
  }

  // -------------------------------------------------------------- settlement

  async getIssuerKeys(
    _caller: MerchantPrincipal | TerminalPrincipal,
  ): Promise<GetIssuerKeysResponse> {
    const now = this.clock.now();
    const revoked = await this.store.transaction((tx) => tx.revocationList(now));
    // A key stays listed while certificates it signed may still be valid.
    const certLifetimeMs = this.profile.certificateValiditySeconds * 1000;
    const keys = this.issuerKeys
      .filter((k) => k.notAfter + certLifetimeMs > now)
      .map((k) =>
        create(IssuerKeySchema, {
          keyId: k.keyId,
          publicKey: k.publicKey,
          notBefore: BigInt(Math.floor(k.notBefore / 1000)),
          notAfter: BigInt(Math.floor(k.notAfter / 1000)),
        }),
      );
    return create(GetIssuerKeysResponseSchema, {
      keys,
      revokedWalletIds: revoked.walletIds,
      revocationListVersion: revoked.version,
      generatedAt: timestamp(now),
      profile: profileToProto(this.profile),
    });
  }

  /** The checks of an offline record that need no store, in contract §4 order. */
  private checkRecord(r: OfflineRecord, now: number): CheckedRecord {
    const skewMs = this.profile.offlineClockSkewSeconds * 1000;
    const a = r.amount;
    if (
      r.recordId.length === 0 ||
      r.recordId.length > 128 ||
      !a ||
      a.amountMinor <= 0n ||
      !isCurrency(a.currency) ||
      a.currency !== this.profile.currency ||
      !r.acceptedAt ||
      !r.keysSyncedAt
    ) {
      return { reject: "REJECTED_MALFORMED" };
    }
    const acceptedAtMs = timestampMs(r.acceptedAt);
    const keysSyncedAtMs = timestampMs(r.keysSyncedAt);
    // Neither time can lie in the issuer's future (beyond clock skew): the
    // terminal has not accepted it yet, and the issuer has not generated it.
    if (acceptedAtMs > now + skewMs || keysSyncedAtMs > now + skewMs)
      return { reject: "REJECTED_MALFORMED" };
    if (r.code.length === 0 || r.code.length > MAX_CODE_LENGTH)
      return { reject: "REJECTED_INVALID" };

    // Verified as of acceptance, not upload: a code valid when the terminal took it stays valid.
    const v = verifyOffline(
      this.offline,
      r.code,
      {
        nowSeconds: Math.floor(acceptedAtMs / 1000),
        amountMinor: a.amountMinor,
        currency: a.currency,
      },
      this.mutant,
    );
    if (v.result === "malformed" || v.result === "invalid") return { reject: "REJECTED_INVALID" };
    if (v.result === "expired") return { reject: "REJECTED_EXPIRED" };
    if (v.result === "over-limit") {
      if (v.reason === "CURRENCY_MISMATCH") return { reject: "REJECTED_MALFORMED" };
      if (this.mutant !== "ignore-offline-limit") return { reject: "REJECTED_LIMIT" };
    }
    if (
      acceptedAtMs - keysSyncedAtMs > this.profile.maxKeyAgeSeconds * 1000 &&
      this.mutant !== "accept-stale-keys"
    ) {
      return { reject: "REJECTED_STALE_KEYS" };
    }
    return {
      walletId: v.walletId,
      counter: v.counter,
      amount: a.amountMinor,
      currency: a.currency,
      acceptedAtMs,
      keysSyncedAtMs,
      cumulativeLimit: v.body.cumulativeLimitMinor,
    };
  }

  /** The store part of settling one record: revocation, duplicate, cumulative limit, then money. */
  private async settleRecord(
    tx: Tx,
    record: OfflineRecord,
    check: CheckedRecord,
    terminal: TerminalPrincipal,
    merchantAccount: string,
    now: number,
  ): Promise<BatchResultRecord> {
    const result = (outcome: OutcomeName, paymentId = ""): BatchResultRecord => ({
      recordId: record.recordId,
      outcome,
      paymentId,
    });
    if ("reject" in check) return result(check.reject);
    const wallet = await tx.getWallet(check.walletId);
    if (!wallet) return result("REJECTED_INVALID");
    // Refused only if the terminal's list should have had the wallet; a later
    // revocation is the issuer's risk (the merchant followed every rule it could).
    if (
      wallet.revokedAt !== null &&
      wallet.revokedAt <= check.keysSyncedAtMs &&
      this.mutant !== "ignore-revocation"
    ) {
      return result("REJECTED_REVOKED");
    }
    const paymentId = newId("pay");
    const usageKey = offlineUsageKey(wallet.id, check.counter);
    const burned = await tx.burn({ usageKey, walletId: wallet.id, paymentId, createdAt: now });
    if (!burned && this.mutant !== "double-settle-duplicates") return result("DUPLICATE");

    await tx.lockAccounts([wallet.accountId, merchantAccount]);
    const settled = await tx.offlineSettledTotal(wallet.id);
    if (settled + check.amount > check.cumulativeLimit && this.mutant !== "ignore-offline-limit") {
      return result("REJECTED_LIMIT");
    }
    await tx.insertPayment({
      id: paymentId,
      merchantId: terminal.merchantId,
      outTradeNo: null,
      amount: check.amount,
      currency: check.currency,
      status: "SUCCEEDED",
      declineReason: null,
      codeKind: "OFFLINE",
      codeDigest: sha256(record.code),
      subject: "",
      walletId: wallet.id,
      payerAccountId: wallet.accountId,
      passwordFree: false,
      refundedAmount: 0n,
      confirmDeadline: null,
      source: "offline",
      terminalId: terminal.terminalId,
      recordId: record.recordId,
      createdAt: now,
      updatedAt: now,
    });
    const inserted = await tx.insertOfflineSettlement({
      walletId: wallet.id,
      counter: check.counter,
      paymentId,
      terminalId: terminal.terminalId,
      merchantId: terminal.merchantId,
      recordId: record.recordId,
      amount: check.amount,
      currency: check.currency,
      acceptedAt: check.acceptedAtMs,
      settledAt: now,
    });
    if (!inserted && this.mutant !== "double-settle-duplicates") {
      throw new Error(`offline settlement of ${usageKey} exists without its burn`);
    }
    // Settles even into debt: the terminal's acceptance is guaranteed up to the cumulative limit.
    await tx.transfer({
      id: newId("tr"),
      debitAccountId: wallet.accountId,
      creditAccountId: merchantAccount,
      amount: check.amount,
      currency: check.currency,
      kind: "offline",
      paymentId,
      refundId: null,
      createdAt: now,
    });
    return result("SETTLED", paymentId);
  }

  async uploadOfflineBatch(
    terminal: TerminalPrincipal,
    req: UploadOfflineBatchRequest,
  ): Promise<UploadOfflineBatchResponse> {
    requireReference("batch_id", req.batchId);
    if (req.records.length > MAX_BATCH_RECORDS) {
      throw invalidArgument(
        `records must hold at most ${MAX_BATCH_RECORDS} records, got ${req.records.length}`,
      );
    }
    const digest = sha256(
      toBinary(
        UploadOfflineBatchRequestSchema,
        create(UploadOfflineBatchRequestSchema, { records: req.records }),
      ),
    );
    const now = this.clock.now();
    const checks = req.records.map((r) => this.checkRecord(r, now));
    const merchantAccount = await this.merchantAccountId(terminal.merchantId);
    const results = await this.decide(async (tx): Promise<Decision<BatchResultRecord[]>> => {
      const fresh = await tx.insertBatch({
        terminalId: terminal.terminalId,
        batchId: req.batchId,
        requestDigest: digest,
        results: [],
        createdAt: now,
      });
      if (!fresh) {
        const prior = await tx.getBatch(terminal.terminalId, req.batchId);
        if (!prior) throw new TransactionRetry("batch vanished");
        if (bytesEqual(prior.requestDigest, digest)) return { ok: prior.results };
        return {
          error: alreadyExists(
            `batch_id "${req.batchId}" was already uploaded with different records`,
          ),
        };
      }
      const out: BatchResultRecord[] = [];
      for (let i = 0; i < req.records.length; i++) {
        out.push(
          await this.settleRecord(tx, req.records[i]!, checks[i]!, terminal, merchantAccount, now),
        );
      }
      await tx.setBatchResults(terminal.terminalId, req.batchId, out);
      return { ok: out };
    });
    return create(UploadOfflineBatchResponseSchema, {
      results: results.map((r) =>
        create(RecordResultSchema, {
          recordId: r.recordId,
          outcome: RecordOutcome[r.outcome as OutcomeName],
          paymentId: r.paymentId,
        }),
      ),
    });
  }

  async getSettlementReport(
    merchant: MerchantPrincipal,
    req: GetSettlementReportRequest,
  ): Promise<GetSettlementReportResponse> {
    const range = utcDayRange(req.date);
    if (!range) throw invalidArgument(`date must be a UTC day as YYYY-MM-DD, got "${req.date}"`);
    requireCurrency("currency", req.currency);
    const a = await this.store.transaction((tx) =>
      tx.settlementAggregates(merchant.merchantId, req.currency, range.fromMs, range.toMs),
    );
    const c = req.currency;
    return create(GetSettlementReportResponseSchema, {
      date: req.date,
      paymentCount: BigInt(a.paymentCount),
      paymentTotal: money(a.paymentTotal, c),
      refundCount: BigInt(a.refundCount),
      refundTotal: money(a.refundTotal, c),
      offlineCount: BigInt(a.offlineCount),
      offlineTotal: money(a.offlineTotal, c),
      netTotal: money(a.paymentTotal + a.offlineTotal - a.refundTotal, c),
    });
  }

  // ------------------------------------------------------------ test control

  readonly control: IssuerApi["control"] = {
    getCapabilities: async (): Promise<GetCapabilitiesResponse> => {
      const features = ["refunds", "offline-settlement", "settlement-report"];
      if (this.advance) features.unshift("controllable-clock");
      return create(GetCapabilitiesResponseSchema, {
        implementation: this.mutant
          ? `${this.implementation} (mutant ${this.mutant})`
          : this.implementation,
        features,
        profile: profileToProto(this.profile, this.codeKey),
        now: timestamp(this.clock.now()),
      });
    },

    createAccount: async (req: CreateAccountRequest): Promise<CreateAccountResponse> => {
      requirePassword("password", req.password);
      const currency = this.profile.currency;
      const balance = req.balance?.amountMinor ?? 0n;
      if (req.balance) {
        if (req.balance.currency !== currency) {
          throw invalidArgument(`balance.currency must be the issuer currency ${currency}`);
        }
        if (balance < 0n) throw invalidArgument("balance.amount_minor must not be negative");
      }
      const limits = limitsFromProto(req.limits, this.profile.defaultLimits, currency);
      const passwordHash = await hashPassword(req.password, this.passwordCostN);
      const accountId = newId("acc");
      await this.store.transaction(async (tx) => {
        const now = this.clock.now();
        await tx.insertAccount({
          id: accountId,
          kind: "payer",
          currency,
          passwordHash,
          limits,
          createdAt: now,
        });
        if (balance > 0n) {
          // Opening balances come out of the issuer's own account, so the ledger stays at zero.
          await tx.transfer({
            id: newId("tr"),
            debitAccountId: issuerAccountId(currency),
            creditAccountId: accountId,
            amount: balance,
            currency,
            kind: "funding",
            paymentId: null,
            refundId: null,
            createdAt: now,
          });
        }
      });
      return create(CreateAccountResponseSchema, { accountId });
    },

    createMerchant: async (req: CreateMerchantRequest): Promise<CreateMerchantResponse> => {
      requireMaxLength("name", req.name, 128);
      const merchantId = newId("m");
      const accountId = newId("acc");
      const apiKey = newBearerKey("merchant");
      await this.store.transaction(async (tx) => {
        const now = this.clock.now();
        await tx.insertAccount({
          id: accountId,
          kind: "merchant",
          currency: this.profile.currency,
          passwordHash: null,
          limits: null,
          createdAt: now,
        });
        await tx.insertMerchant({
          id: merchantId,
          name: req.name,
          accountId,
          apiKeyHash: hashBearerKey(apiKey),
          createdAt: now,
        });
      });
      return create(CreateMerchantResponseSchema, { merchantId, apiKey });
    },

    createTerminal: async (req: CreateTerminalRequest): Promise<CreateTerminalResponse> => {
      requireId("merchant_id", req.merchantId);
      const terminalId = newId("t");
      const apiKey = newBearerKey("terminal");
      const ok = await this.store.transaction(async (tx) => {
        if (!(await tx.getMerchant(req.merchantId))) return false;
        await tx.insertTerminal({
          id: terminalId,
          merchantId: req.merchantId,
          apiKeyHash: hashBearerKey(apiKey),
          createdAt: this.clock.now(),
        });
        return true;
      });
      if (!ok) throw notFound(`merchant ${req.merchantId} not found`);
      return create(CreateTerminalResponseSchema, { terminalId, apiKey });
    },

    getBalance: async (req: GetBalanceRequest): Promise<GetBalanceResponse> => {
      const owner = req.owner;
      if (owner.case === undefined) throw invalidArgument("account_id or merchant_id is required");
      requireId(owner.case === "accountId" ? "account_id" : "merchant_id", owner.value);
      const account = await this.store.transaction(async (tx) => {
        if (owner.case === "accountId") {
          const a = await tx.getAccount(owner.value);
          return a?.kind === "payer" ? a : undefined;
        }
        const m = await tx.getMerchant(owner.value);
        return m && tx.getAccount(m.accountId);
      });
      if (!account)
        throw notFound(
          `${owner.case === "accountId" ? "account" : "merchant"} ${owner.value} not found`,
        );
      return create(GetBalanceResponseSchema, {
        balance: money(account.balance, account.currency),
      });
    },

    getLedgerTotal: async (req: GetLedgerTotalRequest): Promise<GetLedgerTotalResponse> => {
      requireCurrency("currency", req.currency);
      const t = await this.store.transaction((tx) => tx.ledgerTotal(req.currency));
      return create(GetLedgerTotalResponseSchema, {
        total: money(t.total, req.currency),
        transferCount: BigInt(t.transferCount),
      });
    },

    advanceClock: async (req: AdvanceClockRequest): Promise<AdvanceClockResponse> => {
      if (!this.advance) {
        throw new ConnectError(
          "this issuer does not offer the controllable-clock feature",
          Code.Unimplemented,
        );
      }
      if (req.seconds <= 0) throw invalidArgument("seconds must be positive");
      this.advance(req.seconds * 1000);
      return create(AdvanceClockResponseSchema, { now: timestamp(this.clock.now()) });
    },
  };

  async sweepExpired(): Promise<number> {
    if (this.mutant === "no-auto-close") return 0;
    return this.store.transaction((tx) => tx.closeExpiredPayments(this.clock.now()));
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close();
  }
}
