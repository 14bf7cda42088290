import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "@paycode/protocol";
import { systemClock } from "@paycode/protocol";
import type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "../issuer/issuer-api.js";
import { parseBearer } from "./bearer.js";

export interface AuthenticatorOptions {
  /**
   * How long a successful merchant or terminal key lookup is reused; 0 (the
   * default) turns it off. Keys can be revoked and rotated ([KEY-1],
   * [KEY-3]): a revoked or expired key then keeps working here for up to
   * this long on top of the issuer's own principal cache, also on the
   * server that revoked it, so keep it off or short. Wallet tokens are never
   * cached: a revoked or replaced wallet must be seen at once.
   */
  cacheTtlMs?: number;
  /** Entries kept at most; the cache is dropped whole when full. */
  cacheMaxEntries?: number;
  clock?: Clock;
}

interface CacheEntry {
  readonly principal: MerchantPrincipal | TerminalPrincipal;
  readonly expiresAt: number;
}

/**
 * Resolves the bearer token of a request to a principal through the
 * issuer's `authenticate*` methods. Every caller goes through here, so the
 * role checks (merchant only, terminal only, either) live in one place.
 */
export class Authenticator {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;
  // Keyed by a SHA-256 of the key so that no raw secret outlives its request.
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly issuer: IssuerApi,
    options: AuthenticatorOptions = {},
  ) {
    this.ttlMs = options.cacheTtlMs ?? 0;
    this.maxEntries = options.cacheMaxEntries ?? 4096;
    this.clock = options.clock ?? systemClock;
  }

  merchant(authorization: string | null | undefined): Promise<MerchantPrincipal> {
    return this.lookup(parseBearer(authorization), "merchant") as Promise<MerchantPrincipal>;
  }

  terminal(authorization: string | null | undefined): Promise<TerminalPrincipal> {
    return this.lookup(parseBearer(authorization), "terminal") as Promise<TerminalPrincipal>;
  }

  /** GetIssuerKeys serves both roles: a terminal syncing, or a merchant back office. */
  async merchantOrTerminal(
    authorization: string | null | undefined,
  ): Promise<MerchantPrincipal | TerminalPrincipal> {
    const key = parseBearer(authorization);
    try {
      return await this.lookup(key, "terminal");
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code !== Code.Unauthenticated) throw err;
    }
    return this.lookup(key, "merchant");
  }

  wallet(authorization: string | null | undefined): Promise<WalletPrincipal> {
    return this.issuer.authenticateWallet(parseBearer(authorization));
  }

  clear(): void {
    this.cache.clear();
  }

  private async lookup(
    key: string,
    kind: "merchant" | "terminal",
  ): Promise<MerchantPrincipal | TerminalPrincipal> {
    if (this.ttlMs <= 0) {
      return kind === "merchant"
        ? this.issuer.authenticateMerchant(key)
        : this.issuer.authenticateTerminal(key);
    }
    const id = `${kind}:${createHash("sha256").update(key).digest("base64")}`;
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit !== undefined && hit.expiresAt > now) return hit.principal;
    const principal =
      kind === "merchant"
        ? await this.issuer.authenticateMerchant(key)
        : await this.issuer.authenticateTerminal(key);
    // Defence in depth: never cache a principal of the wrong role.
    if (principal.kind !== kind) {
      throw new ConnectError("invalid API key", Code.Unauthenticated);
    }
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(id, { principal, expiresAt: now + this.ttlMs });
    return principal;
  }
}
