import type { DescService } from "@bufbuild/protobuf";
import { type Client, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  ConformanceService,
  HealthService,
  MerchantService,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";

/**
 * An RPC that failed, labelled with the method so a failure message says
 * which call broke, not just "internal error".
 */
export class RpcFailure extends Error {
  override readonly name = "RpcFailure";
  constructor(
    readonly rpc: string,
    readonly error: ConnectError,
  ) {
    super(`${rpc} failed: ${error.message}`);
  }
}

/** Which RPCs of a case are in flight, and the last one started, for timeout messages. */
export class RpcTracker {
  readonly inFlight = new Map<number, string>();
  last: string | undefined;
  calls = 0;
  private seq = 0;

  start(rpc: string): number {
    this.last = rpc;
    this.calls++;
    const id = ++this.seq;
    this.inFlight.set(id, rpc);
    return id;
  }

  end(id: number): void {
    this.inFlight.delete(id);
  }

  /** "MerchantService.Scan" while one is in flight, else the last call, else nothing. */
  describe(): string {
    const pending = [...this.inFlight.values()];
    if (pending.length > 0) return `waiting for ${[...new Set(pending)].join(", ")}`;
    return this.last ? `last RPC ${this.last}` : "no RPC made";
  }
}

export interface BindOptions {
  readonly signal: AbortSignal;
  readonly tracker: RpcTracker;
  /** Sent as `Authorization: Bearer <token>`; undefined sends no Authorization header. */
  readonly bearer?: string;
  /** Sent verbatim as the Authorization header (for malformed-credential cases). */
  readonly authorization?: string;
}

/**
 * A generated client whose every call carries the case's abort signal and
 * credentials, is tracked, and throws `RpcFailure` naming the method.
 */
export function bindClient<S extends DescService>(
  service: S,
  transport: Transport,
  o: BindOptions,
): Client<S> {
  const inner = createClient(service, transport) as unknown as Record<
    string,
    (req: unknown, opts?: unknown) => Promise<unknown>
  >;
  const headers: Record<string, string> = {};
  if (o.authorization !== undefined) headers["authorization"] = o.authorization;
  else if (o.bearer !== undefined) headers["authorization"] = `Bearer ${o.bearer}`;
  const serviceName = service.typeName.split(".").pop() ?? service.typeName;
  const out: Record<string, (req: unknown) => Promise<unknown>> = {};
  for (const method of service.methods) {
    const fn = inner[method.localName];
    if (!fn) continue;
    const label = `${serviceName}.${method.name}`;
    out[method.localName] = async (req: unknown) => {
      if (o.signal.aborted) throw new RpcFailure(label, ConnectError.from(o.signal.reason));
      const id = o.tracker.start(label);
      try {
        return await fn.call(inner, req ?? {}, { signal: o.signal, headers });
      } catch (e) {
        throw new RpcFailure(label, ConnectError.from(e));
      } finally {
        o.tracker.end(id);
      }
    };
  }
  return out as unknown as Client<S>;
}

/** Client factories with explicit credentials, for authentication and isolation cases. */
export interface RawClients {
  merchant(apiKey?: string): Client<typeof MerchantService>;
  settlement(apiKey?: string): Client<typeof SettlementService>;
  wallet(token?: string): Client<typeof WalletService>;
  health(): Client<typeof HealthService>;
  /** Any service with a verbatim Authorization header value. */
  withAuthorization<S extends DescService>(service: S, authorization: string): Client<S>;
}

export function rawClients(
  transport: Transport,
  signal: AbortSignal,
  tracker: RpcTracker,
): RawClients {
  const bind = <S extends DescService>(s: S, bearer?: string) =>
    bindClient(
      s,
      transport,
      bearer === undefined ? { signal, tracker } : { signal, tracker, bearer },
    );
  return {
    merchant: (k) => bind(MerchantService, k),
    settlement: (k) => bind(SettlementService, k),
    wallet: (t) => bind(WalletService, t),
    health: () => bind(HealthService),
    withAuthorization: (s, authorization) =>
      bindClient(s, transport, { signal, tracker, authorization }),
  };
}

export function controlClient(
  transport: Transport,
  signal: AbortSignal,
  tracker: RpcTracker,
): Client<typeof ConformanceService> {
  return bindClient(ConformanceService, transport, { signal, tracker });
}
