import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type WalletCertificate,
  type WalletCertificateBody,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { FieldScan, LEN, readUtf8, scanCanonical, VARINT } from "./canonical-wire.js";
import {
  ED25519_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  type Ed25519PrivateKey,
  type Ed25519PublicKey,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519Verify,
  isSmallOrderEd25519PublicKey,
} from "./ed25519.js";
import { type IssuerKeyEntry, IssuerKeySet } from "./issuer-keys.js";

// Field numbers, as in offline_code.proto.
const CERT_BODY = 1;
const CERT_KEY_ID = 2;
const CERT_SIGNATURE = 3;
const BODY_WALLET_ID = 1;
const BODY_PUBLIC_KEY = 2;
const BODY_CURRENCY = 3;
const BODY_PER_PAYMENT = 4;
// Field 5, cumulative_limit_minor, is terminal/issuer state, not a codec decision.
const BODY_NOT_BEFORE = 6;
const BODY_NOT_AFTER = 7;

const CERT_WIRE = [LEN, LEN, LEN];
const BODY_WIRE = [LEN, LEN, LEN, VARINT, VARINT, VARINT, VARINT];

/**
 * Issues a wallet certificate: serializes `body` once and signs exactly
 * those bytes (verifiers check the bytes as carried, never a
 * re-serialization). Throws RangeError on a body no verifier would accept
 * or no issuer should sign (empty wallet id, key not 32 bytes or of small
 * order, currency not three capital letters, empty validity, empty key id).
 */
export function issueCertificate(
  body: MessageInitShape<typeof WalletCertificateBodySchema>,
  issuerKeyId: string,
  issuerPrivateKey: Ed25519PrivateKey,
): WalletCertificate {
  const msg = create(WalletCertificateBodySchema, body);
  if (msg.walletId === "") throw new RangeError("certificate wallet id is empty");
  if (msg.walletPublicKey.length !== ED25519_KEY_LENGTH) {
    throw new RangeError("certificate wallet public key must be 32 bytes");
  }
  if (isSmallOrderEd25519PublicKey(msg.walletPublicKey)) {
    throw new RangeError("certificate wallet public key has small order");
  }
  if (!/^[A-Z]{3}$/.test(msg.currency))
    throw new RangeError("certificate currency is not ISO 4217");
  if (msg.notAfter <= msg.notBefore) throw new RangeError("certificate validity is empty");
  if (issuerKeyId === "") throw new RangeError("issuer key id is empty");
  const bodyBytes = toBinary(WalletCertificateBodySchema, msg);
  return create(WalletCertificateSchema, {
    body: bodyBytes,
    issuerKeyId,
    issuerSignature: ed25519Sign(issuerPrivateKey, bodyBytes),
  });
}

/** Serializes a certificate (the form carried inside offline codes). */
export function encodeCertificate(certificate: WalletCertificate): Uint8Array {
  return toBinary(WalletCertificateSchema, certificate);
}

/**
 * A certificate whose encoding, body encoding and field lengths are
 * acceptable (signature not checked). Internal to the codec.
 */
export interface ParsedCertificate {
  readonly issuerKeyId: string;
  readonly walletId: string;
  readonly walletPublicKey: Uint8Array;
  readonly currency: string;
  readonly perPaymentLimitMinor: bigint;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Raw body bytes (a view into the input). */
  readonly bodyBytes: Uint8Array;
  /** Raw issuer signature (a view into the input). */
  readonly issuerSignature: Uint8Array;
}

const certScan = new FieldScan(CERT_WIRE);
const bodyScan = new FieldScan(BODY_WIRE);

/**
 * Strictly parses the certificate encoded in `bytes[start, end)`: canonical
 * protobuf, no unknown fields, issuer key id present, issuer signature 64
 * bytes, wallet id present, wallet key 32 bytes, valid UTF-8 strings.
 * Undefined means MALFORMED.
 */
export function parseCertificateBytes(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): ParsedCertificate | undefined {
  if (!scanCanonical(bytes, start, end, certScan)) return undefined;
  if (!certScan.has(CERT_BODY)) return undefined;
  if (!certScan.has(CERT_KEY_ID)) return undefined;
  if (certScan.length(CERT_SIGNATURE) !== ED25519_SIGNATURE_LENGTH) return undefined;
  const bodyStart = certScan.start[CERT_BODY - 1]!;
  const bodyEnd = certScan.end[CERT_BODY - 1]!;
  const issuerKeyId = readUtf8(
    bytes,
    certScan.start[CERT_KEY_ID - 1]!,
    certScan.end[CERT_KEY_ID - 1]!,
  );
  if (issuerKeyId === undefined) return undefined;
  const sigStart = certScan.start[CERT_SIGNATURE - 1]!;
  const issuerSignature = bytes.subarray(sigStart, sigStart + ED25519_SIGNATURE_LENGTH);

  if (!scanCanonical(bytes, bodyStart, bodyEnd, bodyScan)) return undefined;
  if (!bodyScan.has(BODY_WALLET_ID)) return undefined;
  if (bodyScan.length(BODY_PUBLIC_KEY) !== ED25519_KEY_LENGTH) return undefined;
  const walletId = readUtf8(
    bytes,
    bodyScan.start[BODY_WALLET_ID - 1]!,
    bodyScan.end[BODY_WALLET_ID - 1]!,
  );
  if (walletId === undefined) return undefined;
  let currency = "";
  if (bodyScan.has(BODY_CURRENCY)) {
    const c = readUtf8(bytes, bodyScan.start[BODY_CURRENCY - 1]!, bodyScan.end[BODY_CURRENCY - 1]!);
    if (c === undefined) return undefined;
    currency = c;
  }
  const pkStart = bodyScan.start[BODY_PUBLIC_KEY - 1]!;
  return {
    issuerKeyId,
    walletId,
    walletPublicKey: bytes.subarray(pkStart, pkStart + ED25519_KEY_LENGTH),
    currency,
    perPaymentLimitMinor: bodyScan.int64(BODY_PER_PAYMENT),
    notBefore: bodyScan.int64Number(BODY_NOT_BEFORE),
    notAfter: bodyScan.int64Number(BODY_NOT_AFTER),
    bodyBytes: bytes.subarray(bodyStart, bodyEnd),
    issuerSignature,
  };
}

/** Why a certificate is not acceptable, independent of time. */
export type CertificateFailure = "MALFORMED" | "KEY_UNKNOWN" | "ISSUER_SIGNATURE_INVALID";

/** A certificate whose issuer signature checked out. */
export interface CheckedCertificate extends ParsedCertificate {
  /**
   * The wallet key, ready for the crypto backend; undefined when it has small order
   * or the backend refused it (every wallet signature is then invalid).
   */
  readonly walletKey: Ed25519PublicKey | undefined;
}

/**
 * Contract §2 steps 2–3 for a parsed certificate. The issuer key must also
 * be valid at the certificate's not_before: keys named by the certificate
 * whose validity does not contain body.not_before are ignored, so a
 * certificate signed outside its key's validity reports KEY_UNKNOWN (no
 * usable key of that id) rather than a signature failure — the signature
 * may well be genuine, the key was just not allowed to make it.
 */
export function checkCertificate(
  cert: ParsedCertificate,
  keys: IssuerKeySet,
): CheckedCertificate | Exclude<CertificateFailure, "MALFORMED"> {
  const candidates = keys.keysFor(cert.issuerKeyId, cert.notBefore);
  if (candidates.length === 0) return "KEY_UNKNOWN";
  let ok = false;
  for (const key of candidates) {
    if (ed25519Verify(key, cert.bodyBytes, cert.issuerSignature)) {
      ok = true;
      break;
    }
  }
  if (!ok) return "ISSUER_SIGNATURE_INVALID";
  // A small-order key would let anyone sign for the wallet (node:crypto
  // accepts such signatures), so it verifies nothing: SIGNATURE_INVALID.
  let walletKey: Ed25519PublicKey | undefined;
  if (!isSmallOrderEd25519PublicKey(cert.walletPublicKey)) {
    try {
      // Copy: the view may point into a caller's buffer we are about to cache.
      walletKey = ed25519PublicKeyObject(new Uint8Array(cert.walletPublicKey));
    } catch {
      walletKey = undefined;
    }
  }
  return { ...cert, walletKey };
}

/**
 * Verifies a certificate (message or serialized bytes) against issuer keys,
 * without the time checks: the body when acceptable, else the failure.
 */
export function verifyCertificate(
  certificate: WalletCertificate | Uint8Array,
  keys: IssuerKeySet | readonly IssuerKeyEntry[],
): { ok: true; body: WalletCertificateBody } | { ok: false; reason: CertificateFailure } {
  const bytes =
    certificate instanceof Uint8Array ? certificate : safeEncodeCertificate(certificate);
  const parsed = bytes && parseCertificateBytes(bytes);
  if (parsed === undefined) return { ok: false, reason: "MALFORMED" };
  const set = keys instanceof IssuerKeySet ? keys : new IssuerKeySet(keys);
  const checked = checkCertificate(parsed, set);
  if (typeof checked === "string") return { ok: false, reason: checked };
  return { ok: true, body: fromBinary(WalletCertificateBodySchema, parsed.bodyBytes) };
}

/**
 * Strictly decodes a serialized certificate (the same rules offline-code
 * decoding applies); undefined when malformed. Signature not checked.
 */
export function decodeCertificate(
  bytes: Uint8Array,
): { certificate: WalletCertificate; body: WalletCertificateBody } | undefined {
  const parsed = parseCertificateBytes(bytes);
  if (parsed === undefined) return undefined;
  return {
    certificate: fromBinary(WalletCertificateSchema, bytes),
    body: fromBinary(WalletCertificateBodySchema, parsed.bodyBytes),
  };
}

function safeEncodeCertificate(certificate: WalletCertificate): Uint8Array | undefined {
  try {
    return toBinary(WalletCertificateSchema, certificate);
  } catch {
    return undefined;
  }
}
