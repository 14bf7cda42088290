import { generateKeyPairSync } from "node:crypto";
import {
  ConformanceService,
  HealthService,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import type { CodeProfile, WalletSecret } from "./codes.js";
import { callUnary } from "./connect-unary.js";
import type { UnaryTransport } from "./transport.js";

export interface TargetInfo {
  implementation: string;
  profile: CodeProfile;
  currency: string;
  /** Issuer clock minus this machine's clock, ms (midpoint of the call). */
  clockOffsetMs: number;
  /** How long an offline code stays acceptable after it was issued, seconds. */
  offlineValidityS: number;
}

/** Issuer clock minus local clock from a Timestamp read between `before` and `after`. */
export function clockOffset(
  now: { seconds: bigint; nanos: number } | undefined,
  before: number,
  after: number,
): number {
  if (!now) return 0;
  const serverMs = Number(now.seconds) * 1000 + Math.floor(now.nanos / 1e6);
  return Math.round(serverMs - (before + after) / 2);
}

/** The profile fields code making needs, from an IssuerProfile message. */
export function codeProfileOf(p: {
  issuerPrefix: number;
  codeKey: Uint8Array;
  windowBackSteps: number;
  windowAheadSteps: number;
  lookbackSteps: number;
}): CodeProfile {
  return {
    prefix: p.issuerPrefix,
    codeKey: p.codeKey,
    windowBackSteps: p.windowBackSteps,
    windowAheadSteps: p.windowAheadSteps,
    lookbackSteps: p.lookbackSteps,
  };
}

/**
 * Profile and issuer clock without test control: SettlementService
 * GetIssuerKeys with a terminal key (it carries the profile and
 * generated_at).
 */
export async function fetchTargetInfoAsTerminal(
  t: UnaryTransport,
  terminalKey: string,
): Promise<TargetInfo> {
  const before = Date.now();
  const r = await callUnary(
    t,
    SettlementService.method.getIssuerKeys,
    {},
    { authorization: `Bearer ${terminalKey}` },
  );
  const after = Date.now();
  const p = r.profile;
  if (!p) throw new Error("GetIssuerKeys returned no profile");
  return {
    implementation: "unknown (no test control)",
    profile: codeProfileOf(p),
    currency: p.currency || "CNY",
    clockOffsetMs: clockOffset(r.generatedAt, before, after),
    offlineValidityS: p.offlineCodeValiditySeconds,
  };
}

/** Reads the issuer profile and clock through test control. */
export async function fetchTargetInfo(t: UnaryTransport): Promise<TargetInfo> {
  const before = Date.now();
  let caps: Awaited<ReturnType<typeof getCaps>>;
  try {
    caps = await getCaps(t);
  } catch (e) {
    throw new Error(
      `test control (ConformanceService) is not reachable: ${(e as Error).message}. ` +
        "Start the target with test control enabled (paycode serve --enable-test-control).",
    );
  }
  const after = Date.now();
  const p = caps.profile;
  if (!p) throw new Error("GetCapabilities returned no profile");
  const serverMs = caps.now
    ? Number(caps.now.seconds) * 1000 + Math.floor(caps.now.nanos / 1e6)
    : (before + after) / 2;
  return {
    implementation: caps.implementation,
    profile: {
      prefix: p.issuerPrefix,
      codeKey: p.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    },
    currency: p.currency || "CNY",
    clockOffsetMs: Math.round(serverMs - (before + after) / 2),
    offlineValidityS: p.offlineCodeValiditySeconds,
  };
}

function getCaps(t: UnaryTransport) {
  return callUnary(t, ConformanceService.method.getCapabilities, {});
}

/** Checks the target answers the no-op RPC before anything else. */
export async function ping(t: UnaryTransport): Promise<void> {
  await callUnary(t, HealthService.method.ping, {});
}

export async function createBenchTerminal(
  t: UnaryTransport,
  merchantId: string,
): Promise<{ terminalId: string; apiKey: string }> {
  const r = await callUnary(t, ConformanceService.method.createTerminal, { merchantId });
  return { terminalId: r.terminalId, apiKey: r.apiKey };
}

export async function createBenchMerchant(
  t: UnaryTransport,
  name: string,
): Promise<{ merchantId: string; apiKey: string }> {
  const r = await callUnary(t, ConformanceService.method.createMerchant, { name });
  return { merchantId: r.merchantId, apiKey: r.apiKey };
}

export const PASSWORD = "bench-password";
const MAX_U32 = 4_294_967_295;

/**
 * Limits high enough that no bench Scan ever steps up to password
 * confirmation or runs out of money: the benchmark measures the
 * password-free success path.
 */
export function benchAccountInit(currency: string) {
  const money = (amountMinor: bigint) => ({ currency, amountMinor });
  return {
    password: PASSWORD,
    balance: money(1_000_000_000_000n),
    limits: {
      perPaymentPasswordFree: money(1_000_000_000n),
      dailyPasswordFreeAmount: money(1_000_000_000_000n),
      dailyPasswordFreeCount: MAX_U32,
      // Offline codes (scan-offline, upload-batch): per code and per certificate.
      perPaymentOffline: money(1_000_000n),
      cumulativeOffline: money(1_000_000_000_000n),
    },
  };
}

/**
 * Provisions wallets the way a phone does: CreateAccount (test control)
 * then WalletService.ProvisionSeed, `parallel` at a time. Slow by design
 * (two password hashes per wallet); `bench seed-wallets` is the bulk path.
 */
export async function provisionWallets(
  t: UnaryTransport,
  count: number,
  currency: string,
  parallel: number,
  onProgress?: (done: number) => void,
): Promise<WalletSecret[]> {
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  // One public key for all bench wallets: offline codes are not exercised.
  const walletPublicKey = new Uint8Array(Buffer.from(jwk.x!, "base64url"));
  const account = benchAccountInit(currency);
  const out: WalletSecret[] = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { accountId } = await callUnary(t, ConformanceService.method.createAccount, account);
      const r = await callUnary(t, WalletService.method.provisionSeed, {
        accountId,
        password: PASSWORD,
        walletPublicKey,
        deviceLabel: "bench",
      });
      out[i] = { handle: r.handle, seed: r.seed };
      done++;
      if (done % 50 === 0 || done === count) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}
