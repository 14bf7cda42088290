// Fixtures for this folder's tests; not exported from index.ts.
import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type OfflineCode,
  OfflineCodeSchema,
  type WalletCertificate,
  type WalletCertificateBody,
  WalletCertificateBodySchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { fromBase45, toBase45 } from "./base45.js";
import { issueCertificate } from "./certificate.js";
import { ed25519FromSeed } from "./ed25519.js";
import type { IssuerKeyEntry } from "./issuer-keys.js";
import { buildOfflineCode, OFFLINE_CODE_PREFIX } from "./offline-code.js";
import { OfflineCodeVerifier, type OfflineCodeVerifierOptions } from "./offline-verifier.js";

/** 2026-01-01T00:00:00Z. */
export const T0 = 1_767_225_600;
export const CERT_NOT_BEFORE = T0 - 300;
export const CERT_NOT_AFTER = T0 + 30 * 86400;
export const LIMIT = 5000n;

/** A deterministic 32-byte seed for fixture keys. */
export function testSeed(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(label).digest());
}

export const issuerKey = ed25519FromSeed(testSeed("issuer/k1"));
export const otherIssuerKey = ed25519FromSeed(testSeed("issuer/k2"));
export const walletKey = ed25519FromSeed(testSeed("wallet/1"));
export const otherWalletKey = ed25519FromSeed(testSeed("wallet/2"));
export const WALLET_ID = "w-0001";

export const issuerKeys: IssuerKeyEntry[] = [
  {
    keyId: "k1",
    publicKey: issuerKey.publicKey,
    notBefore: T0 - 365 * 86400,
    notAfter: T0 + 365 * 86400,
  },
  {
    keyId: "k2",
    publicKey: otherIssuerKey.publicKey,
    notBefore: T0 - 86400,
    notAfter: T0 + 365 * 86400,
  },
];

export function certBody(
  over: Partial<Omit<WalletCertificateBody, "$typeName" | "$unknown">> = {},
): WalletCertificateBody {
  return create(WalletCertificateBodySchema, {
    walletId: WALLET_ID,
    walletPublicKey: walletKey.publicKey,
    currency: "CNY",
    perPaymentLimitMinor: LIMIT,
    cumulativeLimitMinor: 20000n,
    notBefore: BigInt(CERT_NOT_BEFORE),
    notAfter: BigInt(CERT_NOT_AFTER),
    ...over,
  });
}

export const certificate: WalletCertificate = issueCertificate(
  certBody(),
  "k1",
  issuerKey.privateKey,
);

export function makeCode(
  o: { counter?: bigint; issuedAt?: number; walletId?: string; cert?: WalletCertificate } = {},
): string {
  return buildOfflineCode({
    certificate: o.cert ?? certificate,
    walletId: o.walletId ?? WALLET_ID,
    counter: o.counter ?? 1n,
    issuedAt: o.issuedAt ?? T0,
    walletPrivateKey: walletKey.privateKey,
  });
}

export function makeVerifier(o: Partial<OfflineCodeVerifierOptions> = {}): OfflineCodeVerifier {
  return new OfflineCodeVerifier({
    keys: issuerKeys,
    validitySeconds: 120,
    clockSkewSeconds: 60,
    ...o,
  });
}

export const AT = { nowSeconds: T0 + 5, amountMinor: 100n, currency: "CNY" };

/** The envelope bytes of QR text (throws if the text is not prefix + base45). */
export function envelopeBytes(text: string): Uint8Array {
  const b = fromBase45(text.slice(OFFLINE_CODE_PREFIX.length));
  if (!b) throw new Error("not base45");
  return b;
}

export function textOf(bytes: Uint8Array): string {
  return OFFLINE_CODE_PREFIX + toBase45(bytes);
}

/** Re-encodes an envelope after `edit` changed its decoded (lenient) form. */
export function editEnvelope(text: string, edit: (e: OfflineCode) => void): string {
  const e = fromBinary(OfflineCodeSchema, envelopeBytes(text));
  edit(e);
  return textOf(toBinary(OfflineCodeSchema, e));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
