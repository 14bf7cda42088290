import type { ConnectError } from "@connectrpc/connect";
import type {
  Clock,
  IssuerProfileConfig,
  OfflineCodeVerifier,
  OnlineCodec,
} from "@paycode/protocol";
import type { IssuerKeyRecord } from "../store/records.js";
import type { Store, Tx } from "../store/store.js";
import { type AuditLog, discardAudit } from "./audit-log.js";
import { BoundedCache } from "./bounded-cache.js";
import type { CodeDecoderDeps, WalletSecret } from "./code-decoder.js";
import type { IssuerSigningKey } from "./issuer-keys.js";
import type { RuleSwitches } from "./rule-switches.js";
import { DEFAULT_SCAN_THROTTLE, type ScanThrottleConfig } from "./scan-throttle.js";
import type { SeedVault } from "./seed-vault.js";
import { notFound } from "./validation.js";

/** The result of a decision transaction: a client error must not undo what was written before it. */
export type Decision<T> = { ok: T } | { error: ConnectError };

/** What every service of one issuer shares: its store, clock, profile, keys and rule switches. */
export interface IssuerDeps {
  readonly store: Store;
  /** [RPC-2] The one issuer clock behind every reported time and time rule. */
  readonly clock: Clock;
  readonly profile: IssuerProfileConfig;
  readonly codeKey: Uint8Array;
  readonly codeKeyVersion?: number;
  readonly vault: SeedVault;
  readonly signingKey: IssuerSigningKey;
  readonly issuerKeys: readonly IssuerKeyRecord[];
  readonly online: OnlineCodec;
  readonly offline: OfflineCodeVerifier;
  readonly breaks: RuleSwitches;
  /** Security events; discarded when absent. */
  readonly audit?: AuditLog;
  /** The Scan throttles of §12.3: the defaults when absent, none when null. */
  readonly scanThrottle?: ScanThrottleConfig | null;
  /**
   * Re-reads the issuer keys (issue 9 part 3: a rotation made by an
   * operator command or another server); absent = keys never change.
   */
  readonly reloadKeys?: (nowMs: number) => Promise<IssuerKeyState>;
}

/** The issuer keys a running issuer uses, replaced whole when they change. */
export interface IssuerKeyState {
  readonly signingKey: IssuerSigningKey;
  readonly issuerKeys: readonly IssuerKeyRecord[];
  readonly offline: OfflineCodeVerifier;
  /** When to re-read at the latest (issuer clock, ms). */
  readonly refreshAt: number;
  /** When they were read (issuer clock, ms): a clock set back before it (SetClock) re-reads too. */
  readonly loadedAt: number;
  /** K_code in force, its version, and its codec. */
  readonly codeKey: Uint8Array;
  readonly codeKeyVersion: number;
  readonly online: OnlineCodec;
  /** [KEY-9] The previous K_code's codec, during a code-key transition. */
  readonly previousOnline: OnlineCodec | undefined;
}

/**
 * The services' shared state. Apart from the store it holds only caches of
 * data that never changes once written (a merchant's settlement account, a
 * wallet's decrypted seed), so many issuers may share one database; the
 * principal cache is `Authentication`'s alone.
 */
export class IssuerContext implements IssuerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly profile: IssuerProfileConfig;
  readonly vault: SeedVault;
  private keys: IssuerKeyState;
  private keysLoading: Promise<void> | undefined;
  private readonly keyLoader: ((nowMs: number) => Promise<IssuerKeyState>) | undefined;
  readonly breaks: RuleSwitches;
  readonly audit: AuditLog;
  readonly scanThrottle: ScanThrottleConfig | null;
  /** Seeds by handle for the Scan hot path; a revoked wallet's entry is dropped, but revocation is decided from the store. */
  private readonly walletSecrets = new BoundedCache<number, WalletSecret>(100_000);
  private readonly merchantAccounts = new BoundedCache<string, string>(10_000);
  readonly decoder: CodeDecoderDeps;

  constructor(deps: IssuerDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.profile = deps.profile;
    this.vault = deps.vault;
    this.keys = {
      signingKey: deps.signingKey,
      issuerKeys: deps.issuerKeys,
      offline: deps.offline,
      // The first call re-reads, which also sets when to re-read next.
      refreshAt: deps.reloadKeys ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
      loadedAt: Number.NEGATIVE_INFINITY,
      codeKey: deps.codeKey,
      codeKeyVersion: deps.codeKeyVersion ?? 1,
      online: deps.online,
      previousOnline: undefined,
    };
    this.keyLoader = deps.reloadKeys;
    this.breaks = deps.breaks;
    this.audit = deps.audit ?? discardAudit;
    this.scanThrottle = deps.scanThrottle === undefined ? DEFAULT_SCAN_THROTTLE : deps.scanThrottle;
    const self = this;
    this.decoder = {
      get online() {
        return self.keys.online;
      },
      get previousOnline() {
        return self.keys.previousOnline;
      },
      offline: () => this.offline,
      walletByHandle: (handle) => this.walletByHandle(handle),
      breaks: this.breaks,
    };
  }

  /** K_code in force (as of the last `freshKeys`); rotated by `paycode code-key rotate`. */
  get codeKey(): Uint8Array {
    return this.keys.codeKey;
  }

  /** The profile's code_key_version. */
  get codeKeyVersion(): number {
    return this.keys.codeKeyVersion;
  }

  get online(): OnlineCodec {
    return this.keys.online;
  }

  /** [QR-7] The key new certificates are signed with (as of the last `freshKeys`). */
  get signingKey(): IssuerSigningKey {
    return this.keys.signingKey;
  }

  get issuerKeys(): readonly IssuerKeyRecord[] {
    return this.keys.issuerKeys;
  }

  get offline(): OfflineCodeVerifier {
    return this.keys.offline;
  }

  /**
   * Re-reads the issuer keys when due: every `KEY_REFRESH_MS`, and at the
   * instant a key already known takes over signing. Called by the RPCs that
   * sign, list or verify with them; costs a comparison when not due.
   */
  async freshKeys(): Promise<void> {
    const now = this.clock.now();
    if ((now < this.keys.refreshAt && now >= this.keys.loadedAt) || !this.keyLoader) return;
    this.keysLoading ??= this.keyLoader(this.clock.now())
      .then((k) => {
        this.keys = k;
      })
      .finally(() => {
        this.keysLoading = undefined;
      });
    await this.keysLoading;
  }

  /** Makes the next `freshKeys` re-read (after this issuer rotated a key). */
  keysChanged(): void {
    this.keys = { ...this.keys, refreshAt: Number.NEGATIVE_INFINITY };
  }

  /** Runs a transaction whose client errors must not undo what it wrote before them (lazy closes, burns). */
  async decide<T>(fn: (tx: Tx) => Promise<Decision<T>>): Promise<T> {
    const d = await this.store.transaction(fn);
    if ("error" in d) throw d.error;
    return d.ok;
  }

  async walletByHandle(handle: number): Promise<WalletSecret | undefined> {
    const cached = this.walletSecrets.get(handle);
    if (cached) return cached;
    // A plain read: on a cache miss (every first code of a wallet) the Scan pays one lookup, not a write transaction.
    const w = await this.store.walletSeed(handle);
    if (!w) return undefined;
    const secret = { walletId: w.id, seed: this.vault.open(w.seedEnvelope, `wallet-seed:${w.id}`) };
    this.walletSecrets.set(handle, secret);
    return secret;
  }

  /** Warms the cache at provisioning, so a new wallet's first code needs no seed read. */
  rememberWallet(handle: number, secret: WalletSecret): void {
    this.walletSecrets.set(handle, secret);
  }

  forgetWallet(handle: number): void {
    this.walletSecrets.delete(handle);
  }

  /** Inside a transaction pass its `tx`: a nested `store.transaction` would wait for the outer one. */
  async merchantAccountId(merchantId: string, tx?: Tx): Promise<string> {
    const cached = this.merchantAccounts.get(merchantId);
    if (cached) return cached;
    const m = tx
      ? await tx.getMerchant(merchantId)
      : await this.store.read((t) => t.getMerchant(merchantId));
    if (!m) throw notFound(`merchant ${merchantId} not found`);
    this.merchantAccounts.set(merchantId, m.accountId);
    return m.accountId;
  }

  /** Called when a merchant authenticates, so its first payment needs no extra read. */
  rememberMerchantAccount(merchantId: string, accountId: string): void {
    this.merchantAccounts.set(merchantId, accountId);
  }
}
