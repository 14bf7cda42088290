import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext, MethodImpl } from "@connectrpc/connect";
import type { Clock } from "@paycode/protocol";
import type { AuditLog } from "../issuer/audit-log.js";
import type { IssuerApi } from "../issuer/issuer-api.js";
import { Authenticator } from "./authenticator.js";
import { consoleLogger, type ServerLogger } from "./logger.js";
import { PEER_ADDRESS } from "./peer-address.js";
import { reflectionRoutes } from "./reflection/reflection.js";
import { createRpcTable, type Rpc } from "./rpc-table.js";

export interface RoutesOptions {
  /** Serve ConformanceService (test control). Never in production. */
  enableTestControl: boolean;
  logger?: ServerLogger;
  /** See `AuthenticatorOptions.cacheTtlMs`; off by default. */
  authCacheTtlMs?: number;
  /**
   * Serve gRPC server reflection (`grpc.reflection.v1` and `v1alpha`
   * `ServerReflection`) for grpcurl, `buf curl` and Postman. Default: on
   * only when test control is.
   */
  reflection?: boolean;
  /** Where failed authentication is reported; none when absent. */
  audit?: AuditLog;
  /** The issuer clock, for the time of audit events. */
  clock?: Clock;
}

/**
 * The Connect routes of a Paycode server: WalletService, MerchantService,
 * SettlementService, HealthService and, only when enabled,
 * ConformanceService and server reflection. Usable with any connect-es
 * adapter.
 */
export function createRoutes(
  issuer: IssuerApi,
  opts: RoutesOptions,
): (router: ConnectRouter) => void {
  const table = createRpcTable(issuer, {
    enableTestControl: opts.enableTestControl,
    authenticator: new Authenticator(issuer, { cacheTtlMs: opts.authCacheTtlMs ?? 0 }),
    logger: opts.logger ?? consoleLogger,
    ...(opts.audit !== undefined ? { audit: opts.audit } : {}),
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
  });
  const routes = routesFromTable(table);
  if (!(opts.reflection ?? opts.enableTestControl)) return routes;
  const reflection = reflectionRoutes(servicesOf(table));
  return (router) => {
    routes(router);
    reflection(router);
  };
}

/** The services an RPC table serves, in order of first appearance. */
export function servicesOf(table: readonly Rpc[]): DescService[] {
  return [...new Set(table.map((rpc) => rpc.method.parent))];
}

/** Registers an RPC table on a Connect router. */
export function routesFromTable(table: readonly Rpc[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const rpc of table) {
      const invoke = rpc.invoke;
      const impl = (req: unknown, ctx: HandlerContext) =>
        invoke(
          req as never,
          ctx.requestHeader.get("authorization") ?? undefined,
          ctx.values.get(PEER_ADDRESS),
        );
      router.rpc(rpc.method, impl as unknown as MethodImpl<typeof rpc.method>);
    }
  };
}
