/**
 * Bearer credentials → principals, and the issuer's one principal cache.
 *
 * Cache policy:
 * - Merchant and terminal API keys are cached, by the SHA-256 of the key,
 *   for at most `principalCacheTtlMs` (default 30 s) and never past the
 *   key's grace deadline; least recently used out beyond 10,000 of each.
 *   Keys can be revoked and rotated (issue 9 part 3), possibly by an
 *   operator command or another server on the same database, which cannot
 *   tell this cache: so [KEY-1] a revoked key stops working on every server
 *   within the TTL, and at once on the issuer that revoked it (its
 *   credential methods clear this cache). A key's grace deadline ([KEY-3])
 *   is exact everywhere: it is known when the key is cached.
 * - Wallet tokens are never cached: every wallet call reads its wallet by
 *   token hash. Wallets are revoked and replaced ([WALLET-4]) while servers
 *   run, possibly by another issuer on the same database, and wallet calls
 *   are human-paced, so the one indexed read buys freshness for free.
 *   (A revoked wallet's token still authenticates, §7.2.2; what it may do is
 *   decided from the store by each call.)
 * - Nothing else caches principals. The RPC `Authenticator` may add a
 *   short-TTL cache (off by default) for merchant and terminal keys only,
 *   which this policy allows.
 */
import type { ApiKeyPrincipal } from "../store/records.js";
import type { Store, Tx } from "../store/store.js";
import { bearerHashesEqual, hashBearerKey } from "./api-keys.js";
import { BoundedCache } from "./bounded-cache.js";
import { apiKeyUsable } from "./credentials.js";
import type { MerchantPrincipal, TerminalPrincipal, WalletPrincipal } from "./issuer-api.js";
import type { IssuerContext } from "./issuer-context.js";
import { unauthenticated } from "./validation.js";

/** How long a server may honour a cached merchant or terminal key after another server revoked it. */
export const DEFAULT_PRINCIPAL_CACHE_TTL_MS = 30_000;

interface CachedPrincipal<P> {
  principal: P;
  /** The first instant (issuer clock) the entry must not be used. */
  until: number;
}

export class Authentication {
  private readonly merchantKeys = new BoundedCache<string, CachedPrincipal<MerchantPrincipal>>(
    10_000,
  );
  private readonly terminalKeys = new BoundedCache<string, CachedPrincipal<TerminalPrincipal>>(
    10_000,
  );
  private readonly store: Store;

  constructor(
    private readonly ctx: IssuerContext,
    private readonly cacheTtlMs: number = DEFAULT_PRINCIPAL_CACHE_TTL_MS,
  ) {
    this.store = ctx.store;
  }

  /** Drops every cached key, after this issuer revoked or rotated one ([KEY-1]: at once here). */
  forgetKeys(): void {
    this.merchantKeys.clear();
    this.terminalKeys.clear();
  }

  async authenticateMerchant(apiKey: string): Promise<MerchantPrincipal> {
    return this.authenticateApiKey(apiKey, "merchant", this.merchantKeys, (found) => {
      this.ctx.rememberMerchantAccount(found.merchantId, found.merchantAccountId!);
      return { kind: "merchant", merchantId: found.merchantId };
    });
  }

  async authenticateTerminal(apiKey: string): Promise<TerminalPrincipal> {
    return this.authenticateApiKey(apiKey, "terminal", this.terminalKeys, (found) => ({
      kind: "terminal",
      terminalId: found.key.ownerId,
      merchantId: found.merchantId,
    }));
  }

  /**
   * A merchant or terminal key: answered from `cache` while the entry is
   * fresh, else looked up by hash (an empty key never reaches the store);
   * [KEY-1] a revoked and [KEY-3] an expired key fail like an unknown one.
   */
  private async authenticateApiKey<P>(
    secret: string,
    kind: "merchant" | "terminal",
    cache: BoundedCache<string, CachedPrincipal<P>>,
    principalOf: (found: ApiKeyPrincipal) => P,
  ): Promise<P> {
    // [AUTH-5] Only the hash of a key is stored, so only the hash is looked up.
    const hash = hashBearerKey(secret);
    const key = Buffer.from(hash).toString("hex");
    const now = this.ctx.clock.now();
    const cached = cache.get(key);
    if (cached && now < cached.until) return cached.principal;
    if (cached) cache.delete(key);
    const found = secret ? await this.store.read((tx) => tx.findApiKey(hash)) : undefined;
    // [AUTH-1] Missing, unknown, revoked and expired credentials fail alike;
    // [VERIFY-6] the hash comparison is constant-time.
    const usable =
      found !== undefined &&
      found.key.ownerKind === kind &&
      bearerHashesEqual(found.key.keyHash, hash) &&
      (this.ctx.breaks.acceptRevokedApiKey || apiKeyUsable(found.key, now));
    if (!usable) throw unauthenticated(`invalid ${kind} API key`);
    const principal = principalOf(found);
    const ttlEnd = now + this.cacheTtlMs;
    const until = found.key.expiresAt === null ? ttlEnd : Math.min(ttlEnd, found.key.expiresAt);
    if (until > now) cache.set(key, { principal, until });
    return principal;
  }

  /** A revoked wallet still authenticates (§7.2.2: GetWallet reports it revoked); its codes and confirmations are refused. */
  async authenticateWallet(walletToken: string): Promise<WalletPrincipal> {
    return this.authenticateBearer(
      walletToken,
      (tx, hash) => tx.getWalletByTokenHash(hash),
      (w) => w.tokenHash,
      "invalid wallet token",
      (w) => ({ kind: "wallet", walletId: w.id, accountId: w.accountId }),
    );
  }

  /** A wallet token: looked up by hash on every call (never cached). */
  private async authenticateBearer<R, P>(
    secret: string,
    lookup: (tx: Tx, hash: Uint8Array) => Promise<R | undefined>,
    storedHash: (record: R) => Uint8Array,
    invalidMessage: string,
    principalOf: (record: R) => P,
  ): Promise<P> {
    // [AUTH-5] Only the hash of a key is stored, so only the hash is looked up.
    const hash = hashBearerKey(secret);
    const record = secret ? await this.store.read((tx) => lookup(tx, hash)) : undefined;
    // [AUTH-1] Missing and unknown credentials fail alike; [VERIFY-6] in constant time.
    if (!record || !bearerHashesEqual(storedHash(record), hash))
      throw unauthenticated(invalidMessage);
    return principalOf(record);
  }
}
