import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { profileToProto, type SettableClock } from "@paycode/protocol";
import {
  type AdvanceClockRequest,
  type AdvanceClockResponse,
  AdvanceClockResponseSchema,
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
  type GetLedgerTotalRequest,
  type GetLedgerTotalResponse,
  GetLedgerTotalResponseSchema,
  type IssueApiKeyRequest,
  type IssueApiKeyResponse,
  IssueApiKeyResponseSchema,
  type RevokeApiKeyRequest,
  type RevokeApiKeyResponse,
  RevokeApiKeyResponseSchema,
  type RotateIssuerKeyResponse,
  RotateIssuerKeyResponseSchema,
  type SetClockRequest,
  type SetClockResponse,
  SetClockResponseSchema,
} from "@paycode/protocol/v1";
import { hashBearerKey, newBearerKey } from "./api-keys.js";
import type { CredentialOwner } from "./credentials.js";
import { newId } from "./ids.js";
import type { IssuerApi } from "./issuer-api.js";
import type { IssuerContext } from "./issuer-context.js";
import type { IssuerKeyRotation } from "./issuer-keys.js";
import { transferFunding } from "./ledger.js";
import { limitsFromProto } from "./limits.js";
import type { MutantName } from "./mutants.js";
import { hashPassword } from "./passwords.js";
import { money, timestamp } from "./to-proto.js";
import {
  invalidArgument,
  notFound,
  requireCurrency,
  requireId,
  requireMaxLength,
  requirePassword,
} from "./validation.js";

export interface TestControlOptions {
  /** Moves the issuer clock; without it the issuer does not claim "controllable-clock". */
  advance: ((ms: number) => void) | undefined;
  /** The issuer clock when it can be set and frozen; without it no "settable-clock". */
  settable: SettableClock | undefined;
  mutant: MutantName | undefined;
  passwordCostN: number;
  implementation: string;
  /** The issuer's key operations, which also clear its caches (feature "key-rotation"). */
  keys: {
    issueApiKey(owner: CredentialOwner): Promise<{ apiKey: string }>;
    revokeApiKeyBySecret(apiKey: string): Promise<boolean>;
    rotateIssuerKey(): Promise<IssuerKeyRotation>;
  };
}

/**
 * ConformanceService (§11). [CTRL-1] Reachable only when the server is
 * started with test control enabled; the issuer itself always has it.
 */
export class TestControl implements Readonly<IssuerApi["control"]> {
  /**
   * What the clock mutants claim instead of the truth: a frozen flag
   * ("clock-ignores-freeze", "unfreeze-stays-frozen") or a whole shown clock
   * that the rules never read ("set-clock-reports-only"). Unset in a
   * correct issuer, which reports the one clock it runs on.
   */
  private claimedFrozen: boolean | undefined;
  private shownOffsetMs = 0;
  private shownFrozenAtMs: number | undefined;

  constructor(
    private readonly ctx: IssuerContext,
    private readonly o: TestControlOptions,
  ) {}

  async getCapabilities(): Promise<GetCapabilitiesResponse> {
    const { ctx, o } = this;
    await ctx.freshKeys();
    // [CTRL-2] Only features this issuer has: the clock only when it can be moved.
    const features = ["refunds", "offline-settlement", "settlement-report", "key-rotation"];
    if (o.settable) features.unshift("settable-clock");
    if (o.advance) features.unshift("controllable-clock");
    return create(GetCapabilitiesResponseSchema, {
      implementation: o.mutant ? `${o.implementation} (mutant ${o.mutant})` : o.implementation,
      features,
      // [RPC-1] The same profile as ProvisionSeed, code key included.
      profile: profileToProto(ctx.profile, ctx.codeKey, ctx.codeKeyVersion),
      // [CTRL-7] The clock every rule reads, and whether SetClock froze it.
      now: timestamp(this.shownNow()),
      clockFrozen: this.shownFrozen(),
    });
  }

  /** The issuer clock as test control reports it. */
  private shownNow(): number {
    if (this.ctx.breaks.setClockReportsOnly) {
      return this.shownFrozenAtMs ?? this.ctx.clock.now() + this.shownOffsetMs;
    }
    return this.ctx.clock.now();
  }

  private shownFrozen(): boolean {
    if (this.ctx.breaks.setClockReportsOnly) return this.shownFrozenAtMs !== undefined;
    return this.claimedFrozen ?? this.o.settable?.frozen ?? false;
  }

  async createAccount(req: CreateAccountRequest): Promise<CreateAccountResponse> {
    const { ctx } = this;
    requirePassword("password", req.password);
    // [CTRL-3] Every account is in the profile currency.
    const currency = ctx.profile.currency;
    const balance = req.balance?.amountMinor ?? 0n;
    if (req.balance) {
      if (req.balance.currency !== currency) {
        throw invalidArgument(`balance.currency must be the issuer currency ${currency}`);
      }
      if (balance < 0n) throw invalidArgument("balance.amount_minor must not be negative");
    }
    // [LIMIT-6] Limits left unset take the profile's defaults.
    const limits = limitsFromProto(req.limits, ctx.profile.defaultLimits, currency);
    // [AUTH-5] Passwords are kept only as scrypt hashes.
    const passwordHash = await hashPassword(req.password, this.o.passwordCostN);
    const accountId = newId("acc");
    await ctx.store.transaction(async (tx) => {
      const now = ctx.clock.now();
      await tx.insertAccount({
        id: accountId,
        kind: "payer",
        currency,
        passwordHash,
        limits,
        createdAt: now,
      });
      // [CTRL-3] Opening balances come out of the issuer's own account, so the ledger stays at zero.
      if (balance > 0n) await transferFunding(tx, accountId, balance, currency, now);
    });
    // Audit: a new credential (a password), by id only.
    await ctx.audit.record({
      type: "credential.created",
      at: ctx.clock.now(),
      subject: { kind: "account", id: accountId },
      detail: { credential: "password", via: "test-control" },
    });
    return create(CreateAccountResponseSchema, { accountId });
  }

  async createMerchant(req: CreateMerchantRequest): Promise<CreateMerchantResponse> {
    const { ctx } = this;
    requireMaxLength("name", req.name, 128);
    const merchantId = newId("m");
    const accountId = newId("acc");
    const apiKey = newBearerKey("merchant");
    await ctx.store.transaction(async (tx) => {
      const now = ctx.clock.now();
      await tx.insertAccount({
        id: accountId,
        kind: "merchant",
        currency: ctx.profile.currency,
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
    await ctx.audit.record({
      type: "credential.created",
      at: ctx.clock.now(),
      subject: { kind: "merchant", id: merchantId },
      detail: { credential: "api-key", via: "test-control" },
    });
    return create(CreateMerchantResponseSchema, { merchantId, apiKey });
  }

  async createTerminal(req: CreateTerminalRequest): Promise<CreateTerminalResponse> {
    const { ctx } = this;
    requireId("merchant_id", req.merchantId);
    const terminalId = newId("t");
    const apiKey = newBearerKey("terminal");
    const ok = await ctx.store.transaction(async (tx) => {
      if (!(await tx.getMerchant(req.merchantId))) return false;
      // [AUTH-4] A terminal's merchant is fixed here, once.
      await tx.insertTerminal({
        id: terminalId,
        merchantId: req.merchantId,
        apiKeyHash: hashBearerKey(apiKey),
        createdAt: ctx.clock.now(),
      });
      return true;
    });
    if (!ok) throw notFound(`merchant ${req.merchantId} not found`);
    await ctx.audit.record({
      type: "credential.created",
      at: ctx.clock.now(),
      subject: { kind: "terminal", id: terminalId },
      detail: { credential: "api-key", merchant: req.merchantId, via: "test-control" },
    });
    return create(CreateTerminalResponseSchema, { terminalId, apiKey });
  }

  async getBalance(req: GetBalanceRequest): Promise<GetBalanceResponse> {
    const owner = req.owner;
    if (owner.case === undefined) throw invalidArgument("account_id or merchant_id is required");
    requireId(owner.case === "accountId" ? "account_id" : "merchant_id", owner.value);
    const account = await this.ctx.store.transaction(async (tx) => {
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
    // [CTRL-4] The stored balance, negative for a payer in debt.
    return create(GetBalanceResponseSchema, {
      balance: money(account.balance, account.currency),
    });
  }

  async getLedgerTotal(req: GetLedgerTotalRequest): Promise<GetLedgerTotalResponse> {
    requireCurrency("currency", req.currency);
    // [CTRL-5] All balances of the currency, the funding account included.
    const t = await this.ctx.store.transaction((tx) => tx.ledgerTotal(req.currency));
    if (t.total >= 2n ** 63n || t.total < -(2n ** 63n)) {
      // Only balances a test control created out of range can get here: Money is int64.
      throw new ConnectError(
        `the ledger total of ${req.currency} (${t.total}) does not fit in int64`,
        Code.OutOfRange,
      );
    }
    return create(GetLedgerTotalResponseSchema, {
      total: money(t.total, req.currency),
      transferCount: BigInt(t.transferCount),
    });
  }

  async advanceClock(req: AdvanceClockRequest): Promise<AdvanceClockResponse> {
    const { o } = this;
    // [CTRL-6]
    if (!o.advance) {
      throw new ConnectError(
        "this issuer does not offer the controllable-clock feature",
        Code.Unimplemented,
      );
    }
    if (req.seconds <= 0) throw invalidArgument("seconds must be positive");
    // [CTRL-6] Moves the one issuer clock every time rule reads ([RPC-2]).
    // [CTRL-8] A frozen clock stays frozen, at the later time.
    o.advance(req.seconds * 1000);
    if (this.shownFrozenAtMs !== undefined) this.shownFrozenAtMs += req.seconds * 1000;
    return create(AdvanceClockResponseSchema, { now: timestamp(this.shownNow()) });
  }

  async setClock(req: SetClockRequest): Promise<SetClockResponse> {
    const { ctx, o } = this;
    const clock = o.settable;
    // [CTRL-7]
    if (!clock) {
      throw new ConnectError(
        "this issuer does not offer the settable-clock feature",
        Code.Unimplemented,
      );
    }
    if (!req.now) throw invalidArgument("now is required");
    const ms = timestampMs(req.now);
    if (!Number.isFinite(ms) || ms < 0) throw invalidArgument("now must not be before 1970");
    const b = ctx.breaks;
    if (b.setClockReportsOnly) {
      // Mutant: only what test control reports moves; every rule keeps the old clock.
      this.shownFrozenAtMs = req.frozen ? ms : undefined;
      this.shownOffsetMs = ms - ctx.clock.now();
    } else if (b.clockIgnoresFreeze && req.frozen) {
      // Mutant: the clock is set but keeps running while it claims to stand still.
      clock.set(ms, false);
      this.claimedFrozen = true;
    } else if (b.unfreezeStaysFrozen && !req.frozen) {
      // Mutant: "running on" leaves the clock standing at the time set.
      clock.set(ms, true);
      this.claimedFrozen = false;
    } else {
      // [CTRL-7] The one issuer clock every rule reads ([RPC-2]) now reads
      // exactly `now`; [CTRL-8] frozen, it stays there; [CTRL-9] otherwise it
      // runs on from there with real time.
      clock.set(ms, req.frozen);
      this.claimedFrozen = undefined;
    }
    return create(SetClockResponseSchema, {
      now: timestamp(this.shownNow()),
      frozen: this.shownFrozen(),
    });
  }

  /** IssueApiKey (feature "key-rotation"): [KEY-2] a further key; the others stay valid. */
  async issueApiKey(req: IssueApiKeyRequest): Promise<IssueApiKeyResponse> {
    const owner = req.owner;
    if (owner.case === undefined) throw invalidArgument("merchant_id or terminal_id is required");
    requireId(owner.case === "merchantId" ? "merchant_id" : "terminal_id", owner.value);
    const { apiKey } = await this.o.keys.issueApiKey({
      kind: owner.case === "merchantId" ? "merchant" : "terminal",
      id: owner.value,
    });
    return create(IssueApiKeyResponseSchema, { apiKey });
  }

  /** RevokeApiKey (feature "key-rotation"): [KEY-1] the key is refused from now on. */
  async revokeApiKey(req: RevokeApiKeyRequest): Promise<RevokeApiKeyResponse> {
    if (req.apiKey === "") throw invalidArgument("api_key is required");
    const revoked = await this.o.keys.revokeApiKeyBySecret(req.apiKey);
    return create(RevokeApiKeyResponseSchema, { revoked });
  }

  /** RotateIssuerKey (feature "key-rotation"): [KEY-5] listed now, signing from signs_from. */
  async rotateIssuerKey(): Promise<RotateIssuerKeyResponse> {
    const r = await this.o.keys.rotateIssuerKey();
    const signsFrom = r.notBefore + this.ctx.profile.certificateBackdateSeconds * 1000;
    return create(RotateIssuerKeyResponseSchema, {
      keyId: r.keyId,
      signsFrom: timestamp(Math.max(signsFrom, this.ctx.clock.now())),
    });
  }
}
