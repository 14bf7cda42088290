import type {
  AdvanceClockRequest,
  AdvanceClockResponse,
  CancelPaymentRequest,
  CancelPaymentResponse,
  ConfirmPaymentRequest,
  ConfirmPaymentResponse,
  CreateAccountRequest,
  CreateAccountResponse,
  CreateMerchantRequest,
  CreateMerchantResponse,
  CreateTerminalRequest,
  CreateTerminalResponse,
  GetBalanceRequest,
  GetBalanceResponse,
  GetCapabilitiesResponse,
  GetIssuerKeysResponse,
  GetLedgerTotalRequest,
  GetLedgerTotalResponse,
  GetPaymentRequest,
  GetPaymentResponse,
  GetSettlementReportRequest,
  GetSettlementReportResponse,
  GetWalletResponse,
  IssueApiKeyRequest,
  IssueApiKeyResponse,
  ProvisionSeedRequest,
  ProvisionSeedResponse,
  RefundPaymentRequest,
  RefundPaymentResponse,
  RevokeApiKeyRequest,
  RevokeApiKeyResponse,
  RevokeSeedRequest,
  RevokeSeedResponse,
  RotateIssuerKeyRequest,
  RotateIssuerKeyResponse,
  ScanRequest,
  ScanResponse,
  SetClockRequest,
  SetClockResponse,
  UploadOfflineBatchRequest,
  UploadOfflineBatchResponse,
} from "@paycode/protocol/v1";

/** A merchant's online scanner, authenticated by the merchant API key. */
export interface MerchantPrincipal {
  readonly kind: "merchant";
  readonly merchantId: string;
}

/** An offline terminal, authenticated by its own API key; it collects for one merchant. */
export interface TerminalPrincipal {
  readonly kind: "terminal";
  readonly terminalId: string;
  readonly merchantId: string;
}

/** A provisioned wallet, authenticated by its wallet token. */
export interface WalletPrincipal {
  readonly kind: "wallet";
  readonly walletId: string;
  readonly accountId: string;
}

/**
 * Everything the issuer decides, independent of transport. The server maps
 * each RPC onto one method; methods throw `ConnectError` with the code the
 * spec gives (`invalid_argument`, `not_found`, `already_exists`, ...). A
 * declined payment is a result, never an error.
 */
export interface IssuerApi {
  authenticateMerchant(apiKey: string): Promise<MerchantPrincipal>;
  authenticateTerminal(apiKey: string): Promise<TerminalPrincipal>;
  authenticateWallet(walletToken: string): Promise<WalletPrincipal>;

  provisionSeed(req: ProvisionSeedRequest): Promise<ProvisionSeedResponse>;
  revokeSeed(wallet: WalletPrincipal, req: RevokeSeedRequest): Promise<RevokeSeedResponse>;
  confirmPayment(
    wallet: WalletPrincipal,
    req: ConfirmPaymentRequest,
  ): Promise<ConfirmPaymentResponse>;
  getWallet(wallet: WalletPrincipal): Promise<GetWalletResponse>;

  scan(merchant: MerchantPrincipal, req: ScanRequest): Promise<ScanResponse>;
  getPayment(merchant: MerchantPrincipal, req: GetPaymentRequest): Promise<GetPaymentResponse>;
  cancelPayment(
    merchant: MerchantPrincipal,
    req: CancelPaymentRequest,
  ): Promise<CancelPaymentResponse>;
  refundPayment(
    merchant: MerchantPrincipal,
    req: RefundPaymentRequest,
  ): Promise<RefundPaymentResponse>;

  getIssuerKeys(caller: MerchantPrincipal | TerminalPrincipal): Promise<GetIssuerKeysResponse>;
  uploadOfflineBatch(
    terminal: TerminalPrincipal,
    req: UploadOfflineBatchRequest,
  ): Promise<UploadOfflineBatchResponse>;
  getSettlementReport(
    merchant: MerchantPrincipal,
    req: GetSettlementReportRequest,
  ): Promise<GetSettlementReportResponse>;

  /** Test control (ConformanceService); only reachable when the server enables it. */
  control: {
    getCapabilities(): Promise<GetCapabilitiesResponse>;
    createAccount(req: CreateAccountRequest): Promise<CreateAccountResponse>;
    createMerchant(req: CreateMerchantRequest): Promise<CreateMerchantResponse>;
    createTerminal(req: CreateTerminalRequest): Promise<CreateTerminalResponse>;
    getBalance(req: GetBalanceRequest): Promise<GetBalanceResponse>;
    getLedgerTotal(req: GetLedgerTotalRequest): Promise<GetLedgerTotalResponse>;
    advanceClock(req: AdvanceClockRequest): Promise<AdvanceClockResponse>;
    setClock(req: SetClockRequest): Promise<SetClockResponse>;
    issueApiKey(req: IssueApiKeyRequest): Promise<IssueApiKeyResponse>;
    revokeApiKey(req: RevokeApiKeyRequest): Promise<RevokeApiKeyResponse>;
    rotateIssuerKey(req: RotateIssuerKeyRequest): Promise<RotateIssuerKeyResponse>;
  };

  /** Closes pending payments past their deadline; the server calls it periodically. */
  sweepExpired(): Promise<number>;
  /**
   * [SEC-14] Deletes Scan payments declined CODE_INVALID / CODE_MALFORMED
   * older than the retention period (the merchant window counts stay);
   * optional, the server calls it with the sweep when present. How many.
   */
  pruneJunk?(): Promise<number>;
  close(): Promise<void>;
}
