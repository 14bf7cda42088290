import { randomBytes } from "node:crypto";
import type { Clock, SettableClock } from "@paycode/protocol";
import {
  type IssuerProfileConfig,
  OfflineCodeVerifier,
  OnlineCodec,
  type ProfileOverrides,
  resolveProfile,
} from "@paycode/protocol";
import type {
  CancelPaymentRequest,
  CancelPaymentResponse,
  ConfirmPaymentRequest,
  ConfirmPaymentResponse,
  GetIssuerKeysResponse,
  GetPaymentRequest,
  GetPaymentResponse,
  GetSettlementReportRequest,
  GetSettlementReportResponse,
  GetWalletResponse,
  ProvisionSeedRequest,
  ProvisionSeedResponse,
  RefundPaymentRequest,
  RefundPaymentResponse,
  RevokeSeedRequest,
  RevokeSeedResponse,
  ScanRequest,
  ScanResponse,
  UploadOfflineBatchRequest,
  UploadOfflineBatchResponse,
} from "@paycode/protocol/v1";
import { openStore } from "../store/open-store.js";
import type { IssuerKeyRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { hashBearerKey } from "./api-keys.js";
import type { AuditLog } from "./audit-log.js";
import { Authentication, DEFAULT_PRINCIPAL_CACHE_TTL_MS } from "./authentication.js";
import {
  type CodeKeyRotation,
  type CodeKeyState,
  readCodeKeys,
  rotateCodeKey,
} from "./code-key.js";
import {
  type CredentialOwner,
  type IssuedApiKey,
  issueApiKey,
  type RotatedApiKey,
  revokeApiKey,
  rotateApiKey,
} from "./credentials.js";
import { bytesEqual } from "./digest.js";
import type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "./issuer-api.js";
import { IssuerContext, type IssuerKeyState } from "./issuer-context.js";
import {
  type IssuerKeyRotation,
  issuerKeyEntry,
  KEY_REFRESH_MS,
  loadOrCreateIssuerKeys,
  openSigningKey,
  rotateIssuerKey,
  signingRecordAt,
} from "./issuer-keys.js";
import { openIssuerAccount } from "./ledger.js";
import { ensureMasterKeyCheck } from "./master-key-rotation.js";
import { MerchantService } from "./merchant-service.js";
import { isMutantName, type MutantName } from "./mutants.js";
import { DEFAULT_SCRYPT_N } from "./passwords.js";
import { ruleSwitches } from "./rule-switches.js";
import { ScanService } from "./scan-service.js";
import type { ScanThrottleConfig } from "./scan-throttle.js";
import { SeedVault } from "./seed-vault.js";
import { newestOnly, SettlementService } from "./settlement-service.js";
import { TestControl } from "./test-control.js";
import { notFound } from "./validation.js";
import { WalletService } from "./wallet-service.js";

export interface IssuerOpenOptions {
  /** A store, or a store URL the issuer opens (and closes on `close()`). */
  store: Store | string;
  clock: Clock;
  /** 32-byte key that wraps the data keys of seeds and of the issuer signing key. */
  masterKey: Uint8Array;
  /**
   * Further master keys that open (never seal) secrets: the new key during
   * a master-key rotation, so the server keeps working while
   * `paycode master-key rotate` runs ([KEY-8]).
   */
  extraMasterKeys?: readonly Uint8Array[];
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
  /**
   * `clock` itself when it can be set and frozen; enables test-control
   * SetClock ("settable-clock"). AdvanceClock then moves it too.
   */
  settableClock?: SettableClock;
  /** scrypt N of new password hashes; tests lower it for speed. */
  passwordCostN?: number;
  /** Implementation name in GetCapabilities. */
  implementation?: string;
  /** Where security events go (issue 9); discarded when absent. */
  audit?: AuditLog;
  /**
   * The Scan throttles of §12.3: `paycode-default-v1`'s when absent; null
   * turns them off (load benchmarks that measure what junk costs).
   */
  scanThrottle?: ScanThrottleConfig | null;
  /**
   * [KEY-1] How long a merchant or terminal key stays cached (default 30 s):
   * the longest a key revoked elsewhere (an operator command, another
   * server on the database) keeps working here.
   */
  principalCacheTtlMs?: number;
}

const DEFAULT_IMPLEMENTATION = "paycode-reference/0.1.0";

/**
 * The issuer: every Issuer-class rule of spec/paycode.md over a `Store`,
 * as one `IssuerApi` composed of a service per concern. Stateless apart
 * from caches of immutable data, so many instances may share one
 * PostgreSQL database. Each money decision is one store transaction.
 */
export class Issuer implements IssuerApi {
  readonly control: TestControl;
  readonly profile: IssuerProfileConfig;
  private readonly auth: Authentication;
  private readonly wallets: WalletService;
  private readonly scans: ScanService;
  private readonly merchants: MerchantService;
  private readonly settlement: SettlementService;

  private constructor(
    private readonly ctx: IssuerContext,
    private readonly ownsStore: boolean,
    readonly mutant: MutantName | undefined,
    control: {
      advance: ((ms: number) => void) | undefined;
      settable: SettableClock | undefined;
      passwordCostN: number;
      implementation: string;
    },
    principalCacheTtlMs: number,
  ) {
    this.profile = ctx.profile;
    this.auth = new Authentication(ctx, principalCacheTtlMs);
    this.wallets = new WalletService(ctx);
    this.scans = new ScanService(ctx);
    this.merchants = new MerchantService(ctx);
    this.settlement = new SettlementService(ctx);
    this.control = new TestControl(ctx, {
      ...control,
      mutant,
      keys: {
        issueApiKey: (owner) => this.issueApiKey(owner),
        revokeApiKeyBySecret: (apiKey) => this.revokeApiKeyBySecret(apiKey),
        rotateIssuerKey: () => this.rotateIssuerKey(),
      },
    });
  }

  static async open(o: IssuerOpenOptions): Promise<Issuer> {
    if (o.mutant !== undefined && !isMutantName(o.mutant))
      throw new Error(`unknown mutant "${o.mutant}"`);
    // [CODE-1] resolveProfile refuses a profile outside the ranges of §3.1.
    const profile = resolveProfile(o.profile);
    const vault = new SeedVault(o.masterKey, o.extraMasterKeys ?? []);
    if (o.codeKey !== undefined && o.codeKey.length !== 32)
      throw new RangeError("codeKey must be 32 bytes");
    const ownsStore = typeof o.store === "string";
    const store = typeof o.store === "string" ? await openStore(o.store) : o.store;
    try {
      const now = o.clock.now();
      // The code key is given to every wallet, so it is stored as is; what
      // must agree across servers sharing the database is that it is one key.
      const codeKeys = await store.transaction(async (tx) => {
        await tx.putSettingIfAbsent("code_key", o.codeKey ?? new Uint8Array(randomBytes(32)));
        return readCodeKeys(tx, now);
      });
      const codeKey = codeKeys.codeKey;
      if (o.codeKey !== undefined && !bytesEqual(codeKey, o.codeKey)) {
        throw new Error("codeKey differs from the code key this database uses");
      }
      const keys = await loadOrCreateIssuerKeys(
        store,
        vault,
        now,
        profile.certificateBackdateSeconds * 1000,
      );
      // After the signing key opened (so the key is right): note which master
      // key seals this database, for master-key rotation ([KEY-8]).
      if (!(await ensureMasterKeyCheck(store, vault))) {
        throw new Error("the master key does not match this database (was it rotated?)");
      }
      await store.transaction((tx) => openIssuerAccount(tx, profile.currency, now));
      const breaks = ruleSwitches(o.mutant);
      const backdateMs = profile.certificateBackdateSeconds * 1000;
      // [VERIFY-8] Each key verifies only certificates whose not_before its
      // validity contains (the ignore-issuer-key-validity mutant widens it).
      // [KEY-6] Every key verifies until it is gone from the store (the
      // drop-retired-issuer-key mutant keeps only the newest).
      const verifierOf = (all: readonly IssuerKeyRecord[]) =>
        new OfflineCodeVerifier({
          keys: (breaks.dropRetiredIssuerKey ? newestOnly(all) : all)
            .map(issuerKeyEntry)
            .map((k) =>
              breaks.ignoreIssuerKeyValidity
                ? { ...k, notBefore: 0, notAfter: Number.MAX_SAFE_INTEGER }
                : k,
            ),
          validitySeconds: profile.offlineCodeValiditySeconds,
          clockSkewSeconds: profile.offlineClockSkewSeconds,
        });
      // Issue 9 part 3: a running issuer re-reads the keys every
      // KEY_REFRESH_MS and when a known key takes over signing, so a rotation
      // made elsewhere needs no restart.
      // [KEY-9] Likewise K_code: re-read every KEY_REFRESH_MS, and at the
      // instant a transition ends.
      const refreshAtOf = (all: readonly IssuerKeyRecord[], code: CodeKeyState, nowMs: number) =>
        Math.min(
          nowMs + KEY_REFRESH_MS,
          ...all.map((k) => k.notBefore + backdateMs).filter((t) => t > nowMs),
          code.previous?.until ?? Number.POSITIVE_INFINITY,
        );
      const codecOf = (key: Uint8Array) =>
        new OnlineCodec({
          prefix: profile.issuerPrefix,
          codeKey: key,
          windowBackSteps: profile.windowBackSteps,
          windowAheadSteps: profile.windowAheadSteps,
          lookbackSteps: profile.lookbackSteps,
        });
      const codecsOf = (code: CodeKeyState, was?: IssuerKeyState) => ({
        codeKey: code.codeKey,
        codeKeyVersion: code.version,
        online: was && bytesEqual(was.codeKey, code.codeKey) ? was.online : codecOf(code.codeKey),
        previousOnline: code.previous ? codecOf(code.previous.codeKey) : undefined,
      });
      let state: IssuerKeyState = {
        signingKey: keys.signing,
        issuerKeys: keys.all,
        offline: verifierOf(keys.all),
        refreshAt: refreshAtOf(keys.all, codeKeys, now),
        loadedAt: now,
        ...codecsOf(codeKeys),
      };
      const reloadKeys = async (nowMs: number): Promise<IssuerKeyState> => {
        const [all, code] = await store.read(
          async (tx) => [await tx.listIssuerKeys(), await readCodeKeys(tx, nowMs)] as const,
        );
        const record = signingRecordAt(all, nowMs, backdateMs);
        const sameSet =
          all.length === state.issuerKeys.length &&
          all.every((k, i) => {
            const was = state.issuerKeys[i]!;
            return was.keyId === k.keyId && was.notAfter === k.notAfter;
          });
        state = {
          signingKey:
            record.keyId === state.signingKey.keyId
              ? state.signingKey
              : openSigningKey(vault, record),
          issuerKeys: all,
          offline: sameSet ? state.offline : verifierOf(all),
          refreshAt: refreshAtOf(all, code, nowMs),
          loadedAt: nowMs,
          ...codecsOf(code, state),
        };
        return state;
      };
      const ctx = new IssuerContext({
        store,
        clock: o.clock,
        profile,
        codeKey,
        codeKeyVersion: state.codeKeyVersion,
        vault,
        signingKey: state.signingKey,
        issuerKeys: state.issuerKeys,
        online: state.online,
        offline: state.offline,
        reloadKeys,
        breaks,
        audit: o.audit,
        scanThrottle: o.scanThrottle,
      });
      return new Issuer(
        ctx,
        ownsStore,
        o.mutant,
        {
          advance: o.advanceClock ?? (o.settableClock ? advanceBy(o.settableClock) : undefined),
          settable: o.settableClock,
          passwordCostN: o.passwordCostN ?? DEFAULT_SCRYPT_N,
          implementation: o.implementation ?? DEFAULT_IMPLEMENTATION,
        },
        o.principalCacheTtlMs ?? DEFAULT_PRINCIPAL_CACHE_TTL_MS,
      );
    } catch (e) {
      if (ownsStore) await store.close();
      throw e;
    }
  }

  /** [KEY-2] A further API key for a merchant or terminal (shown once). */
  async issueApiKey(owner: CredentialOwner): Promise<IssuedApiKey> {
    const now = this.ctx.clock.now();
    const issued = await issueApiKey(this.ctx.store, owner, now, this.ctx.audit);
    // [KEY-2] The issue-key-revokes-others mutant retires the owner's other keys at once.
    if (this.ctx.breaks.issueKeyRevokesOthers) {
      await this.ctx.store.transaction((tx) =>
        tx.expireApiKeys(owner.kind, owner.id, now, issued.keyId),
      );
    }
    this.auth.forgetKeys();
    return issued;
  }

  /** [KEY-1] Revokes the key given in full (test control); not_found when unknown. */
  async revokeApiKeyBySecret(apiKey: string): Promise<boolean> {
    const found = await this.ctx.store.read((tx) => tx.findApiKey(hashBearerKey(apiKey)));
    if (!found) throw notFound("no such API key");
    return this.revokeApiKey(found.key.keyId);
  }

  /** [KEY-2] [KEY-3] A new key; the owner's other keys retire after `graceMs`. */
  async rotateApiKey(owner: CredentialOwner, graceMs: number): Promise<RotatedApiKey> {
    const now = this.ctx.clock.now();
    const rotated = await rotateApiKey(this.ctx.store, owner, now, graceMs, this.ctx.audit);
    this.auth.forgetKeys();
    return rotated;
  }

  /** [KEY-1] Revokes a key by id: refused here at once, on other servers within their cache TTL. */
  async revokeApiKey(keyId: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    const { revoked } = await revokeApiKey(this.ctx.store, keyId, now, this.ctx.audit);
    this.auth.forgetKeys();
    return revoked;
  }

  /**
   * [KEY-5] Rotates the issuer signing key: the new key is listed now and
   * signs from `leadMs` (default and minimum: max_key_age_seconds +
   * KEY_REFRESH_MS) on; the old one then only verifies.
   */
  async rotateIssuerKey(leadMs?: number): Promise<IssuerKeyRotation> {
    const { ctx } = this;
    const min = ctx.profile.maxKeyAgeSeconds * 1000 + KEY_REFRESH_MS;
    if (leadMs !== undefined && leadMs < min) {
      throw new RangeError(
        `lead must be at least max_key_age_seconds + ${KEY_REFRESH_MS / 1000} s`,
      );
    }
    // [KEY-5] The sign-with-new-key-at-once mutant lets the new key sign at once.
    const lead = ctx.breaks.signWithNewKeyAtOnce ? 0 : (leadMs ?? min);
    const now = ctx.clock.now();
    const backdate = ctx.profile.certificateBackdateSeconds * 1000;
    const r = await rotateIssuerKey(
      ctx.store,
      ctx.vault,
      now,
      ctx.breaks.signWithNewKeyAtOnce ? lead - backdate : lead,
      ctx.audit,
    );
    ctx.keysChanged();
    return r;
  }

  /** [KEY-9] A new K_code; codes under the current one pay for `transitionMs` more. */
  async rotateCodeKey(transitionMs: number): Promise<CodeKeyRotation> {
    const r = await rotateCodeKey(
      this.ctx.store,
      this.ctx.clock.now(),
      transitionMs,
      this.ctx.audit,
    );
    this.ctx.keysChanged();
    return r;
  }

  authenticateMerchant(apiKey: string): Promise<MerchantPrincipal> {
    return this.auth.authenticateMerchant(apiKey);
  }

  authenticateTerminal(apiKey: string): Promise<TerminalPrincipal> {
    return this.auth.authenticateTerminal(apiKey);
  }

  authenticateWallet(walletToken: string): Promise<WalletPrincipal> {
    return this.auth.authenticateWallet(walletToken);
  }

  provisionSeed(req: ProvisionSeedRequest): Promise<ProvisionSeedResponse> {
    return this.wallets.provisionSeed(req);
  }

  revokeSeed(wallet: WalletPrincipal, req: RevokeSeedRequest): Promise<RevokeSeedResponse> {
    return this.wallets.revokeSeed(wallet, req);
  }

  confirmPayment(
    wallet: WalletPrincipal,
    req: ConfirmPaymentRequest,
  ): Promise<ConfirmPaymentResponse> {
    return this.wallets.confirmPayment(wallet, req);
  }

  getWallet(wallet: WalletPrincipal): Promise<GetWalletResponse> {
    return this.wallets.getWallet(wallet);
  }

  scan(merchant: MerchantPrincipal, req: ScanRequest): Promise<ScanResponse> {
    return this.scans.scan(merchant, req);
  }

  getPayment(merchant: MerchantPrincipal, req: GetPaymentRequest): Promise<GetPaymentResponse> {
    return this.merchants.getPayment(merchant, req);
  }

  cancelPayment(
    merchant: MerchantPrincipal,
    req: CancelPaymentRequest,
  ): Promise<CancelPaymentResponse> {
    return this.merchants.cancelPayment(merchant, req);
  }

  refundPayment(
    merchant: MerchantPrincipal,
    req: RefundPaymentRequest,
  ): Promise<RefundPaymentResponse> {
    return this.merchants.refundPayment(merchant, req);
  }

  getIssuerKeys(caller: MerchantPrincipal | TerminalPrincipal): Promise<GetIssuerKeysResponse> {
    return this.settlement.getIssuerKeys(caller);
  }

  uploadOfflineBatch(
    terminal: TerminalPrincipal,
    req: UploadOfflineBatchRequest,
  ): Promise<UploadOfflineBatchResponse> {
    return this.settlement.uploadOfflineBatch(terminal, req);
  }

  getSettlementReport(
    merchant: MerchantPrincipal,
    req: GetSettlementReportRequest,
  ): Promise<GetSettlementReportResponse> {
    return this.settlement.getSettlementReport(merchant, req);
  }

  /** [PAY-3] Writes down the closes that reads already report (PAY-4's periodic sweep). */
  async sweepExpired(): Promise<number> {
    if (this.ctx.breaks.noAutoClose) return 0;
    // [PAY-10] The deadline-exclusive mutant closes one millisecond late here too.
    const late = this.ctx.breaks.deadlineExclusive ? 1 : 0;
    return this.ctx.store.transaction((tx) => tx.closeExpiredPayments(this.ctx.clock.now() - late));
  }

  /**
   * [SEC-14] Deletes Scan payments declined CODE_INVALID / CODE_MALFORMED
   * older than the retention period, by the issuer clock, at most `batch` at
   * a time (run it again while it returns `batch`). The per-merchant window
   * counts of [SEC-4] stay as the record of them. 0 without throttles.
   */
  async pruneJunk(batch = 10_000): Promise<number> {
    const config = this.ctx.scanThrottle;
    if (!config) return 0;
    const before = this.ctx.clock.now() - config.junkRetentionMs;
    return this.ctx.store.transaction((tx) => tx.pruneJunkPayments(before, batch));
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.ctx.store.close();
  }
}

function advanceBy(clock: SettableClock): (ms: number) => void {
  return (ms) => clock.set(clock.now() + ms, clock.frozen);
}
