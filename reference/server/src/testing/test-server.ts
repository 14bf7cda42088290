// Test helper, not exported from index.ts: a real issuer and server on
// loopback (SQLite file store, manual clock), plus test-control shortcuts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ManualClock } from "@paycode/protocol";
import {
  CreateAccountRequestSchema,
  CreateMerchantRequestSchema,
  CreateTerminalRequestSchema,
  GetBalanceRequestSchema,
  GetLedgerTotalRequestSchema,
  WalletLimitsSchema,
} from "@paycode/protocol/v1";
import { createPaycodeTransport, type PaycodeProtocol, type PaycodeTransport } from "@paycode/sdk";
import { T0_MS } from "@paycode/sdk/testing";
import { Issuer } from "../issuer/index.js";
import { type PaycodeServer, silentLogger, startServer } from "../rpc/index.js";
import { openStore } from "../store/index.js";
import type { Store } from "../store/store.js";
import { LoopbackProxy } from "./loopback-proxy.js";

export const PASSWORD = "correct horse";
const MASTER_KEY = new Uint8Array(32).fill(0x6b);

const cny = (amountMinor: bigint) => ({ currency: "CNY", amountMinor });

export interface AccountLimits {
  perPaymentPasswordFree?: bigint;
  dailyPasswordFreeAmount?: bigint;
  dailyPasswordFreeCount?: number;
  perPaymentOffline?: bigint;
  cumulativeOffline?: bigint;
}

export class TestServer {
  private readonly transports: PaycodeTransport[] = [];
  private readonly proxies: LoopbackProxy[] = [];

  private constructor(
    readonly issuer: Issuer,
    readonly server: PaycodeServer,
    readonly clock: ManualClock,
    private readonly store: Store,
    private readonly dir: string,
  ) {}

  static async start(o: { clockStartMs?: number } = {}): Promise<TestServer> {
    const dir = mkdtempSync(join(tmpdir(), "paycode-clients-"));
    const clock = new ManualClock(o.clockStartMs ?? T0_MS + 10 * 3600_000);
    const store = await openStore(`sqlite:${join(dir, "issuer.db")}`);
    const issuer = await Issuer.open({
      store,
      clock,
      masterKey: MASTER_KEY,
      advanceClock: (ms) => clock.advance(ms),
      passwordCostN: 2 ** 10,
    });
    const server = await startServer({
      issuer,
      port: 0,
      enableTestControl: true,
      logger: silentLogger,
      sweepIntervalMs: 3600_000,
      closeGraceMs: 100,
    });
    return new TestServer(issuer, server, clock, store, dir);
  }

  get url(): string {
    return this.server.url;
  }

  /** A tracked transport (closed with the server). */
  transport(
    o: {
      bearer?: string;
      baseUrl?: string;
      protocol?: PaycodeProtocol;
      httpVersion?: "1.1" | "2";
    } = {},
  ) {
    const t = createPaycodeTransport({
      baseUrl: o.baseUrl ?? this.url,
      ...(o.bearer !== undefined ? { bearer: o.bearer } : {}),
      ...(o.protocol !== undefined ? { protocol: o.protocol } : {}),
      ...(o.httpVersion !== undefined ? { httpVersion: o.httpVersion } : {}),
      timeoutMs: 10_000,
    });
    this.transports.push(t);
    return t.transport;
  }

  /** A loopback proxy in front of this server (closed with it). */
  async proxy(): Promise<LoopbackProxy> {
    const p = await LoopbackProxy.start(this.url);
    this.proxies.push(p);
    return p;
  }

  async account(balance: bigint, limits: AccountLimits = {}): Promise<string> {
    const r = await this.issuer.control.createAccount(
      create(CreateAccountRequestSchema, {
        password: PASSWORD,
        balance: cny(balance),
        limits: create(WalletLimitsSchema, {
          ...(limits.perPaymentPasswordFree !== undefined
            ? { perPaymentPasswordFree: cny(limits.perPaymentPasswordFree) }
            : {}),
          ...(limits.dailyPasswordFreeAmount !== undefined
            ? { dailyPasswordFreeAmount: cny(limits.dailyPasswordFreeAmount) }
            : {}),
          dailyPasswordFreeCount: limits.dailyPasswordFreeCount ?? 0,
          ...(limits.perPaymentOffline !== undefined
            ? { perPaymentOffline: cny(limits.perPaymentOffline) }
            : {}),
          ...(limits.cumulativeOffline !== undefined
            ? { cumulativeOffline: cny(limits.cumulativeOffline) }
            : {}),
        }),
      }),
    );
    return r.accountId;
  }

  async merchant(): Promise<{ merchantId: string; apiKey: string }> {
    return this.issuer.control.createMerchant(
      create(CreateMerchantRequestSchema, { name: "shop" }),
    );
  }

  async terminalKey(merchantId: string): Promise<string> {
    return (
      await this.issuer.control.createTerminal(create(CreateTerminalRequestSchema, { merchantId }))
    ).apiKey;
  }

  async balance(owner: { accountId: string } | { merchantId: string }): Promise<bigint> {
    const req = create(GetBalanceRequestSchema, {
      owner:
        "accountId" in owner
          ? { case: "accountId", value: owner.accountId }
          : { case: "merchantId", value: owner.merchantId },
    });
    return (await this.issuer.control.getBalance(req)).balance!.amountMinor;
  }

  async ledgerTotal(): Promise<bigint> {
    return (
      await this.issuer.control.getLedgerTotal(
        create(GetLedgerTotalRequestSchema, { currency: "CNY" }),
      )
    ).total!.amountMinor;
  }

  async close(): Promise<void> {
    for (const t of this.transports) t.close();
    for (const p of this.proxies) await p.close();
    await this.server.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
