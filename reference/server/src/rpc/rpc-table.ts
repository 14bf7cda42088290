import type {
  DescMethod,
  DescMethodUnary,
  DescService,
  Message,
  MessageShape,
} from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { type Clock, systemClock } from "@paycode/protocol";
import {
  ConformanceService,
  HealthService,
  MerchantService,
  PingResponseSchema,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import type { AuditLog } from "../issuer/audit-log.js";
import type { IssuerApi } from "../issuer/issuer-api.js";
import type { Authenticator } from "./authenticator.js";
import { parseBearer } from "./bearer.js";
import { toConnectError } from "./internal-error.js";
import type { ServerLogger } from "./logger.js";

/**
 * One RPC as the transports see it: parsed request and the raw
 * `Authorization` header in, response message out. Both the stock Connect
 * router and the Connect unary fast path call the same `invoke`, so auth
 * and error handling cannot drift between them.
 */
export interface Rpc {
  readonly method: DescMethodUnary;
  /** "/paycode.v1.MerchantService/Scan" */
  readonly path: string;
  readonly invoke: (
    input: Message,
    authorization: string | undefined,
    /** The caller's address as the socket sees it (a proxy's, behind one); for the audit log only. */
    peer?: string,
  ) => Message | Promise<Message>;
}

export interface RpcTableOptions {
  enableTestControl: boolean;
  authenticator: Authenticator;
  logger: ServerLogger;
  /** Where failed authentication is reported (`auth.failed`); none when absent. */
  audit?: AuditLog;
  /** The issuer clock, for the time of audit events. */
  clock?: Clock;
}

/**
 * Who must authenticate for each RPC, as the audit log names it: the
 * bearer role, or "account" for ProvisionSeed (account id and password).
 */
const PRINCIPAL_OF_RPC: Readonly<Record<string, string>> = {
  "paycode.v1.WalletService.ProvisionSeed": "account",
  "paycode.v1.WalletService.RevokeSeed": "wallet",
  "paycode.v1.WalletService.ConfirmPayment": "wallet",
  "paycode.v1.WalletService.GetWallet": "wallet",
  "paycode.v1.MerchantService.Scan": "merchant",
  "paycode.v1.MerchantService.GetPayment": "merchant",
  "paycode.v1.MerchantService.CancelPayment": "merchant",
  "paycode.v1.MerchantService.RefundPayment": "merchant",
  "paycode.v1.SettlementService.GetIssuerKeys": "merchant|terminal",
  "paycode.v1.SettlementService.UploadOfflineBatch": "terminal",
  "paycode.v1.SettlementService.GetSettlementReport": "merchant",
};

interface AuditHook {
  readonly audit: AuditLog;
  readonly clock: Clock;
}

type Handlers<T extends { method: Record<string, DescMethod> }> = {
  [K in keyof T["method"]]: (
    req: MessageShape<T["method"][K]["input"]>,
    authorization: string | undefined,
  ) => MessageShape<T["method"][K]["output"]> | Promise<MessageShape<T["method"][K]["output"]>>;
};

// [RPC-8] Ping needs no credential. It answers with one shared, never-mutated
// message: no work at all, which makes it the floor of every benchmark.
const pong = create(PingResponseSchema);

/**
 * Every RPC the server serves, with authentication bound in: [AUTH-1] each
 * handler but Ping and ProvisionSeed resolves its bearer token to a
 * principal of the role §7.7 allows before the issuer sees the request.
 */
export function createRpcTable(issuer: IssuerApi, opts: RpcTableOptions): Rpc[] {
  const auth = opts.authenticator;
  const hook: AuditHook | undefined =
    opts.audit !== undefined ? { audit: opts.audit, clock: opts.clock ?? systemClock } : undefined;
  const table: Rpc[] = [];

  table.push(...service(HealthService, { ping: () => pong }, opts.logger, false));

  table.push(
    ...service(
      WalletService,
      {
        // The account password in the request is the credential here.
        provisionSeed: (req) => issuer.provisionSeed(req),
        revokeSeed: async (req, a) => issuer.revokeSeed(await auth.wallet(a), req),
        confirmPayment: async (req, a) => issuer.confirmPayment(await auth.wallet(a), req),
        getWallet: async (_req, a) => issuer.getWallet(await auth.wallet(a)),
      },
      opts.logger,
      true,
      hook,
    ),
  );

  table.push(
    ...service(
      MerchantService,
      {
        scan: async (req, a) => issuer.scan(await auth.merchant(a), req),
        getPayment: async (req, a) => issuer.getPayment(await auth.merchant(a), req),
        cancelPayment: async (req, a) => issuer.cancelPayment(await auth.merchant(a), req),
        refundPayment: async (req, a) => issuer.refundPayment(await auth.merchant(a), req),
      },
      opts.logger,
      true,
      hook,
    ),
  );

  table.push(
    ...service(
      SettlementService,
      {
        getIssuerKeys: async (_req, a) => issuer.getIssuerKeys(await auth.merchantOrTerminal(a)),
        uploadOfflineBatch: async (req, a) =>
          issuer.uploadOfflineBatch(await auth.terminal(a), req),
        getSettlementReport: async (req, a) =>
          issuer.getSettlementReport(await auth.merchant(a), req),
      },
      opts.logger,
      true,
      hook,
    ),
  );

  // [CTRL-1] Test control exists only when the operator switched it on.
  if (opts.enableTestControl) {
    const c = issuer.control;
    table.push(
      ...service(
        ConformanceService,
        {
          getCapabilities: () => c.getCapabilities(),
          createAccount: (req) => c.createAccount(req),
          createMerchant: (req) => c.createMerchant(req),
          createTerminal: (req) => c.createTerminal(req),
          getBalance: (req) => c.getBalance(req),
          getLedgerTotal: (req) => c.getLedgerTotal(req),
          advanceClock: (req) => c.advanceClock(req),
          setClock: (req) => c.setClock(req),
          issueApiKey: (req) => c.issueApiKey(req),
          revokeApiKey: (req) => c.revokeApiKey(req),
          rotateIssuerKey: (req) => c.rotateIssuerKey(req),
        },
        opts.logger,
      ),
    );
  }
  return table;
}

function service<T extends DescService & { method: Record<string, DescMethod> }>(
  desc: T,
  handlers: Handlers<T>,
  logger: ServerLogger,
  guarded = true,
  hook?: AuditHook,
): Rpc[] {
  return desc.methods.map((method): Rpc => {
    if (method.methodKind !== "unary") {
      throw new Error(`${desc.typeName}.${method.name}: only unary RPCs are supported`);
    }
    const fn = (handlers as unknown as Record<string, Rpc["invoke"]>)[method.localName];
    if (fn === undefined) throw new Error(`${desc.typeName}.${method.name} has no handler`);
    const name = `${desc.typeName}.${method.name}`;
    const principal = PRINCIPAL_OF_RPC[name] ?? "unknown";
    const invoke: Rpc["invoke"] = guarded
      ? async (input, authorization, peer) => {
          try {
            return await fn(input, authorization);
          } catch (err) {
            const e = toConnectError(err, name, logger);
            if (hook !== undefined && e.code === Code.Unauthenticated) {
              await auditFailedAuthentication(hook, name, principal, authorization, peer);
            }
            throw e;
          }
        }
      : fn;
    return { method: method as DescMethodUnary, path: `/${desc.typeName}/${method.name}`, invoke };
  });
}

/**
 * [AUDIT-1] [AUDIT-2] `auth.failed`: which RPC, which principal kind, the peer address,
 * and whether a credential was sent at all. Never the credential, nor any
 * request field (an account id field may hold a mistyped password); the
 * pipeline folds repeats per minute.
 */
async function auditFailedAuthentication(
  hook: AuditHook,
  rpc: string,
  kind: string,
  authorization: string | undefined,
  peer: string | undefined,
): Promise<void> {
  const credential = kind === "account" ? "password" : bearerShape(authorization);
  try {
    await hook.audit.record({
      type: "auth.failed",
      at: hook.clock.now(),
      detail: { kind, rpc, peer: peer ?? "unknown", credential },
    });
  } catch {
    // Recording never changes the answer.
  }
}

/** What was sent, without what it was: "missing", "malformed" (not `Bearer <token>`) or "invalid". */
function bearerShape(authorization: string | undefined): string {
  try {
    parseBearer(authorization);
    return "invalid";
  } catch {
    return authorization === undefined || authorization === "" ? "missing" : "malformed";
  }
}
