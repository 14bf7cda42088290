import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AdvanceClockResponseSchema,
  CancelAction,
  CancelPaymentResponseSchema,
  ConfirmPaymentResponseSchema,
  CreateAccountResponseSchema,
  CreateMerchantResponseSchema,
  CreateTerminalResponseSchema,
  GetBalanceResponseSchema,
  GetCapabilitiesResponseSchema,
  GetIssuerKeysResponseSchema,
  GetLedgerTotalResponseSchema,
  GetPaymentResponseSchema,
  GetSettlementReportResponseSchema,
  GetWalletResponseSchema,
  IssueApiKeyResponseSchema,
  MoneySchema,
  type Payment,
  PaymentSchema,
  PaymentStatus,
  ProvisionSeedResponseSchema,
  RecordOutcome,
  RefundPaymentResponseSchema,
  RevokeApiKeyResponseSchema,
  RevokeSeedResponseSchema,
  RotateIssuerKeyResponseSchema,
  type ScanRequest,
  ScanResponseSchema,
  SetClockResponseSchema,
  UploadOfflineBatchResponseSchema,
} from "@paycode/protocol/v1";
import type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "../../issuer/issuer-api.js";

export const FAKE_KEYS = {
  merchant: "pcm_merchant_one",
  merchant2: "pcm_merchant_two",
  terminal: "pct_terminal_one",
  wallet: "pcw_wallet_token",
} as const;

/** A secret that appears in an unexpected error; it must never reach a client or a log line. */
export const LEAKY_SECRET = "hunter2-secret-in-exception";

const unauthenticated = () => new ConnectError("invalid credentials", Code.Unauthenticated);

/**
 * An in-memory `IssuerApi` for transport tests: fixed keys, echoing
 * handlers, and order numbers that trigger failures ("explode" throws a
 * plain Error, "slow" waits for `releaseSlow()`).
 */
export class FakeIssuer implements IssuerApi {
  readonly calls: string[] = [];
  sweeps = 0;
  closed = false;
  private slowRelease: (() => void) | undefined;
  private slowStarted: (() => void) | undefined;
  readonly slowStartedPromise = new Promise<void>((resolve) => {
    this.slowStarted = resolve;
  });

  async authenticateMerchant(apiKey: string): Promise<MerchantPrincipal> {
    if (apiKey === FAKE_KEYS.merchant) return { kind: "merchant", merchantId: "m1" };
    if (apiKey === FAKE_KEYS.merchant2) return { kind: "merchant", merchantId: "m2" };
    throw unauthenticated();
  }

  async authenticateTerminal(apiKey: string): Promise<TerminalPrincipal> {
    if (apiKey === FAKE_KEYS.terminal)
      return { kind: "terminal", terminalId: "t1", merchantId: "m1" };
    throw unauthenticated();
  }

  async authenticateWallet(token: string): Promise<WalletPrincipal> {
    if (token === FAKE_KEYS.wallet) return { kind: "wallet", walletId: "w1", accountId: "a1" };
    throw unauthenticated();
  }

  async provisionSeed() {
    this.calls.push("provisionSeed");
    return create(ProvisionSeedResponseSchema, { walletId: "w1", walletToken: FAKE_KEYS.wallet });
  }

  async revokeSeed(wallet: WalletPrincipal) {
    this.calls.push(`revokeSeed:${wallet.walletId}`);
    return create(RevokeSeedResponseSchema, { revokedAt: timestampFromMs(0) });
  }

  async confirmPayment(wallet: WalletPrincipal) {
    this.calls.push(`confirmPayment:${wallet.walletId}`);
    return create(ConfirmPaymentResponseSchema, { payment: payment("p1", "o1") });
  }

  async getWallet(wallet: WalletPrincipal) {
    this.calls.push(`getWallet:${wallet.walletId}`);
    return create(GetWalletResponseSchema, {
      walletId: wallet.walletId,
      accountId: wallet.accountId,
    });
  }

  async scan(merchant: MerchantPrincipal, req: ScanRequest) {
    this.calls.push(`scan:${merchant.merchantId}`);
    if (req.outTradeNo === "explode") throw new Error(`database said ${LEAKY_SECRET}`);
    if (req.outTradeNo === "slow") {
      this.slowStarted?.();
      await new Promise<void>((resolve) => {
        this.slowRelease = resolve;
      });
    }
    return create(ScanResponseSchema, { payment: payment("p-" + req.outTradeNo, req.outTradeNo) });
  }

  releaseSlow(): void {
    this.slowRelease?.();
  }

  async getPayment(merchant: MerchantPrincipal) {
    this.calls.push(`getPayment:${merchant.merchantId}`);
    return create(GetPaymentResponseSchema, { payment: payment("p1", "o1") });
  }

  async cancelPayment(merchant: MerchantPrincipal) {
    this.calls.push(`cancelPayment:${merchant.merchantId}`);
    return create(CancelPaymentResponseSchema, {
      payment: payment("p1", "o1"),
      action: CancelAction.NONE,
    });
  }

  async refundPayment(merchant: MerchantPrincipal) {
    this.calls.push(`refundPayment:${merchant.merchantId}`);
    return create(RefundPaymentResponseSchema, { payment: payment("p1", "o1") });
  }

  async getIssuerKeys(caller: MerchantPrincipal | TerminalPrincipal) {
    this.calls.push(`getIssuerKeys:${caller.kind}`);
    return create(GetIssuerKeysResponseSchema, { generatedAt: timestampFromMs(1_700_000_000_000) });
  }

  async uploadOfflineBatch(terminal: TerminalPrincipal, req: { records: { recordId: string }[] }) {
    this.calls.push(`uploadOfflineBatch:${terminal.terminalId}`);
    return create(UploadOfflineBatchResponseSchema, {
      results: req.records.map((r) => ({ recordId: r.recordId, outcome: RecordOutcome.SETTLED })),
    });
  }

  async getSettlementReport(merchant: MerchantPrincipal) {
    this.calls.push(`getSettlementReport:${merchant.merchantId}`);
    return create(GetSettlementReportResponseSchema, { date: "2024-01-01" });
  }

  control = {
    getCapabilities: async () => create(GetCapabilitiesResponseSchema, { implementation: "fake" }),
    createAccount: async () => create(CreateAccountResponseSchema, { accountId: "a1" }),
    createMerchant: async () =>
      create(CreateMerchantResponseSchema, { merchantId: "m1", apiKey: FAKE_KEYS.merchant }),
    createTerminal: async () =>
      create(CreateTerminalResponseSchema, { terminalId: "t1", apiKey: FAKE_KEYS.terminal }),
    getBalance: async () =>
      create(GetBalanceResponseSchema, { balance: { currency: "CNY", amountMinor: 0n } }),
    getLedgerTotal: async () =>
      create(GetLedgerTotalResponseSchema, { total: { currency: "CNY", amountMinor: 0n } }),
    advanceClock: async () => create(AdvanceClockResponseSchema, { now: timestampFromMs(0) }),
    setClock: async () => create(SetClockResponseSchema, { now: timestampFromMs(0) }),
    issueApiKey: async () => create(IssueApiKeyResponseSchema, { apiKey: FAKE_KEYS.merchant }),
    revokeApiKey: async () => create(RevokeApiKeyResponseSchema, { revoked: true }),
    rotateIssuerKey: async () =>
      create(RotateIssuerKeyResponseSchema, { keyId: "ik-fake", signsFrom: timestampFromMs(0) }),
  };

  async sweepExpired(): Promise<number> {
    this.sweeps++;
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function payment(id: string, outTradeNo: string): Payment {
  return create(PaymentSchema, {
    paymentId: id,
    outTradeNo,
    amount: create(MoneySchema, { currency: "CNY", amountMinor: 100n }),
    status: PaymentStatus.SUCCEEDED,
  });
}
