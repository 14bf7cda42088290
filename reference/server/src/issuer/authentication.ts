/**
 * Bearer credentials → principals, and the issuer's one principal cache.
 *
 * Cache policy:
 * - Merchant and terminal API keys are cached, by the SHA-256 of the key,
 *   without expiry, least recently used out beyond 10,000 of each. v1 has no
 *   way to revoke, rotate or delete those keys, and the principal a key hash
 *   names never changes (ids are never reused), so a cached entry cannot
 *   grant what the store would refuse, on this issuer or on any other one
 *   sharing the database. An RPC that revokes such keys must give this cache
 *   a TTL, because other issuers could not be told.
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
import type { Store, Tx } from "../store/store.js";
import { bearerHashesEqual, hashBearerKey } from "./api-keys.js";
import { BoundedCache } from "./bounded-cache.js";
import type { MerchantPrincipal, TerminalPrincipal, WalletPrincipal } from "./issuer-api.js";
import type { IssuerContext } from "./issuer-context.js";
import { unauthenticated } from "./validation.js";

export class Authentication {
  private readonly merchantKeys = new BoundedCache<string, MerchantPrincipal>(10_000);
  private readonly terminalKeys = new BoundedCache<string, TerminalPrincipal>(10_000);
  private readonly store: Store;

  constructor(private readonly ctx: IssuerContext) {
    this.store = ctx.store;
  }

  async authenticateMerchant(apiKey: string): Promise<MerchantPrincipal> {
    return this.authenticateBearer(
      apiKey,
      this.merchantKeys,
      (tx, hash) => tx.getMerchantByKeyHash(hash),
      (m) => m.apiKeyHash,
      "invalid merchant API key",
      (m) => {
        this.ctx.rememberMerchantAccount(m.id, m.accountId);
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

  /** A revoked wallet still authenticates (§7.2.2: GetWallet reports it revoked); its codes and confirmations are refused. */
  async authenticateWallet(walletToken: string): Promise<WalletPrincipal> {
    return this.authenticateBearer(
      walletToken,
      undefined,
      (tx, hash) => tx.getWalletByTokenHash(hash),
      (w) => w.tokenHash,
      "invalid wallet token",
      (w) => ({ kind: "wallet", walletId: w.id, accountId: w.accountId }),
    );
  }

  /**
   * Shared by the three authenticate* methods: hashes the bearer secret, answers
   * from `cache` when there is one and it holds the key, else looks the hash up
   * (an empty secret never reaches the store), compares and caches the principal.
   */
  private async authenticateBearer<R, P>(
    secret: string,
    cache: BoundedCache<string, P> | undefined,
    lookup: (tx: Tx, hash: Uint8Array) => Promise<R | undefined>,
    storedHash: (record: R) => Uint8Array,
    invalidMessage: string,
    principalOf: (record: R) => P,
  ): Promise<P> {
    // [AUTH-5] Only the hash of a key is stored, so only the hash is looked up.
    const hash = hashBearerKey(secret);
    const key = Buffer.from(hash).toString("hex");
    const cached = cache?.get(key);
    if (cached) return cached;
    const record = secret ? await this.store.read((tx) => lookup(tx, hash)) : undefined;
    // [AUTH-1] Missing and unknown credentials fail alike; [VERIFY-6] in constant time.
    if (!record || !bearerHashesEqual(storedHash(record), hash))
      throw unauthenticated(invalidMessage);
    const principal = principalOf(record);
    cache?.set(key, principal);
    return principal;
  }
}
