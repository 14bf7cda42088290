import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type OfflineCode,
  OfflineCodeSchema,
  type OfflinePayload,
  OfflinePayloadSchema,
  type WalletCertificate,
  type WalletCertificateBody,
  WalletCertificateBodySchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { decodeBase45, toBase45 } from "./base45.js";
import { FieldScan, LEN, readUtf8, scanCanonical, VARINT } from "./canonical-wire.js";
import { parseCertificateBytes } from "./certificate.js";
import { ED25519_SIGNATURE_LENGTH, type Ed25519PrivateKey, ed25519Sign } from "./ed25519.js";

/**
 * Scheme prefix of offline-code QR text. Alphanumeric-mode characters only,
 * so the whole QR code stays one alphanumeric segment.
 */
export const OFFLINE_CODE_PREFIX = "PC1:";

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Makes the QR text of an offline code: signs the serialized payload with
 * the wallet key and wraps it with the certificate. Throws on arguments that
 * could only produce a code every verifier rejects (empty wallet id, counter
 * outside uint64, non-integer time, a certificate that does not decode
 * strictly, a key that is not Ed25519).
 */
export function buildOfflineCode(a: {
  certificate: WalletCertificate;
  walletId: string;
  counter: bigint;
  /** Wallet clock, Unix seconds. */
  issuedAt: number;
  walletPrivateKey: Ed25519PrivateKey;
}): string {
  if (a.walletId === "") throw new RangeError("wallet id is empty");
  if (a.counter < 0n || a.counter > UINT64_MAX) throw new RangeError("counter is not a uint64");
  if (!Number.isSafeInteger(a.issuedAt)) throw new RangeError("issuedAt is not an integer");
  const payload = toBinary(
    OfflinePayloadSchema,
    create(OfflinePayloadSchema, {
      walletId: a.walletId,
      counter: a.counter,
      issuedAt: BigInt(a.issuedAt),
    }),
  );
  const signature = ed25519Sign(a.walletPrivateKey, payload);
  const envelope = toBinary(
    OfflineCodeSchema,
    create(OfflineCodeSchema, { certificate: a.certificate, payload, signature }),
  );
  const text = OFFLINE_CODE_PREFIX + toBase45(envelope);
  // A certificate received over the wire may carry fields this version does
  // not know; fail here rather than hand out a code every terminal rejects.
  const parsed = parseOfflineCodeText(text);
  if (
    parsed === undefined ||
    !parseCertificateBytes(parsed.bytes, parsed.certStart, parsed.certEnd)
  ) {
    throw new RangeError("certificate or key does not make a well-formed offline code");
  }
  return text;
}

/**
 * The parts of an offline code that decoding checked, before any signature
 * or certificate check. Byte fields are views into `bytes`. Internal to the
 * codec; the public form is `DecodedOfflineCode`.
 */
export interface ParsedOfflineCode {
  /** The serialized OfflineCode (base45-decoded QR text after the prefix). */
  readonly bytes: Uint8Array;
  /** Bounds of the serialized WalletCertificate inside `bytes`. */
  readonly certStart: number;
  readonly certEnd: number;
  /** Raw serialized OfflinePayload, as signed. */
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly walletId: string;
  readonly counter: bigint;
  readonly issuedAt: number;
}

const ENVELOPE_CERTIFICATE = 1;
const ENVELOPE_PAYLOAD = 2;
const ENVELOPE_SIGNATURE = 3;
const PAYLOAD_WALLET_ID = 1;
const PAYLOAD_COUNTER = 2;
const PAYLOAD_ISSUED_AT = 3;

const envelopeScan = new FieldScan([LEN, LEN, LEN]);
const payloadScan = new FieldScan([LEN, VARINT, VARINT]);

/**
 * Decodes the QR text down to the envelope and payload (the certificate is
 * only located, so a verifier can look it up in its cache first). Strict:
 * wrong prefix, bad base45, non-canonical or unknown protobuf, a missing
 * part, a signature that is not 64 bytes, an empty wallet id → undefined.
 * Never throws.
 */
export function parseOfflineCodeText(text: string): ParsedOfflineCode | undefined {
  if (typeof text !== "string" || !text.startsWith(OFFLINE_CODE_PREFIX)) return undefined;
  const bytes = decodeBase45(text, OFFLINE_CODE_PREFIX.length);
  if (bytes === undefined) return undefined;
  if (!scanCanonical(bytes, 0, bytes.length, envelopeScan)) return undefined;
  if (!envelopeScan.has(ENVELOPE_CERTIFICATE) || !envelopeScan.has(ENVELOPE_PAYLOAD)) {
    return undefined;
  }
  if (envelopeScan.length(ENVELOPE_SIGNATURE) !== ED25519_SIGNATURE_LENGTH) return undefined;
  const certStart = envelopeScan.start[ENVELOPE_CERTIFICATE - 1]!;
  const certEnd = envelopeScan.end[ENVELOPE_CERTIFICATE - 1]!;
  const payloadStart = envelopeScan.start[ENVELOPE_PAYLOAD - 1]!;
  const payloadEnd = envelopeScan.end[ENVELOPE_PAYLOAD - 1]!;
  const sigStart = envelopeScan.start[ENVELOPE_SIGNATURE - 1]!;

  if (!scanCanonical(bytes, payloadStart, payloadEnd, payloadScan)) return undefined;
  if (!payloadScan.has(PAYLOAD_WALLET_ID)) return undefined;
  const walletId = readUtf8(
    bytes,
    payloadScan.start[PAYLOAD_WALLET_ID - 1]!,
    payloadScan.end[PAYLOAD_WALLET_ID - 1]!,
  );
  if (walletId === undefined) return undefined;
  return {
    bytes,
    certStart,
    certEnd,
    payload: bytes.subarray(payloadStart, payloadEnd),
    signature: bytes.subarray(sigStart, sigStart + ED25519_SIGNATURE_LENGTH),
    walletId,
    counter: payloadScan.uint64(PAYLOAD_COUNTER),
    issuedAt: payloadScan.int64Number(PAYLOAD_ISSUED_AT),
  };
}

/** A strictly decoded offline code (no signature checked). */
export interface DecodedOfflineCode {
  envelope: OfflineCode;
  body: WalletCertificateBody;
  payload: OfflinePayload;
}

/**
 * Strictly decodes offline-code QR text without checking any signature;
 * undefined means MALFORMED (contract §2): wrong prefix, bad base45, a
 * protobuf parse error, unknown fields in any of the four messages, a
 * non-canonical encoding (fields repeated or out of order, zero values
 * written out, over-long varints — each code has exactly one encoding),
 * invalid UTF-8, a missing certificate/body/payload/issuer key id, a
 * signature ≠ 64 bytes, a wallet key ≠ 32 bytes, an empty wallet id.
 * Never throws.
 */
export function decodeOfflineCode(text: string): DecodedOfflineCode | undefined {
  const parsed = parseOfflineCodeText(text);
  if (parsed === undefined) return undefined;
  const cert = parseCertificateBytes(parsed.bytes, parsed.certStart, parsed.certEnd);
  if (cert === undefined) return undefined;
  // Copy: protobuf-es byte fields are views into the input.
  const bytes = parsed.bytes.slice();
  return {
    envelope: fromBinary(OfflineCodeSchema, bytes),
    body: fromBinary(WalletCertificateBodySchema, cert.bodyBytes.slice()),
    payload: fromBinary(OfflinePayloadSchema, parsed.payload.slice()),
  };
}
