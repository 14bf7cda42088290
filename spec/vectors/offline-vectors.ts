// Builds spec/vectors/offline-codes.json: offline-code (signed QR) verification
// vectors, Wycheproof style. Deterministic: HKDF-derived keys, Ed25519's
// deterministic signatures, fixed times.
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  buildOfflineCode,
  type Ed25519KeyPair,
  ed25519FromSeed,
  ed25519Sign,
  issueCertificate,
  OFFLINE_CODE_PREFIX,
  toBase45,
} from "@paycode/protocol";
import {
  OfflineCodeSchema,
  OfflinePayloadSchema,
  type WalletCertificate,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import { deriveTestKey } from "./derive.js";
import * as Ed from "./ed25519-math.js";

/** 2026-01-01T00:00:00Z, the epoch of every vector time. */
const T0 = 1_767_225_600;
const DAY = 86_400;
/** Issue time of the ordinary codes. */
const T = T0 + 3600;
const CERT_NOT_BEFORE = T0 - 300;
const CERT_NOT_AFTER = T0 + 30 * DAY;
const LIMIT = 5000n;
const VALIDITY = 120;
const SKEW = 60;
const UINT64_MAX = (1n << 64n) - 1n;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

const walletLabel = (n: number) => `wallet-key/${n}`;
const issuerLabel = (keyId: string) => `issuer-key/${keyId}`;
const walletKey = (n: number): Ed25519KeyPair => ed25519FromSeed(deriveTestKey(walletLabel(n)));
const issuerKey = (id: string): Ed25519KeyPair => ed25519FromSeed(deriveTestKey(issuerLabel(id)));
const walletId = (n: number) => `wallet-${n}`;

/** The issuer key set every test is verified against. "k9" is deliberately absent. */
const ISSUER_KEYS = [
  { keyId: "k0", notBefore: T0 - 730 * DAY, notAfter: T0 - 365 * DAY },
  { keyId: "k1", notBefore: T0 - 365 * DAY, notAfter: T0 + 365 * DAY },
  { keyId: "k2", notBefore: T0 - DAY, notAfter: T0 + 730 * DAY },
];

type BodyInit = MessageInitShape<typeof WalletCertificateBodySchema>;

function body(n: number, over: Partial<BodyInit> = {}): BodyInit {
  return {
    walletId: walletId(n),
    walletPublicKey: walletKey(n).publicKey,
    currency: "CNY",
    perPaymentLimitMinor: LIMIT,
    cumulativeLimitMinor: 20_000n,
    notBefore: BigInt(CERT_NOT_BEFORE),
    notAfter: BigInt(CERT_NOT_AFTER),
    ...over,
  };
}

/** A certificate naming `keyId`, signed by the key of label issuer-key/`signer`. */
function cert(b: BodyInit, keyId: string, signer = keyId): WalletCertificate {
  return issueCertificate(b, keyId, issuerKey(signer).privateKey);
}

/** A certificate over raw body bytes (for bodies issueCertificate refuses to make). */
function rawCert(bodyBytes: Uint8Array, keyId = "k1"): WalletCertificate {
  return create(WalletCertificateSchema, {
    body: bodyBytes,
    issuerKeyId: keyId,
    issuerSignature: ed25519Sign(issuerKey(keyId).privateKey, bodyBytes),
  });
}

const payload = (wid: string, counter: bigint, issuedAt: number) =>
  toBinary(
    OfflinePayloadSchema,
    create(OfflinePayloadSchema, { walletId: wid, counter, issuedAt: BigInt(issuedAt) }),
  );

const envelope = (c: WalletCertificate, p: Uint8Array, signature: Uint8Array) =>
  toBinary(OfflineCodeSchema, create(OfflineCodeSchema, { certificate: c, payload: p, signature }));

const CERT_W0 = cert(body(0), "k1");
const CERT_W1_K2 = cert(body(1), "k2");

/** The parts one test is made of; `qr` is derived unless given. */
interface Made {
  wallet: number | null;
  certificate: WalletCertificate | null;
  payload: Uint8Array | null;
  envelope: Uint8Array | null;
  qr: string;
  /** Inputs from which buildOfflineCode reproduces `qr` exactly, if it does. */
  codeInputs: { walletId: string; counter: string; issuedAt: number } | null;
}

/** A code made the ordinary way, with buildOfflineCode. */
function ordinary(
  n: number,
  counter: bigint,
  issuedAt: number,
  c: WalletCertificate = n === 0 ? CERT_W0 : CERT_W1_K2,
  wid = walletId(n),
): Made {
  const qr = buildOfflineCode({
    certificate: c,
    walletId: wid,
    counter,
    issuedAt,
    walletPrivateKey: walletKey(n).privateKey,
  });
  const p = payload(wid, counter, issuedAt);
  return {
    wallet: n,
    certificate: c,
    payload: p,
    envelope: envelope(c, p, ed25519Sign(walletKey(n).privateKey, p)),
    qr,
    codeInputs: { walletId: wid, counter: counter.toString(), issuedAt },
  };
}

/** A code from explicit parts: payload bytes signed by wallet `signer` (or a given signature). */
function assembled(
  n: number,
  c: WalletCertificate,
  p: Uint8Array,
  signature: Uint8Array = ed25519Sign(walletKey(n).privateKey, p),
): Made {
  const env = envelope(c, p, signature);
  return {
    wallet: n,
    certificate: c,
    payload: p,
    envelope: env,
    qr: OFFLINE_CODE_PREFIX + toBase45(env),
    codeInputs: null,
  };
}

/** `base` with its envelope bytes replaced by `edit(envelope)`. */
function bytesEdited(base: Made, edit: (env: Uint8Array) => Uint8Array): Made {
  const env = edit(base.envelope!);
  return { ...base, envelope: env, qr: OFFLINE_CODE_PREFIX + toBase45(env), codeInputs: null };
}

/** `base` with its QR text replaced by `edit(qr)` (the envelope is what was encoded). */
function textEdited(base: Made, edit: (qr: string) => string): Made {
  return { ...base, qr: edit(base.qr), codeInputs: null };
}

function flipBit(b: Uint8Array, byte: number, bit = 0): Uint8Array {
  const out = b.slice();
  out[byte]! ^= 1 << bit;
  return out;
}

type Verification =
  | { result: "valid"; walletId: string; counter: string; issuedAt: number }
  | { result: "malformed" }
  | { result: "invalid"; reason: string }
  | { result: "expired"; reason: "CERT_NOT_YET_VALID" | "CERT_EXPIRED"; walletId: string }
  | {
      result: "expired" | "over-limit";
      reason: string;
      walletId: string;
      counter: string;
      issuedAt: number;
    };

const valid = (wid: string, counter: bigint, issuedAt: number): Verification => ({
  result: "valid",
  walletId: wid,
  counter: counter.toString(),
  issuedAt,
});
const MALFORMED: Verification = { result: "malformed" };
const invalid = (reason: string): Verification => ({ result: "invalid", reason });
const certTime = (reason: "CERT_NOT_YET_VALID" | "CERT_EXPIRED", wid: string): Verification => ({
  result: "expired",
  reason,
  walletId: wid,
});
const codeTime = (
  reason: string,
  wid: string,
  counter: bigint,
  issuedAt: number,
): Verification => ({
  result: "expired",
  reason,
  walletId: wid,
  counter: counter.toString(),
  issuedAt,
});
const overLimit = (
  reason: string,
  wid: string,
  counter: bigint,
  issuedAt: number,
): Verification => ({
  result: "over-limit",
  reason,
  walletId: wid,
  counter: counter.toString(),
  issuedAt,
});

interface Case {
  comment: string;
  flags: string[];
  made: Made;
  nowSeconds: number;
  amountMinor: bigint;
  currency: string;
  verification: Verification;
}

const W0 = walletId(0);
const W1 = walletId(1);

function cases(): Case[] {
  const at = (nowSeconds: number, amountMinor = 250n, currency = "CNY") => ({
    nowSeconds,
    amountMinor,
    currency,
  });
  const typical = ordinary(0, 1n, T);
  const env = typical.envelope!;
  const sigStart = env.length - 64;
  const out: Case[] = [];
  const add = (
    comment: string,
    flags: string[],
    made: Made,
    a: { nowSeconds: number; amountMinor: bigint; currency: string },
    verification: Verification,
  ) => out.push({ comment, flags, made, ...a, verification });

  // --- valid -------------------------------------------------------------
  add("typical fare", ["Valid"], typical, at(T + 5), valid(W0, 1n, T));
  add(
    "counter 0 (field omitted from the payload)",
    ["Valid", "EdgeCase"],
    ordinary(0, 0n, T),
    at(T + 5, 1n),
    valid(W0, 0n, T),
  );
  add(
    "counter 2^32 (needs the high word)",
    ["Valid", "EdgeCase"],
    ordinary(0, 1n << 32n, T),
    at(T + 5),
    valid(W0, 1n << 32n, T),
  );
  add(
    "largest counter (2^64 - 1), amount equal to the per-payment limit",
    ["Valid", "EdgeCase", "Boundary"],
    ordinary(0, UINT64_MAX, T),
    at(T + 5, LIMIT),
    valid(W0, UINT64_MAX, T),
  );
  add(
    "code exactly validitySeconds old",
    ["Valid", "Boundary"],
    ordinary(0, 2n, T),
    at(T + VALIDITY),
    valid(W0, 2n, T),
  );
  add(
    "wallet clock exactly clockSkewSeconds ahead",
    ["Valid", "Boundary", "ClockSkew"],
    ordinary(0, 3n, T + SKEW),
    at(T),
    valid(W0, 3n, T + SKEW),
  );
  add(
    "at the certificate's not_before",
    ["Valid", "Boundary"],
    ordinary(0, 4n, CERT_NOT_BEFORE),
    at(CERT_NOT_BEFORE),
    valid(W0, 4n, CERT_NOT_BEFORE),
  );
  add(
    "last second before the certificate's not_after",
    ["Valid", "Boundary"],
    ordinary(0, 5n, CERT_NOT_AFTER - 1),
    at(CERT_NOT_AFTER - 1),
    valid(W0, 5n, CERT_NOT_AFTER - 1),
  );
  add(
    "second wallet, certificate signed by the second issuer key",
    ["Valid"],
    ordinary(1, 99n, T + 100),
    at(T + 130, 4999n),
    valid(W1, 99n, T + 100),
  );

  // --- signatures and keys -----------------------------------------------
  add(
    "wallet signature with one bit flipped",
    ["WalletSignature"],
    bytesEdited(typical, (e) => flipBit(e, sigStart + 10, 3)),
    at(T + 5),
    invalid("SIGNATURE_INVALID"),
  );
  add(
    "payload signed by another wallet's key",
    ["WalletSignature"],
    assembled(
      0,
      CERT_W0,
      payload(W0, 6n, T),
      ed25519Sign(walletKey(1).privateKey, payload(W0, 6n, T)),
    ),
    at(T + 5),
    invalid("SIGNATURE_INVALID"),
  );
  const issuerSigFlipped = create(WalletCertificateSchema, {
    ...CERT_W0,
    issuerSignature: flipBit(CERT_W0.issuerSignature, 20, 5),
  });
  add(
    "issuer signature with one bit flipped",
    ["IssuerSignature"],
    assembled(0, issuerSigFlipped, payload(W0, 7n, T)),
    at(T + 5),
    invalid("ISSUER_SIGNATURE_INVALID"),
  );
  add(
    "certificate naming k1 but signed with k2's private key",
    ["IssuerSignature"],
    ordinary(0, 8n, T, cert(body(0), "k1", "k2")),
    at(T + 5),
    invalid("ISSUER_SIGNATURE_INVALID"),
  );
  add(
    "certificate signed by k9, which is not in the key set",
    ["KeyUnknown"],
    ordinary(0, 9n, T, cert(body(0), "k9")),
    at(T + 5),
    invalid("KEY_UNKNOWN"),
  );
  add(
    "certificate signed by k0, retired before the certificate's not_before",
    ["KeyUnknown", "KeyValidity"],
    ordinary(0, 10n, T, cert(body(0), "k0")),
    at(T + 5),
    invalid("KEY_UNKNOWN"),
  );
  add(
    "certificate by k2 starting before k2's validity",
    ["KeyUnknown", "KeyValidity"],
    ordinary(0, 11n, T, cert(body(0, { notBefore: BigInt(T0 - 2 * DAY) }), "k2")),
    at(T + 5),
    invalid("KEY_UNKNOWN"),
  );

  // R = the identity point, S = 0: a signature node:crypto (and RFC 8032's
  // cofactorless check) accepts for every message under the identity key.
  const identityKey = Uint8Array.of(1, ...new Uint8Array(31));
  const identitySignature = Uint8Array.of(1, ...new Uint8Array(63));
  const weakBody = (walletPublicKey: Uint8Array) =>
    toBinary(
      WalletCertificateBodySchema,
      create(WalletCertificateBodySchema, body(0, { walletPublicKey })),
    );
  add(
    "certified wallet key of small order (the identity), signature R = identity, S = 0",
    ["WalletSignature", "WeakKey"],
    assembled(0, rawCert(weakBody(identityKey)), payload(W0, 31n, T), identitySignature),
    at(T + 5),
    invalid("SIGNATURE_INVALID"),
  );
  // y = 2 gives no x on edwards25519: (y^2 - 1) / (d y^2 + 1) is not a square mod p.
  const offCurveKey = Uint8Array.of(2, ...new Uint8Array(31));
  add(
    "certified wallet key that is not a curve point",
    ["WalletSignature", "WeakKey"],
    assembled(0, rawCert(weakBody(offCurveKey)), payload(W0, 32n, T)),
    at(T + 5),
    invalid("SIGNATURE_INVALID"),
  );

  // --- times -------------------------------------------------------------
  add(
    "one second before the certificate's not_before",
    ["CertValidity", "Boundary"],
    ordinary(0, 12n, CERT_NOT_BEFORE - 1),
    at(CERT_NOT_BEFORE - 1),
    certTime("CERT_NOT_YET_VALID", W0),
  );
  add(
    "at the certificate's not_after (exclusive)",
    ["CertValidity", "Boundary"],
    ordinary(0, 13n, CERT_NOT_AFTER),
    at(CERT_NOT_AFTER),
    certTime("CERT_EXPIRED", W0),
  );
  add(
    "code one second older than validitySeconds",
    ["CodeExpiry", "Boundary"],
    ordinary(0, 14n, T),
    at(T + VALIDITY + 1),
    codeTime("CODE_EXPIRED", W0, 14n, T),
  );
  add(
    "code a day old",
    ["CodeExpiry"],
    ordinary(0, 15n, T),
    at(T + DAY),
    codeTime("CODE_EXPIRED", W0, 15n, T),
  );
  add(
    "wallet clock one second beyond clockSkewSeconds ahead",
    ["ClockSkew", "Boundary"],
    ordinary(0, 16n, T + SKEW + 1),
    at(T),
    codeTime("CODE_NOT_YET_VALID", W0, 16n, T + SKEW + 1),
  );

  // --- amount ------------------------------------------------------------
  add(
    "amount one above the per-payment limit",
    ["Limit", "Boundary"],
    ordinary(0, 17n, T),
    at(T + 5, LIMIT + 1n),
    overLimit("OVER_LIMIT", W0, 17n, T),
  );
  add(
    "amount in another currency than the certificate's",
    ["Currency"],
    ordinary(0, 18n, T),
    at(T + 5, 250n, "USD"),
    overLimit("CURRENCY_MISMATCH", W0, 18n, T),
  );
  add(
    "payload names another wallet than the certificate (signed by the certified key)",
    ["WalletMismatch"],
    ordinary(0, 19n, T, CERT_W0, W1),
    at(T + 5),
    invalid("WALLET_MISMATCH"),
  );

  // --- check order ---------------------------------------------------------
  add(
    "expired certificate and a bad wallet signature: certificate time is checked first",
    ["Precedence", "CertValidity"],
    bytesEdited(ordinary(0, 20n, CERT_NOT_AFTER), (e) => flipBit(e, e.length - 1, 0)),
    at(CERT_NOT_AFTER),
    certTime("CERT_EXPIRED", W0),
  );
  add(
    "bad issuer signature and an expired code: the issuer signature is checked first",
    ["Precedence", "IssuerSignature"],
    assembled(0, issuerSigFlipped, payload(W0, 21n, T)),
    at(T + DAY),
    invalid("ISSUER_SIGNATURE_INVALID"),
  );
  add(
    "wallet mismatch and an expired code: the wallet id is checked first",
    ["Precedence", "WalletMismatch"],
    ordinary(0, 22n, T, CERT_W0, W1),
    at(T + DAY),
    invalid("WALLET_MISMATCH"),
  );
  add(
    "expired code over the limit in another currency: code time is checked first",
    ["Precedence", "CodeExpiry"],
    ordinary(0, 23n, T),
    at(T + DAY, LIMIT + 1n, "USD"),
    codeTime("CODE_EXPIRED", W0, 23n, T),
  );
  add(
    "over the limit in another currency: currency is checked first",
    ["Precedence", "Currency"],
    ordinary(0, 24n, T),
    at(T + 5, LIMIT + 1n, "USD"),
    overLimit("CURRENCY_MISMATCH", W0, 24n, T),
  );

  // --- malformed: truncation and trailing bytes ----------------------------
  const now = at(T + 5);
  add(
    "truncated by one byte",
    ["Truncated"],
    bytesEdited(typical, (e) => e.subarray(0, e.length - 1)),
    now,
    MALFORMED,
  );
  add(
    "truncated by 64 bytes (signature cut off)",
    ["Truncated"],
    bytesEdited(typical, (e) => e.subarray(0, e.length - 64)),
    now,
    MALFORMED,
  );
  add(
    "truncated to 100 bytes (inside the certificate)",
    ["Truncated"],
    bytesEdited(typical, (e) => e.subarray(0, 100)),
    now,
    MALFORMED,
  );
  add(
    "truncated to 2 bytes",
    ["Truncated"],
    bytesEdited(typical, (e) => e.subarray(0, 2)),
    now,
    MALFORMED,
  );
  add(
    "trailing zero byte",
    ["TrailingBytes"],
    bytesEdited(typical, (e) => concat(e, Uint8Array.of(0))),
    now,
    MALFORMED,
  );
  add(
    "trailing bytes that parse as unknown varint field 4",
    ["TrailingBytes", "UnknownField"],
    bytesEdited(typical, (e) => concat(e, Uint8Array.of(0x20, 0x01))),
    now,
    MALFORMED,
  );
  add(
    "trailing bytes that parse as unknown bytes field 15",
    ["TrailingBytes", "UnknownField"],
    bytesEdited(typical, (e) => concat(e, Uint8Array.of(0x7a, 0x03, 0x41, 0x42, 0x43))),
    now,
    MALFORMED,
  );
  add(
    "signature field repeated at the end (lenient parsers take the last one)",
    ["TrailingBytes", "NonCanonical"],
    bytesEdited(typical, (e) => concat(e, Uint8Array.of(0x1a, 0x40), e.subarray(sigStart))),
    now,
    MALFORMED,
  );

  // --- malformed: unknown fields inside signed parts -----------------------
  const p25 = concat(payload(W0, 25n, T), Uint8Array.of(0x20, 0x01));
  add(
    "unknown field 4 inside the payload, correctly signed",
    ["UnknownField"],
    assembled(0, CERT_W0, p25),
    now,
    MALFORMED,
  );
  const bodyUnknown = concat(
    toBinary(WalletCertificateBodySchema, create(WalletCertificateBodySchema, body(0))),
    Uint8Array.of(0x40, 0x01),
  );
  add(
    "unknown field 8 inside the certificate body, correctly issuer-signed",
    ["UnknownField"],
    assembled(0, rawCert(bodyUnknown), payload(W0, 26n, T)),
    now,
    MALFORMED,
  );
  const certUnknown = concat(
    toBinary(WalletCertificateSchema, CERT_W0),
    Uint8Array.of(0x22, 0x01, 0x00),
  );
  const p30 = payload(W0, 30n, T);
  const env30 = concat(
    lenField(1, certUnknown),
    lenField(2, p30),
    lenField(3, ed25519Sign(walletKey(0).privateKey, p30)),
  );
  add(
    "unknown field 4 inside the certificate",
    ["UnknownField"],
    { ...assembled(0, CERT_W0, p30), envelope: env30, qr: OFFLINE_CODE_PREFIX + toBase45(env30) },
    now,
    MALFORMED,
  );

  // --- malformed: field contents -------------------------------------------
  add(
    "wallet signature of 63 bytes",
    ["FieldLength"],
    assembled(
      0,
      CERT_W0,
      payload(W0, 27n, T),
      ed25519Sign(walletKey(0).privateKey, payload(W0, 27n, T)).subarray(0, 63),
    ),
    now,
    MALFORMED,
  );
  add(
    "wallet public key of 31 bytes in an issuer-signed body",
    ["FieldLength"],
    assembled(
      0,
      rawCert(
        toBinary(
          WalletCertificateBodySchema,
          create(
            WalletCertificateBodySchema,
            body(0, { walletPublicKey: walletKey(0).publicKey.subarray(0, 31) }),
          ),
        ),
      ),
      payload(W0, 28n, T),
    ),
    now,
    MALFORMED,
  );
  add(
    "empty wallet id in a signed payload",
    ["EmptyField"],
    assembled(0, CERT_W0, payload("", 29n, T)),
    now,
    MALFORMED,
  );
  add(
    "counter 0 written out explicitly in a signed payload",
    ["NonCanonical"],
    assembled(
      0,
      CERT_W0,
      concat(lenField(1, new TextEncoder().encode(W0)), Uint8Array.of(0x10, 0x00, 0x18), varint(T)),
    ),
    now,
    MALFORMED,
  );
  add(
    "envelope certificate length as an over-long varint",
    ["NonCanonical"],
    bytesEdited(typical, (e) => {
      const len = toBinary(WalletCertificateSchema, CERT_W0).length;
      const short = varint(len);
      return concat(Uint8Array.of(0x0a), overlongVarint(len), e.subarray(1 + short.length));
    }),
    now,
    MALFORMED,
  );

  // --- malformed: text ---------------------------------------------------------
  add(
    "wrong version prefix PC2:",
    ["Prefix"],
    textEdited(typical, (q) => "PC2:" + q.slice(4)),
    now,
    MALFORMED,
  );
  add(
    "lower-case prefix pc1:",
    ["Prefix"],
    textEdited(typical, (q) => "pc1:" + q.slice(4)),
    now,
    MALFORMED,
  );
  add(
    "no prefix",
    ["Prefix"],
    textEdited(typical, (q) => q.slice(4)),
    now,
    MALFORMED,
  );
  add(
    "lower-case letter in the base45 text",
    ["Base45"],
    textEdited(typical, (q) => {
      const j = OFFLINE_CODE_PREFIX.length + q.slice(OFFLINE_CODE_PREFIX.length).search(/[A-Z]/);
      return q.slice(0, j) + q[j]!.toLowerCase() + q.slice(j + 1);
    }),
    now,
    MALFORMED,
  );
  add(
    "a base45 character appended: length 0 mod 3, the final pair becomes a triple (one more byte)",
    ["Base45"],
    textEdited(typical, (q) => q + "0"),
    now,
    MALFORMED,
  );
  add(
    'base45 triple above 65535 (":::")',
    ["Base45"],
    textEdited(typical, (q) => "PC1::::" + q.slice(4)),
    now,
    MALFORMED,
  );
  add(
    "character outside the base45 alphabet",
    ["Base45"],
    textEdited(typical, (q) => q.slice(0, 10) + "=" + q.slice(11)),
    now,
    MALFORMED,
  );
  add(
    "empty string",
    ["Empty"],
    { wallet: null, certificate: null, payload: null, envelope: null, qr: "", codeInputs: null },
    now,
    MALFORMED,
  );
  add(
    "prefix only",
    ["Empty"],
    {
      wallet: null,
      certificate: null,
      payload: null,
      envelope: new Uint8Array(0),
      qr: OFFLINE_CODE_PREFIX,
      codeInputs: null,
    },
    now,
    MALFORMED,
  );

  // --- appended in generator version 2: one vector per codec rule no ----------
  // --- earlier vector kills (spec/vectors/codec-rules.test.ts) -----------------
  const qr = typical.qr;
  const b45 = qr.slice(OFFLINE_CODE_PREFIX.length);
  add(
    "base45 text of length 1 mod 3: a 230-byte code (counter 128, 345 characters) with one character appended",
    ["Base45"],
    textEdited(ordinary(0, 128n, T), (q) => `${q}0`),
    now,
    MALFORMED,
  );
  add(
    "base45 first triple written as its value + 65536 (above 65535)",
    ["Base45"],
    textEdited(typical, () => {
      const n = env[0]! * 256 + env[1]! + 65536;
      return OFFLINE_CODE_PREFIX + b45Triple(n) + b45.slice(3);
    }),
    now,
    MALFORMED,
  );
  add(
    "base45 final pair written as its byte + 256 (above 255)",
    ["Base45"],
    textEdited(typical, () => {
      const n = env[env.length - 1]! + 256;
      return qr.slice(0, -2) + B45[n % 45]! + B45[Math.floor(n / 45)]!;
    }),
    now,
    MALFORMED,
  );
  add(
    "line feed inside the base45 text (outside the alphabet; never skipped)",
    ["Base45"],
    textEdited(typical, (q) => `${q.slice(0, 64)}\n${q.slice(64)}`),
    now,
    MALFORMED,
  );

  // Signatures the cofactorless equation of [QR-8] rejects and a cofactored
  // verifier accepts, or that only strict encoding rules reject. Made with
  // the independent BigInt arithmetic of ed25519-math.ts.
  const w0 = Ed.expandSeed(deriveTestKey(walletLabel(0))).scalar;
  const w0Pub = walletKey(0).publicKey;
  const T8 = Ed.torsionPoint();
  const pSig = (counter: bigint) => payload(W0, counter, T);
  add(
    "wallet signature with S + L in place of S (S >= L)",
    ["WalletSignature", "NonCanonicalS"],
    assembled(0, CERT_W0, pSig(33n), Ed.addLToS(ed25519Sign(walletKey(0).privateKey, pSig(33n)))),
    now,
    invalid("SIGNATURE_INVALID"),
  );
  const k1Body = CERT_W0.body;
  add(
    "issuer signature with S + L in place of S (S >= L)",
    ["IssuerSignature", "NonCanonicalS"],
    assembled(
      0,
      create(WalletCertificateSchema, {
        ...CERT_W0,
        issuerSignature: Ed.addLToS(ed25519Sign(issuerKey("k1").privateKey, k1Body)),
      }),
      pSig(34n),
    ),
    now,
    invalid("ISSUER_SIGNATURE_INVALID"),
  );
  const rMixed = Ed.encode(Ed.add(Ed.multiply(Ed.BASE, 35n), T8));
  add(
    "wallet signature whose R = [r]B + (a point of order 8): cofactored-valid, cofactorless-invalid",
    ["WalletSignature", "Cofactor"],
    assembled(0, CERT_W0, pSig(35n), Ed.signWithR(w0, w0Pub, pSig(35n), rMixed, 35n)),
    now,
    invalid("SIGNATURE_INVALID"),
  );
  const k1Scalar = Ed.expandSeed(deriveTestKey(issuerLabel("k1"))).scalar;
  const rMixedIssuer = Ed.encode(Ed.add(Ed.multiply(Ed.BASE, 36n), T8));
  add(
    "issuer signature whose R = [r]B + (a point of order 8): cofactored-valid, cofactorless-invalid",
    ["IssuerSignature", "Cofactor"],
    assembled(
      0,
      create(WalletCertificateSchema, {
        ...CERT_W0,
        issuerSignature: Ed.signWithR(
          k1Scalar,
          issuerKey("k1").publicKey,
          k1Body,
          rMixedIssuer,
          36n,
        ),
      }),
      pSig(36n),
    ),
    now,
    invalid("ISSUER_SIGNATURE_INVALID"),
  );
  add(
    "wallet signature whose R is a point of order 8 and S = k·a: cofactored-valid, cofactorless-invalid",
    ["WalletSignature", "Cofactor", "SmallOrderR"],
    assembled(0, CERT_W0, pSig(37n), Ed.signWithR(w0, w0Pub, pSig(37n), Ed.encode(T8), 0n)),
    now,
    invalid("SIGNATURE_INVALID"),
  );
  add(
    "wallet signature whose R is the identity (r = 0) and S = k·a: valid under both equations",
    ["Valid", "SmallOrderR"],
    assembled(
      0,
      CERT_W0,
      pSig(38n),
      Ed.signWithR(w0, w0Pub, pSig(38n), Ed.encode(Ed.IDENTITY), 0n),
    ),
    now,
    valid(W0, 38n, T),
  );
  const nonCanonicalIdentity = Uint8Array.from(
    Buffer.from("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex"),
  );
  add(
    "wallet signature whose R is the identity written non-canonically (y = p + 1), S = k·a",
    ["WalletSignature", "NonCanonicalR"],
    assembled(0, CERT_W0, pSig(39n), Ed.signWithR(w0, w0Pub, pSig(39n), nonCanonicalIdentity, 0n)),
    now,
    invalid("SIGNATURE_INVALID"),
  );
  // A wallet key with a torsion component: A = [a]B + T8, not of small order.
  const mixedKey = Ed.encode(Ed.add(Ed.multiply(Ed.BASE, w0), T8));
  const mixedCert = cert(body(0, { walletPublicKey: mixedKey }), "k1");
  const mixedSig = (counter: bigint, wantTorsionFree: boolean): Uint8Array => {
    const p = pSig(counter);
    for (let r = 1n; ; r++) {
      const rBytes = Ed.encode(Ed.multiply(Ed.BASE, r));
      const k = Ed.challenge(rBytes, mixedKey, p);
      if ((k % 8n === 0n) === wantTorsionFree) return Ed.signWithR(w0, mixedKey, p, rBytes, r);
    }
  };
  add(
    "wallet key [a]B + (order-8 point), signature with k mod 8 != 0: cofactored-valid, cofactorless-invalid",
    ["WalletSignature", "Cofactor", "MixedOrderKey"],
    assembled(0, mixedCert, pSig(40n), mixedSig(40n, false)),
    now,
    invalid("SIGNATURE_INVALID"),
  );
  add(
    "wallet key [a]B + (order-8 point), signature with k mod 8 = 0: valid under both equations",
    ["Valid", "MixedOrderKey"],
    assembled(0, mixedCert, pSig(41n), mixedSig(41n, true)),
    now,
    valid(W0, 41n, T),
  );

  // --- canonical encoding (§5.2) -------------------------------------------------
  const certBytesW0 = toBinary(WalletCertificateSchema, CERT_W0);
  const p42 = pSig(42n);
  const env42 = concat(
    lenField(2, p42),
    lenField(1, certBytesW0),
    lenField(3, ed25519Sign(walletKey(0).privateKey, p42)),
  );
  add(
    "envelope fields out of order (payload before certificate)",
    ["NonCanonical"],
    { ...assembled(0, CERT_W0, p42), envelope: env42, qr: OFFLINE_CODE_PREFIX + toBase45(env42) },
    now,
    MALFORMED,
  );
  const utf8 = (t: string) => new TextEncoder().encode(t);
  const bodyFrom = (parts: Uint8Array[]) => concat(...parts);
  const bodyParts = {
    walletId: lenField(1, utf8(W0)),
    key: lenField(2, w0Pub),
    currency: lenField(3, utf8("CNY")),
    perPayment: varintField(4, LIMIT),
    cumulative: varintField(5, 20_000n),
    notBefore: varintField(6, BigInt(CERT_NOT_BEFORE)),
    notAfter: varintField(7, BigInt(CERT_NOT_AFTER)),
  };
  const bp = bodyParts;
  add(
    "certificate body field 5 with wire type 2 instead of 0, issuer-signed",
    ["NonCanonical", "WireType"],
    assembled(
      0,
      rawCert(
        bodyFrom([
          bp.walletId,
          bp.key,
          bp.currency,
          bp.perPayment,
          lenField(5, varintBytes(20_000n)),
          bp.notBefore,
          bp.notAfter,
        ]),
      ),
      pSig(43n),
    ),
    now,
    MALFORMED,
  );
  add(
    "empty currency written out (1a 00) in an issuer-signed body",
    ["NonCanonical", "EmptyField"],
    assembled(
      0,
      rawCert(
        bodyFrom([
          bp.walletId,
          bp.key,
          Uint8Array.of(0x1a, 0x00),
          bp.perPayment,
          bp.cumulative,
          bp.notBefore,
          bp.notAfter,
        ]),
      ),
      pSig(44n),
    ),
    now,
    MALFORMED,
  );
  const rawPayload = (wid: Uint8Array, counterVarint: Uint8Array) =>
    concat(lenField(1, wid), Uint8Array.of(0x10), counterVarint, varintField(3, BigInt(T)));
  add(
    "counter varint of 10 bytes whose last byte is 2 (a value above 2^64 - 1), signed",
    ["NonCanonical", "VarintOverflow"],
    assembled(
      0,
      CERT_W0,
      rawPayload(
        utf8(W0),
        Uint8Array.of(0xad, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02),
      ),
    ),
    now,
    MALFORMED,
  );
  add(
    "counter varint of 11 bytes, signed",
    ["NonCanonical", "VarintOverflow"],
    assembled(
      0,
      CERT_W0,
      rawPayload(
        utf8(W0),
        Uint8Array.of(0xae, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      ),
    ),
    now,
    MALFORMED,
  );
  add(
    "signature length 65 with 64 bytes left (truncated)",
    ["Truncated"],
    bytesEdited(typical, (e) => {
      const out = e.slice();
      out[sigStart - 1] = 65;
      return out;
    }),
    now,
    MALFORMED,
  );
  const badUtf8 = concat(utf8("wallet-"), Uint8Array.of(0xff));
  add(
    "wallet id that is not UTF-8 (wallet- ff), the same bytes in body and payload, both signed",
    ["Utf8"],
    assembled(
      0,
      rawCert(
        bodyFrom([
          lenField(1, badUtf8),
          bp.key,
          bp.currency,
          bp.perPayment,
          bp.cumulative,
          bp.notBefore,
          bp.notAfter,
        ]),
      ),
      rawPayload(badUtf8, Uint8Array.of(47)),
    ),
    now,
    MALFORMED,
  );

  // --- structure (§5.5 items 5 and 6) ---------------------------------------------
  add(
    "certificate without issuer_key_id",
    ["MissingField"],
    assembled(0, create(WalletCertificateSchema, { ...CERT_W0, issuerKeyId: "" }), pSig(48n)),
    now,
    MALFORMED,
  );
  add(
    "issuer signature of 63 bytes",
    ["FieldLength"],
    assembled(
      0,
      create(WalletCertificateSchema, {
        ...CERT_W0,
        issuerSignature: CERT_W0.issuerSignature.subarray(0, 63),
      }),
      pSig(49n),
    ),
    now,
    MALFORMED,
  );
  add(
    "issuer-signed certificate body without wallet_id",
    ["MissingField"],
    assembled(
      0,
      rawCert(
        bodyFrom([bp.key, bp.currency, bp.perPayment, bp.cumulative, bp.notBefore, bp.notAfter]),
      ),
      pSig(50n),
    ),
    now,
    MALFORMED,
  );

  // --- issuer key validity at the body's not_before (§6.2 step 2) ------------------
  const K1_NOT_AFTER = ISSUER_KEYS[1]!.notAfter;
  const K2_NOT_BEFORE = ISSUER_KEYS[2]!.notBefore;
  const late = (nb: number) => body(0, { notBefore: BigInt(nb), notAfter: BigInt(nb + 30 * DAY) });
  add(
    "certificate by k2 whose not_before is k2's notBefore (inclusive)",
    ["Valid", "KeyValidity", "Boundary"],
    ordinary(0, 51n, T, cert(late(K2_NOT_BEFORE), "k2")),
    at(T + 5),
    valid(W0, 51n, T),
  );
  add(
    "certificate by k1 whose not_before is one second before k1's notAfter",
    ["Valid", "KeyValidity", "Boundary"],
    ordinary(0, 52n, K1_NOT_AFTER + 60, cert(late(K1_NOT_AFTER - 1), "k1")),
    at(K1_NOT_AFTER + 65),
    valid(W0, 52n, K1_NOT_AFTER + 60),
  );
  add(
    "certificate by k1 whose not_before is k1's notAfter (exclusive)",
    ["KeyUnknown", "KeyValidity", "Boundary"],
    ordinary(0, 53n, K1_NOT_AFTER + 60, cert(late(K1_NOT_AFTER), "k1")),
    at(K1_NOT_AFTER + 65),
    invalid("KEY_UNKNOWN"),
  );
  add(
    "amount currency in lower case (cny): currencies are compared exactly",
    ["Currency"],
    ordinary(0, 56n, T),
    at(T + 5, 250n, "cny"),
    overLimit("CURRENCY_MISMATCH", W0, 56n, T),
  );

  // --- rules a second decoder of the body would also catch -----------------------
  const p54 = pSig(54n);
  const certKeyIdVarint = concat(
    lenField(1, CERT_W0.body),
    Uint8Array.of(0x10, 0x01),
    lenField(3, CERT_W0.issuerSignature),
  );
  const env54 = concat(
    lenField(1, certKeyIdVarint),
    lenField(2, p54),
    lenField(3, ed25519Sign(walletKey(0).privateKey, p54)),
  );
  add(
    "certificate issuer_key_id (field 2) with wire type 0 instead of 2",
    ["NonCanonical", "WireType"],
    { ...assembled(0, CERT_W0, p54), envelope: env54, qr: OFFLINE_CODE_PREFIX + toBase45(env54) },
    now,
    MALFORMED,
  );
  add(
    "payload wallet id that is not UTF-8 (wallet- ff), signed",
    ["Utf8"],
    assembled(0, CERT_W0, rawPayload(badUtf8, Uint8Array.of(55))),
    now,
    MALFORMED,
  );
  return out;
}

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** Three base45 characters for n (up to 45^3 - 1, so also values above 65535). */
function b45Triple(n: number): string {
  return B45[n % 45]! + B45[Math.floor(n / 45) % 45]! + B45[Math.floor(n / 2025)]!;
}

function varintBytes(n: bigint): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** A varint field (wire type 0) with a one-byte tag. */
function varintField(fieldNo: number, value: bigint): Uint8Array {
  return concat(Uint8Array.of(fieldNo << 3), varintBytes(value));
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** A length-delimited field (wire type 2) with a one-byte tag. */
function lenField(fieldNo: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of((fieldNo << 3) | 2), varint(value.length), value);
}

/** `n` as a varint one byte longer than needed. */
function overlongVarint(n: number): Uint8Array {
  const v = varint(n);
  const out = Uint8Array.from([...v, 0]);
  out[v.length - 1]! |= 0x80;
  return out;
}

const NOTES: Record<string, string> = {
  Valid: "A well-formed code that verifies.",
  EdgeCase: "An unusual but legal value.",
  WeakKey:
    "The issuer-signed wallet public key has small order or is not a curve point; no signature under it is valid, even one a plain RFC 8032 check accepts.",
  Boundary:
    "On or just past a limit: validity windows are [not_before, not_after), age <= validitySeconds, issued_at <= now + clockSkewSeconds, amount <= limit.",
  ClockSkew: "The wallet's clock runs ahead of the verifier's.",
  WalletSignature: "The wallet's Ed25519 signature over the raw payload bytes does not verify.",
  IssuerSignature:
    "The issuer's Ed25519 signature over the raw certificate body bytes does not verify.",
  KeyUnknown: "No issuer key with the certificate's key id is usable.",
  KeyValidity:
    "An issuer key of that id exists but its validity does not contain the certificate's not_before; such keys are ignored, so the result is KEY_UNKNOWN.",
  CertValidity: "The verifier's time is outside the certificate's validity.",
  CodeExpiry: "The code is older than validitySeconds.",
  Limit: "The amount exceeds the certificate's per-payment limit.",
  Currency: "The amount's currency differs from the certificate's.",
  WalletMismatch: "The signed payload names another wallet than the certificate.",
  Precedence: "Several checks fail; the first in the contract's order decides the result.",
  Truncated: "The envelope bytes were cut short.",
  TrailingBytes: "Bytes were appended to the envelope.",
  UnknownField:
    "A message carries a field number its schema does not define; decoders must reject it, even inside signed bytes.",
  NonCanonical:
    "Protobuf a lenient parser accepts but a proto3 serializer never writes (repeated or out-of-order fields, zero values written out, over-long varints). Decoders must reject it, so each code has exactly one encoding.",
  FieldLength: "A signature is not 64 bytes or a public key not 32 bytes.",
  EmptyField: "A wallet id is empty.",
  Prefix: 'The text does not start with exactly "PC1:".',
  Base45: "The text after the prefix is not strict RFC 9285 base45.",
  Empty: "No code at all.",
  NonCanonicalS:
    "The signature's S is at least L (here S + L for a valid S). [QR-8] rejects it; a verifier that reduces S mod L would accept.",
  NonCanonicalR:
    "R is a non-canonical encoding (y >= p) of a point that satisfies the equation. [QR-8] compares the encoding of [S]B - [k]A with R's bytes, so it never verifies; a verifier that decodes R and compares points would accept.",
  Cofactor:
    "Valid under the cofactored equation [8][S]B = [8]R + [8][k]A, invalid under the cofactorless [S]B = R + [k]A that [QR-8] requires.",
  SmallOrderR: "R is a point of small order (the identity or a point of order 8).",
  MixedOrderKey:
    "The wallet public key is [a]B plus a point of order 8: not of small order, so certified, and verified with the plain equation of [QR-8].",
  WireType: "A known field number with the wrong wire type.",
  VarintOverflow: "A varint longer than 10 bytes or with bits above bit 63.",
  Utf8: "A string field that is not valid UTF-8.",
  MissingField: "A field §5.5 requires is absent.",
};

/**
 * The offline-code vector file (spec/vectors/offline-codes.json) as an
 * object: the generator renders it with 2-space JSON.
 */
export function buildOfflineVectors(): object {
  const tests = cases().map((c, i) => {
    const m = c.made;
    const certBytes = m.certificate ? toBinary(WalletCertificateSchema, m.certificate) : null;
    return {
      tcId: i + 1,
      comment: c.comment,
      walletKeyLabel: m.wallet === null ? null : walletLabel(m.wallet),
      walletPublicKey: m.wallet === null ? null : hex(walletKey(m.wallet).publicKey),
      issuerKeyId: m.certificate ? m.certificate.issuerKeyId : null,
      codeInputs: m.codeInputs,
      qr: m.qr,
      envelope: m.envelope ? hex(m.envelope) : null,
      certificate: certBytes ? hex(certBytes) : null,
      body: m.certificate ? hex(m.certificate.body) : null,
      payload: m.payload ? hex(m.payload) : null,
      nowSeconds: c.nowSeconds,
      amountMinor: c.amountMinor.toString(),
      currency: c.currency,
      verification: c.verification,
      result: c.verification.result === "valid" ? "valid" : "invalid",
      flags: c.flags,
    };
  });
  return {
    algorithm: "PAYCODE-OFFLINE-CODE-V1",
    generatorVersion: "2",
    numberOfTests: tests.length,
    header: [
      "Offline payment codes (signed QR): verification by a terminal or the issuer.",
      'Keys: Ed25519 private seed = HKDF-SHA-256(IKM = "paycode test vectors v1", salt = empty, info = label, L = 32);',
      "labels wallet-key/<n> and issuer-key/<key id>. Public keys are raw 32-byte RFC 8032 encodings, hex.",
      "qr: the full QR text. envelope: the bytes the generator base45-encoded into qr (before any",
      "text-level damage; null when qr has none). certificate, body, payload: hex of the parts the",
      "generator assembled (before any byte-level damage), null when absent.",
      "codeInputs: when not null, a wallet that signs payload {walletId, counter, issuedAt} with",
      "walletKeyLabel's key and wraps it with `certificate` must reproduce qr exactly.",
      "Verify qr at nowSeconds for amountMinor (decimal string, minor units) in currency against the",
      "group's issuerKeys and profile. verification is the expected outcome: result valid | malformed |",
      "invalid | expired | over-limit, the reason, and the authenticated fields the outcome carries",
      "(certificate-time outcomes carry no counter: the payload signature is not yet checked).",
      "Times are Unix seconds; not_before/notBefore inclusive, not_after/notAfter exclusive.",
      "Every field is defined in spec/paycode.md §14.2; Ed25519 verification is [QR-8] (§5.3): cofactorless, S < L, R compared as bytes.",
    ],
    notes: NOTES,
    testGroups: [
      {
        type: "OfflineCodeVerification",
        profile: { validitySeconds: VALIDITY, clockSkewSeconds: SKEW },
        issuerKeys: ISSUER_KEYS.map((k) => ({
          keyId: k.keyId,
          keyLabel: issuerLabel(k.keyId),
          publicKey: hex(issuerKey(k.keyId).publicKey),
          notBefore: k.notBefore,
          notAfter: k.notAfter,
        })),
        tests,
      },
    ],
  };
}
