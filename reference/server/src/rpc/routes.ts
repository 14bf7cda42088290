import type { ConnectRouter, HandlerContext, MethodImpl } from "@connectrpc/connect";
import type { IssuerApi } from "../issuer/issuer-api.js";
import { Authenticator } from "./authenticator.js";
import { consoleLogger, type ServerLogger } from "./logger.js";
import { createRpcTable, type Rpc } from "./rpc-table.js";

export interface RoutesOptions {
  /** Serve ConformanceService (test control). Never in production. */
  enableTestControl: boolean;
  logger?: ServerLogger;
  /** See `AuthenticatorOptions.cacheTtlMs`; off by default. */
  authCacheTtlMs?: number;
}

/**
 * The Connect routes of a Paycode server: WalletService, MerchantService,
 * SettlementService, HealthService and, only when enabled,
 * ConformanceService. Usable with any connect-es adapter.
 */
export function createRoutes(
  issuer: IssuerApi,
  opts: RoutesOptions,
): (router: ConnectRouter) => void {
  const table = createRpcTable(issuer, {
    enableTestControl: opts.enableTestControl,
    authenticator: new Authenticator(issuer, { cacheTtlMs: opts.authCacheTtlMs ?? 0 }),
    logger: opts.logger ?? consoleLogger,
  });
  return routesFromTable(table);
}

/** Registers an RPC table on a Connect router. */
export function routesFromTable(table: readonly Rpc[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const rpc of table) {
      const invoke = rpc.invoke;
      const impl = (req: unknown, ctx: HandlerContext) =>
        invoke(req as never, ctx.requestHeader.get("authorization") ?? undefined);
      router.rpc(rpc.method, impl as unknown as MethodImpl<typeof rpc.method>);
    }
  };
}
