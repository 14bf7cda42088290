import { createHmac, randomBytes } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  DEFAULT_PROFILE,
  decodeOfflineCode,
  ed25519Sign,
  generateEd25519,
  OFFLINE_CODE_PREFIX,
  OnlineCodec,
} from "@paycode/protocol";
import {
  DeclineReason,
  type IssuerProfile,
  MoneySchema,
  type OfflineCode,
  OfflineCodeSchema,
  OfflinePayloadSchema,
  PaymentStatus,
  type WalletCertificate,
  WalletCertificateBodySchema,
  type WalletLimits,
  WalletLimitsSchema,
} from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";
import { mapPayment, override } from "./api-override.js";
import { startJsonInt64Proxy } from "./json-int64-proxy.js";
import { rewriteOfflineCodes } from "./offline-code-rewrite.js";
import { rewriteOnlineCodes } from "./online-code-rewrite.js";
import { publishProfile } from "./published-profile.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/** The order L of the Ed25519 base point. */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** A 64-byte Ed25519 signature with S reduced mod L, as a verifier that never checks S < L sees it. */
function reduceS(sig: Uint8Array): Uint8Array {
  if (sig.length !== 64) return sig;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  if (s < ED25519_L) return sig;
  s %= ED25519_L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

/** Issuer clock now, in Unix seconds. */
async function nowSeconds(issuer: IssuerApi): Promise<number> {
  const caps = await issuer.control.getCapabilities();
  return Math.floor(timestampMs(caps.now!) / 1000);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * The envelope of an offline code when it is canonical; undefined otherwise,
 * so a mutant of a signature or key rule leaves the envelope parser strict.
 */
function canonicalEnvelope(bytes: Uint8Array): OfflineCode | undefined {
  const env = fromBinary(OfflineCodeSchema, bytes);
  return hex(toBinary(OfflineCodeSchema, env)) === hex(bytes) ? env : undefined;
}

/**
 * Wrapper mutants for the requirements of the scan area. Each violates the
 * requirement IDs in `breaks` in its main failure mode: the way a careful
 * vendor in another language could still get that rule wrong.
 */
export const SCAN_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  "profile-lookback-in-hours": {
    breaks: ["CODE-1"],
    summary:
      "The profile publishes lookback_steps in the operator's unit (1 hour → 1), below window_back_steps 2.",
    wrap: (issuer) =>
      publishProfile(issuer, (p) => {
        p.lookbackSteps = 1;
      }),
  },
  "handle-per-account": {
    breaks: ["CODE-5"],
    summary:
      "A re-provisioned account's new wallet gets the handle of its revoked predecessor (handle kept on the account).",
    wrap: (issuer) =>
      rewriteOnlineCodes(issuer, {
        show: (w, earlier) => ({ handle: earlier[0]?.shownHandle ?? w.handle, seed: w.seed }),
      }),
  },
  "seed-from-account": {
    breaks: ["CODE-7"],
    summary:
      "Seeds are HMAC(master key, account id): every wallet of an account gets the same seed.",
    wrap: (issuer) => {
      const master = randomBytes(32);
      return rewriteOnlineCodes(issuer, {
        show: (w) => ({
          handle: w.handle,
          seed: new Uint8Array(createHmac("sha256", master).update(w.accountId).digest()),
        }),
      });
    },
  },
  "stock-parser-envelope": {
    breaks: ["QR-4"],
    summary:
      "The OfflineCode envelope is read by a stock protobuf parser: reordered, repeated or unknown fields and over-long varints pass.",
    wrap: (issuer) =>
      rewriteOfflineCodes(issuer, (bytes) =>
        toBinary(OfflineCodeSchema, fromBinary(OfflineCodeSchema, bytes), {
          writeUnknownFields: false,
        }),
      ),
  },
  "reserialize-to-verify": {
    breaks: ["QR-5"],
    summary:
      "Signatures are checked over a re-serialization of the decoded payload and certificate body, not the bytes carried.",
    wrap: (issuer) =>
      rewriteOfflineCodes(issuer, (bytes) => {
        // The envelope itself is read strictly; only the signed parts are rebuilt.
        const env = canonicalEnvelope(bytes);
        if (!env?.certificate) return undefined;
        const again = { writeUnknownFields: false };
        env.payload = toBinary(
          OfflinePayloadSchema,
          fromBinary(OfflinePayloadSchema, env.payload),
          again,
        );
        env.certificate.body = toBinary(
          WalletCertificateBodySchema,
          fromBinary(WalletCertificateBodySchema, env.certificate.body),
          again,
        );
        return toBinary(OfflineCodeSchema, env);
      }),
  },
  "certificate-key-unlisted": {
    breaks: ["QR-7"],
    summary:
      "Certificates are signed with a key of the signing server that GetIssuerKeys does not list (the issuer's own Scan knows it).",
    wrap: (issuer) => {
      const local = generateEd25519();
      const localId = "ik-local-signer";
      const originals = new Map<string, WalletCertificate>();
      const signed = override(issuer, {
        provisionSeed: async (req) => {
          const r = await issuer.provisionSeed(req);
          const cert = r.certificate;
          if (cert) {
            originals.set(hex(cert.body), { ...cert });
            cert.issuerKeyId = localId;
            cert.issuerSignature = ed25519Sign(local.privateKey, cert.body);
          }
          return r;
        },
      });
      return rewriteOfflineCodes(signed, (bytes) => {
        const env = canonicalEnvelope(bytes);
        const original = env?.certificate && originals.get(hex(env.certificate.body));
        if (!env || env.certificate?.issuerKeyId !== localId || !original) return undefined;
        env.certificate = original;
        return toBinary(OfflineCodeSchema, env);
      });
    },
  },
  "signature-s-unreduced": {
    breaks: ["QR-8"],
    summary:
      "The Ed25519 verifier does not check S < L (as TweetNaCl): a signature with S + L verifies.",
    wrap: (issuer) =>
      rewriteOfflineCodes(issuer, (bytes) => {
        const env = canonicalEnvelope(bytes);
        if (!env) return undefined;
        env.signature = reduceS(env.signature);
        if (env.certificate)
          env.certificate.issuerSignature = reduceS(env.certificate.issuerSignature);
        return toBinary(OfflineCodeSchema, env);
      }),
  },
  "online-clock-ahead-off-by-one": {
    breaks: ["VERIFY-3"],
    summary:
      "The online window reaches F + 1 steps ahead (S ≤ T + F + 1) while the profile publishes F = 1.",
    profile: { windowAheadSteps: 2 },
    wrap: (issuer) =>
      publishProfile(issuer, (p) => {
        p.windowAheadSteps = 1;
      }),
  },
  "unknown-handle-malformed": {
    breaks: ["VERIFY-3"],
    summary: "An online code whose handle no wallet holds is declined CODE_MALFORMED.",
    wrap: (issuer) => {
      const handles = new Set<number>();
      let codec: OnlineCodec | undefined;
      return override(issuer, {
        provisionSeed: async (req) => {
          const r = await issuer.provisionSeed(req);
          handles.add(r.handle);
          if (r.profile && !codec) codec = codecOf(r.profile);
          return r;
        },
        scan: async (m, req) => {
          const parsed = codec?.parse(req.code);
          const r = await issuer.scan(m, req);
          mapPayment(r.payment, (p) => {
            if (
              p.declineReason === DeclineReason.CODE_INVALID &&
              parsed &&
              !handles.has(parsed.handle)
            )
              p.declineReason = DeclineReason.CODE_MALFORMED;
          });
          return r;
        },
      });
    },
  },
  "mac-unchecked": {
    breaks: ["VERIFY-3"],
    summary:
      "The MAC comparison result is dropped: any code with a known handle and a step in the window pays.",
    wrap: (issuer) =>
      rewriteOnlineCodes(issuer, {
        judge: (code, now, holders, c) => {
          const w = holders.at(-1);
          if (!w) return undefined;
          const t = Math.floor(now / 60);
          const top = t + c.profile.windowAheadSteps;
          const step = top - ((((top - code.step4) % 16) + 16) % 16);
          if (step < t - c.profile.windowBackSteps) return undefined;
          return { result: "valid", wallet: w, step, counter: code.counter };
        },
      }),
  },
  "prefix-not-checked": {
    breaks: ["VERIFY-2"],
    summary:
      "The verifier ignores the first two digits (the till already routed the code) and decrypts the rest.",
    wrap: (issuer) => {
      let prefix: string | undefined;
      return override(issuer, {
        scan: async (m, req) => {
          prefix ??= String((await issuer.control.getCapabilities()).profile?.issuerPrefix);
          if (/^\d{18}$/.test(req.code)) req.code = prefix + req.code.slice(2);
          return issuer.scan(m, req);
        },
      });
    },
  },
  "future-offline-code-invalid": {
    breaks: ["VERIFY-9"],
    summary:
      "An offline code issued beyond the clock skew (CODE_NOT_YET_VALID) is declined CODE_INVALID, not CODE_EXPIRED.",
    wrap: (issuer) =>
      override(issuer, {
        scan: async (m, req) => {
          const code = req.code;
          const r = await issuer.scan(m, req);
          const p = r.payment;
          if (p?.declineReason !== DeclineReason.CODE_EXPIRED) return r;
          const d = code.startsWith(OFFLINE_CODE_PREFIX) ? decodeOfflineCode(code) : undefined;
          if (d && d.payload.issuedAt > BigInt(await nowSeconds(issuer)))
            p.declineReason = DeclineReason.CODE_INVALID;
          return r;
        },
      }),
  },
  "provision-limits-as-stored": {
    breaks: ["WALLET-3"],
    summary:
      "ProvisionSeed returns the limits stored on the account: the fields it was created without are left unset.",
    wrap: (issuer) => {
      const stored = new Map<string, WalletLimits | undefined>();
      return override(issuer, {
        provisionSeed: async (req) => {
          const r = await issuer.provisionSeed(req);
          r.limits = create(WalletLimitsSchema, stored.get(req.accountId) ?? {});
          return r;
        },
        control: {
          createAccount: async (req) => {
            const r = await issuer.control.createAccount(req);
            stored.set(r.accountId, req.limits);
            return r;
          },
        },
      });
    },
  },
  "wallet-reports-default-limits": {
    breaks: ["LIMIT-6"],
    summary: "GetWallet reports the issuer's default limits instead of the account's.",
    wrap: (issuer) =>
      override(issuer, {
        getWallet: async (w) => {
          const r = await issuer.getWallet(w);
          const cur = r.balance?.currency ?? DEFAULT_PROFILE.currency;
          const money = (amountMinor: bigint) =>
            create(MoneySchema, { currency: cur, amountMinor });
          const d = DEFAULT_PROFILE.defaultLimits;
          r.limits = create(WalletLimitsSchema, {
            perPaymentPasswordFree: money(d.perPaymentPasswordFree),
            dailyPasswordFreeAmount: money(d.dailyPasswordFreeAmount),
            dailyPasswordFreeCount: d.dailyPasswordFreeCount,
            perPaymentOffline: money(d.perPaymentOffline),
            cumulativeOffline: money(d.cumulativeOffline),
          });
          return r;
        },
      }),
  },
  "re-revoke-overwrites": {
    breaks: ["WALLET-8"],
    summary: "A repeated RevokeSeed stores and returns the current time as revoked_at.",
    wrap: (issuer) => {
      const revoked = new Set<string>();
      return override(issuer, {
        revokeSeed: async (w, req) => {
          const r = await issuer.revokeSeed(w, req);
          if (revoked.has(w.walletId)) r.revokedAt = (await issuer.control.getCapabilities()).now;
          revoked.add(w.walletId);
          return r;
        },
      });
    },
  },
  "lookup-unset-not-found": {
    breaks: ["RPC-5"],
    summary:
      "GetPayment and CancelPayment without a lookup search for the empty id and answer not_found, not invalid_argument.",
    wrap: (issuer) => {
      const unset = (l: { case?: string | undefined; value?: unknown }) =>
        l.case === undefined || l.value === "";
      const none = () => new ConnectError("payment not found", Code.NotFound);
      return override(issuer, {
        getPayment: async (m, req) => {
          if (unset(req.lookup)) throw none();
          return issuer.getPayment(m, req);
        },
        cancelPayment: async (m, req) => {
          if (unset(req.lookup)) throw none();
          return issuer.cancelPayment(m, req);
        },
      });
    },
  },
  "decline-as-error": {
    breaks: ["RPC-6"],
    summary: "Scan answers a declined payment with a failed_precondition error naming the reason.",
    wrap: (issuer) =>
      override(issuer, {
        scan: async (m, req) => {
          const r = await issuer.scan(m, req);
          const p = r.payment;
          if (p?.status === PaymentStatus.DECLINED) {
            throw new ConnectError(
              `payment declined: ${DeclineReason[p.declineReason]}`,
              Code.FailedPrecondition,
            );
          }
          return r;
        },
      }),
  },
  "json-int64-as-numbers": {
    breaks: ["RPC-3"],
    summary:
      "The Connect JSON codec writes int64 fields as JSON numbers (a stock JSON library), not the strings of the proto3 JSON mapping.",
    wrap: (issuer) => issuer,
    proxy: startJsonInt64Proxy,
  },
  "payload-bound-unchecked": {
    breaks: ["VERIFY-2"],
    summary:
      "P ≥ 2^53 is not checked: its handle (P >> 25, ≥ 2^28) names no wallet and the code is declined CODE_INVALID.",
    wrap: (issuer) => {
      let prefix: string | undefined;
      return override(issuer, {
        scan: async (m, req) => {
          prefix ??= String((await issuer.control.getCapabilities()).profile?.issuerPrefix);
          const code = req.code;
          const r = await issuer.scan(m, req);
          mapPayment(r.payment, (p) => {
            // Shape and prefix right, so only step 2 can have made it malformed.
            if (
              p.declineReason === DeclineReason.CODE_MALFORMED &&
              /^\d{18}$/.test(code) &&
              code.startsWith(prefix!)
            )
              p.declineReason = DeclineReason.CODE_INVALID;
          });
          return r;
        },
      });
    },
  },
};

function codecOf(p: IssuerProfile): OnlineCodec {
  return new OnlineCodec({
    prefix: p.issuerPrefix,
    codeKey: p.codeKey,
    windowBackSteps: p.windowBackSteps,
    windowAheadSteps: p.windowAheadSteps,
    lookbackSteps: p.lookbackSteps,
  });
}
