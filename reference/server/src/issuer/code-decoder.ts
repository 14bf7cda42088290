import {
  decodeOfflineCode,
  OFFLINE_CODE_PREFIX,
  type OfflineCodeVerifier,
  type OfflineVerification,
  type OnlineCodec,
} from "@paycode/protocol";
import type { CodeKindName } from "../store/records.js";
import type { RuleSwitches } from "./rule-switches.js";
import { step4InWindow } from "./scan-throttle.js";

/** What the Scan hot path needs of a wallet: its id and decrypted seed. */
export interface WalletSecret {
  walletId: string;
  seed: Uint8Array;
}

/** What the codecs say about a scanned code, before any store decision. */
export type DecodedCode =
  | {
      verdict: "declined";
      kind: CodeKindName;
      reason: "CODE_MALFORMED" | "CODE_INVALID" | "CODE_EXPIRED";
      /**
       * [SEC-5] Set on a MAC failure: an online code whose handle this
       * wallet holds and whose step4 names a step of the window, but whose
       * MAC matches no candidate step.
       */
      macFailureWalletId?: string;
    }
  | {
      verdict: "usable";
      kind: CodeKindName;
      walletId: string;
      /** The burn key: online wallet+step+ctr, offline wallet+counter. */
      usageKey: string;
      /** Offline codes: the certificate refuses the amount (burn first, then decline). */
      offlineRefusal?: "OVER_LIMIT" | "CURRENCY_MISMATCH";
    };

export const onlineUsageKey = (walletId: string, step: number, counter: number) =>
  `on:${walletId}:${step}:${counter}`;
export const offlineUsageKey = (walletId: string, counter: bigint) => `off:${walletId}:${counter}`;

/** [SCAN-13] Kind of a code by its shape alone (also for the payment record of a malformed code). */
export function codeKindOf(code: string): CodeKindName {
  if (code.startsWith(OFFLINE_CODE_PREFIX)) return "OFFLINE";
  return /^[0-9]+$/.test(code) ? "ONLINE" : "UNSPECIFIED";
}

export interface CodeDecoderDeps {
  readonly online: OnlineCodec;
  /** [KEY-9] The codec of the previous K_code during a code-key transition. */
  readonly previousOnline?: OnlineCodec | undefined;
  offline: () => OfflineCodeVerifier;
  /** The wallet of a handle (from cache or store), undefined when none was provisioned. */
  walletByHandle(handle: number): Promise<WalletSecret | undefined>;
  breaks: RuleSwitches;
}

/**
 * A verification the `skipOfflineSignature` / `neverExpire` rule switches make
 * from the payload alone, checking no signature and no time.
 */
function unverifiedOffline(
  code: string,
  amount: bigint,
  currency: string,
): OfflineVerification | undefined {
  const d = decodeOfflineCode(code);
  if (!d) return undefined;
  const base = {
    walletId: d.payload.walletId,
    counter: d.payload.counter,
    issuedAt: Number(d.payload.issuedAt),
    body: d.body,
  };
  if (currency !== d.body.currency)
    return { result: "over-limit", reason: "CURRENCY_MISMATCH", ...base };
  if (amount > d.body.perPaymentLimitMinor)
    return { result: "over-limit", reason: "OVER_LIMIT", ...base };
  return { result: "valid", ...base };
}

/**
 * [VERIFY-7] Verifies an offline code by §6.2 at `nowSeconds` for an amount.
 * Shared by Scan and settlement. The verifier decodes strictly ([QR-4]),
 * checks signatures over the carried bytes ([QR-5]) with node:crypto's
 * cofactorless Ed25519 ([QR-8]) and refuses a
 * certificate whose issuer key was not valid at its not_before ([VERIFY-8]).
 */
export function verifyOffline(
  verifier: OfflineCodeVerifier,
  code: string,
  at: { nowSeconds: number; amountMinor: bigint; currency: string },
  breaks: RuleSwitches,
): OfflineVerification {
  const v = verifier.verify(code, at);
  if (v.result === "invalid" && breaks.skipOfflineSignature) {
    return unverifiedOffline(code, at.amountMinor, at.currency) ?? v;
  }
  if (v.result === "expired" && breaks.neverExpire) {
    return unverifiedOffline(code, at.amountMinor, at.currency) ?? v;
  }
  return v;
}

/**
 * Decodes and verifies a scanned code (online or offline) at issuer time
 * `nowMs`, and maps the result to a decline reason by §6.3 ([VERIFY-9]).
 */
export async function decodeScannedCode(
  deps: CodeDecoderDeps,
  code: string,
  amount: bigint,
  currency: string,
  nowMs: number,
): Promise<DecodedCode> {
  const nowSeconds = Math.floor(nowMs / 1000);
  const kind = codeKindOf(code);
  if (kind === "OFFLINE") {
    const v = verifyOffline(
      deps.offline(),
      code,
      { nowSeconds, amountMinor: amount, currency },
      deps.breaks,
    );
    switch (v.result) {
      case "malformed":
        return { verdict: "declined", kind, reason: "CODE_MALFORMED" };
      case "invalid":
        return { verdict: "declined", kind, reason: "CODE_INVALID" };
      case "expired":
        return { verdict: "declined", kind, reason: "CODE_EXPIRED" };
      case "over-limit":
        return {
          verdict: "usable",
          kind,
          walletId: v.walletId,
          usageKey: offlineUsageKey(v.walletId, v.counter),
          offlineRefusal: v.reason,
        };
      case "valid":
        return {
          verdict: "usable",
          kind,
          walletId: v.walletId,
          usageKey: offlineUsageKey(v.walletId, v.counter),
        };
    }
  }
  const current = await decodeOnline(deps, deps.online, code, nowSeconds, kind);
  // [KEY-9] During a code-key transition, a code the current K_code does not
  // make usable is tried under the previous one (which doubles what one
  // guess can hit, §12.2). The usage key does not depend on K_code, so a
  // code cannot pay once under each key.
  const previous = deps.previousOnline;
  if (current.verdict === "usable" || previous === undefined) return current;
  const old = await decodeOnline(deps, previous, code, nowSeconds, kind);
  if (old.verdict === "usable" || (old.verdict === "declined" && old.reason === "CODE_EXPIRED"))
    return old;
  return current;
}

/** §6.1 under one K_code. */
async function decodeOnline(
  deps: CodeDecoderDeps,
  online: OnlineCodec,
  code: string,
  nowSeconds: number,
  kind: DecodedCode["kind"],
): Promise<DecodedCode> {
  // [VERIFY-1] §6.1 in order. [VERIFY-2] Steps 1–2 (shape, prefix) fail as malformed.
  const parsed = online.parse(code);
  if (!parsed) return { verdict: "declined", kind, reason: "CODE_MALFORMED" };
  // [VERIFY-3] An unknown handle, no matching MAC, or a step beyond L back / F ahead.
  const wallet = await deps.walletByHandle(parsed.handle);
  if (!wallet) return { verdict: "declined", kind: "ONLINE", reason: "CODE_INVALID" };
  // [VERIFY-1] At the issuer clock of the Scan, never the host's.
  const at = deps.breaks.onlineVerifyHostClock ? Math.floor(Date.now() / 1000) : nowSeconds;
  const v = online.verify(parsed, wallet.seed, at);
  if (v.result === "invalid") {
    const { windowBackSteps, windowAheadSteps } = online.profile;
    // [SEC-5] Only a step4 of the window could have made a guessed MAC VALID.
    // (The mac-failure-any-step mutant counts every step4.)
    return deps.breaks.macFailureAnyStep ||
      step4InWindow(parsed.step4, Math.floor(at / 60), windowBackSteps, windowAheadSteps)
      ? {
          verdict: "declined",
          kind: "ONLINE",
          reason: "CODE_INVALID",
          macFailureWalletId: wallet.walletId,
        }
      : { verdict: "declined", kind: "ONLINE", reason: "CODE_INVALID" };
  }
  // [VERIFY-4]
  if (v.result === "expired" && !deps.breaks.neverExpire) {
    return { verdict: "declined", kind: "ONLINE", reason: "CODE_EXPIRED" };
  }
  // [VERIFY-5] A window match goes on to the business checks, revoked wallet or not.
  return {
    verdict: "usable",
    kind: "ONLINE",
    walletId: wallet.walletId,
    usageKey: onlineUsageKey(wallet.walletId, v.step, parsed.counter),
  };
}
