// Proof that the vectors pin down the codec: for every rule of spec §5.2,
// §5.3, §5.4, §5.5, §6.1 and §6.2, a copy of the reference codec
// (reference/protocol/src/codes) with that one rule removed — a source
// mutation, written to a scratch directory and imported from there — fails
// at least one vector of online-codes.json or offline-codes.json. The
// production code carries no switches: the mutants exist only here.
//
// Signature rules live inside node:crypto, so their mutants replace both
// Ed25519 checks with the independent BigInt verifier of ed25519-math.ts,
// set to node:crypto's rules ([QR-8]) with one rule changed. The same hook
// with no rule changed must pass every vector: that is the cross-check of
// node:crypto against an independent implementation of [QR-8].
import type { KeyObject } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type Ed25519Rules, OPENSSL_RULES, verifyWith } from "./ed25519-math.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const codesDir = join(root, "reference/protocol/src/codes");
const srcDir = join(root, "reference/protocol/src");
// Under the repository (so @bufbuild/protobuf resolves), git-ignored (/tmp/).
const scratch = join(root, "tmp", `codec-rules-${process.pid}`);

/** One textual change to one file of reference/protocol/src/codes. */
interface Edit {
  file: string;
  find: string;
  replace: string;
}

/** A rule of the spec and the edit that removes it from the codec. */
interface Rule {
  id: string;
  section: string;
  /** What the mutant does instead. */
  removal: string;
  edits: Edit[];
  /** For signature rules: the Ed25519 rules the mutant verifies with. */
  ed25519?: Ed25519Rules;
}

const W = "offline/canonical-wire.ts";
const B = "offline/base45.ts";
const OC = "offline/offline-code.ts";
const CE = "offline/certificate.ts";
const IK = "offline/issuer-keys.ts";
const OV = "offline/offline-verifier.ts";
const ON = "online/online-code.ts";

const drop = (file: string, find: string): Edit => ({ file, find, replace: "" });

const SKIP_UNKNOWN = `if (fieldNo > count) {
      if (wireType === VARINT) { while (pos < end && bytes[pos++]! & 0x80); continue; }
      if (wireType !== LEN) return false;
      let n2 = 0; let s2 = 0; let b2 = 0;
      do { if (pos >= end) return false; b2 = bytes[pos++]!; n2 += (b2 & 0x7f) * 2 ** s2; s2 += 7; } while (b2 & 0x80);
      pos += n2;
      if (pos > end) return false;
      continue;
    }`;

const HOOK =
  "(globalThis as never as Record<string, (k: unknown, m: Uint8Array, s: Uint8Array) => boolean>).__codecRulesEd25519!";
const ED25519_EDITS: Edit[] = [
  {
    file: OV,
    find: "!ed25519VerifyRaw(cert.walletKey, code.payload, code.signature)",
    replace: `!${HOOK}(cert.body.walletPublicKey, code.payload, code.signature)`,
  },
  {
    file: CE,
    find: "ed25519Verify(key, cert.bodyBytes, cert.issuerSignature)",
    replace: `${HOOK}(key, cert.bodyBytes, cert.issuerSignature)`,
  },
];

const WALLET_SIG_CHECK =
  "if (cert.walletKey === undefined || !ed25519VerifyRaw(cert.walletKey, code.payload, code.signature)) return SIGNATURE_INVALID;\n";

/** Every rule; each must be killed by at least one vector. */
const RULES: Rule[] = [
  // §5.2 canonical encoding
  {
    id: "wire/ascending-order",
    section: "5.2",
    removal: "fields in any order (a repeat still rejected)",
    edits: [
      {
        file: W,
        find: "if (fieldNo <= lastField) return false;",
        replace: "if (fieldNo === 0 || (out.start[fieldNo - 1] ?? -1) >= 0) return false;",
      },
    ],
  },
  {
    id: "wire/at-most-once",
    section: "5.2",
    removal: "a field repeated right after itself (the last one wins)",
    edits: [
      {
        file: W,
        find: "if (fieldNo <= lastField) return false;",
        replace: "if (fieldNo === 0 || fieldNo < lastField) return false;",
      },
    ],
  },
  {
    id: "wire/no-unknown-field",
    section: "5.2",
    removal: "unknown fields skipped",
    edits: [{ file: W, find: "if (fieldNo > count) return false;", replace: SKIP_UNKNOWN }],
  },
  {
    id: "wire/wire-type",
    section: "5.2",
    removal: "a known field accepted with another wire type",
    edits: [drop(W, "if (types[fieldNo - 1] !== wireType) return false;")],
  },
  {
    id: "wire/zero-omitted",
    section: "5.2",
    removal: "a zero varint value written out accepted",
    edits: [drop(W, "if (lo === 0 && hi === 0) return false;")],
  },
  {
    id: "wire/empty-omitted",
    section: "5.2",
    removal: "an empty length-delimited value written out accepted",
    edits: [drop(W, "if (lo === 0) return false;")],
  },
  {
    id: "wire/minimal-varint",
    section: "5.2",
    removal: "over-long varints (a trailing 0x00 byte) accepted",
    edits: [drop(W, "if (n > 1 && b === 0) return false;")],
  },
  {
    id: "wire/varint-64-bits",
    section: "5.2",
    removal: "bits above bit 63 in a 10th varint byte dropped",
    edits: [drop(W, "if (n === 10 && b !== 1) return false;")],
  },
  {
    id: "wire/varint-10-bytes",
    section: "5.2",
    removal: "varints longer than 10 bytes accepted",
    edits: [drop(W, "if (n === 10) return false;")],
  },
  {
    id: "wire/no-truncation",
    section: "5.2",
    removal: "a length beyond the end clamped to the bytes left",
    edits: [
      {
        file: W,
        find: "if (hi !== 0 || lo > end - pos) return false;",
        replace: "if (hi !== 0) return false;\n      if (lo > end - pos) lo = end - pos;",
      },
    ],
  },
  {
    id: "wire/utf-8",
    section: "5.2",
    removal: "invalid UTF-8 decoded with replacement characters",
    edits: [
      {
        file: W,
        find: 'new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })',
        replace: 'new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })',
      },
    ],
  },
  // §5.3 signatures ([QR-8]) and §6.2 steps 3 and 5
  {
    id: "sig/cofactorless",
    section: "5.3",
    removal: "cofactored equation [8][S]B = [8]R + [8][k]A",
    edits: ED25519_EDITS,
    ed25519: { ...OPENSSL_RULES, cofactored: true },
  },
  {
    id: "sig/s-below-l",
    section: "5.3",
    removal: "S >= L reduced mod L",
    edits: ED25519_EDITS,
    ed25519: { ...OPENSSL_RULES, canonicalS: false },
  },
  {
    id: "sig/r-bytes",
    section: "5.3",
    removal: "R decoded (y reduced mod p) and compared as a point",
    edits: ED25519_EDITS,
    ed25519: { ...OPENSSL_RULES, rByteCompare: false },
  },
  {
    id: "sig/issuer-signature",
    section: "6.2 step 3",
    removal: "issuer signature not checked",
    edits: [
      {
        file: CE,
        find: "if (ed25519Verify(key, cert.bodyBytes, cert.issuerSignature)) {",
        replace: "if (true) {",
      },
    ],
  },
  {
    id: "sig/wallet-signature",
    section: "6.2 step 5",
    removal: "wallet signature not checked",
    edits: [
      {
        file: OV,
        find: "!ed25519VerifyRaw(cert.walletKey, code.payload, code.signature)",
        replace: "false",
      },
    ],
  },
  {
    id: "sig/small-order-key",
    section: "6.2 step 5",
    removal: "small-order wallet keys used like any other",
    edits: [
      {
        file: CE,
        find: "if (!isSmallOrderEd25519PublicKey(cert.walletPublicKey)) {",
        replace: "if (true) {",
      },
    ],
  },
  // §5.4 text encoding and §5.5 item 1
  {
    id: "text/prefix-present",
    section: "5.5 item 1",
    removal: "any four characters accepted as the prefix",
    edits: [
      {
        file: OC,
        find: "!text.startsWith(OFFLINE_CODE_PREFIX)",
        replace: "text.length < OFFLINE_CODE_PREFIX.length",
      },
    ],
  },
  {
    id: "text/prefix-case",
    section: "5.5 item 1",
    removal: "the prefix matched case-insensitively",
    edits: [
      {
        file: OC,
        find: "!text.startsWith(OFFLINE_CODE_PREFIX)",
        replace: "!text.toUpperCase().startsWith(OFFLINE_CODE_PREFIX)",
      },
    ],
  },
  {
    id: "base45/length",
    section: "5.4",
    removal: "a length 1 mod 3 decoded without its last character",
    edits: [
      {
        file: B,
        find: "if (tail === 1) return undefined;",
        replace: "if (tail === 1) return decodeBase45(text.slice(0, -1), start);",
      },
    ],
  },
  {
    id: "base45/upper-case",
    section: "5.4",
    removal: "lower-case letters decoded as upper case",
    edits: [
      {
        file: B,
        find: "for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;",
        replace:
          "for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;\nfor (let i = 10; i < 36; i++) VALUES[ALPHABET.toLowerCase().charCodeAt(i)] = i;",
      },
    ],
  },
  {
    id: "base45/alphabet",
    section: "5.4",
    removal: "characters outside the alphabet skipped",
    edits: [
      {
        file: B,
        find: "const len = text.length - start;",
        replace:
          'text = text.slice(0, start) + text.slice(start).replace(/[^0-9A-Z $%*+\\-./:]/g, "");\n  const len = text.length - start;',
      },
    ],
  },
  {
    id: "base45/triple-max",
    section: "5.4",
    removal: "a triple above 65535 taken mod 65536",
    edits: [drop(B, "if (n > 0xffff) return undefined;")],
  },
  {
    id: "base45/pair-max",
    section: "5.4",
    removal: "a final pair above 255 taken mod 256",
    edits: [drop(B, "if (n > 0xff) return undefined;")],
  },
  // §5.5 items 4–7
  {
    id: "struct/signature-64",
    section: "5.5 item 4",
    removal: "a wallet signature of any length accepted",
    edits: [
      drop(
        OC,
        "if (envelopeScan.length(ENVELOPE_SIGNATURE) !== ED25519_SIGNATURE_LENGTH) return undefined;",
      ),
    ],
  },
  {
    id: "struct/issuer-key-id",
    section: "5.5 item 5",
    removal: "a certificate without issuer_key_id accepted",
    edits: [drop(CE, "if (!certScan.has(CERT_KEY_ID)) return undefined;")],
  },
  {
    id: "struct/issuer-signature-64",
    section: "5.5 item 5",
    removal: "an issuer signature of any length accepted",
    edits: [
      drop(
        CE,
        "if (certScan.length(CERT_SIGNATURE) !== ED25519_SIGNATURE_LENGTH) return undefined;",
      ),
    ],
  },
  {
    id: "struct/body-wallet-id",
    section: "5.5 item 6",
    removal: "a body without wallet_id accepted",
    edits: [drop(CE, "if (!bodyScan.has(BODY_WALLET_ID)) return undefined;")],
  },
  {
    id: "struct/wallet-key-32",
    section: "5.5 item 6",
    removal: "a wallet public key of any length accepted",
    edits: [
      drop(CE, "if (bodyScan.length(BODY_PUBLIC_KEY) !== ED25519_KEY_LENGTH) return undefined;"),
    ],
  },
  {
    id: "struct/payload-wallet-id",
    section: "5.5 item 7",
    removal: "a payload without wallet_id accepted",
    edits: [drop(OC, "if (!payloadScan.has(PAYLOAD_WALLET_ID)) return undefined;")],
  },
  // §6.2 steps 2–9 and the result fields of §6.2 / §6.3
  {
    id: "verify/key-unknown",
    section: "6.2 step 2",
    removal: "no usable key reported as ISSUER_SIGNATURE_INVALID",
    edits: [drop(CE, 'if (candidates.length === 0) return "KEY_UNKNOWN";')],
  },
  ...keyValidity(),
  ...comparisons(),
  {
    id: "verify/wallet-mismatch",
    section: "6.2 step 6",
    removal: "payload wallet id not compared",
    edits: [drop(OV, "if (code.walletId !== cert.walletId) return WALLET_MISMATCH;")],
  },
  {
    id: "order/wallet-signature-before-cert-time",
    section: "6.2 order",
    removal: "step 5 before step 4",
    edits: [
      {
        file: OV,
        find: "// 4. Certificate validity.",
        replace: `${WALLET_SIG_CHECK}// 4.`,
      },
    ],
  },
  {
    id: "order/code-time-before-wallet-id",
    section: "6.2 order",
    removal: "step 7 before step 6",
    edits: [
      {
        file: OV,
        find: "// 6. The payload speaks for the certified wallet.",
        replace:
          'if (code.issuedAt > now + this.clockSkewSeconds || now - code.issuedAt > this.validitySeconds) return { result: "expired", reason: code.issuedAt > now ? "CODE_NOT_YET_VALID" : "CODE_EXPIRED", walletId: code.walletId, counter: code.counter, issuedAt: code.issuedAt };',
      },
    ],
  },
  {
    id: "order/code-time-before-issuer-signature",
    section: "6.2 order",
    removal: "step 7 before steps 2–3",
    edits: [
      {
        file: OV,
        find: "let cert = this.cache.get(cacheKey);",
        replace:
          'if (at.nowSeconds - code.issuedAt > this.validitySeconds) return { result: "expired", reason: "CODE_EXPIRED", walletId: code.walletId, counter: code.counter, issuedAt: code.issuedAt };\n    let cert = this.cache.get(cacheKey);',
      },
    ],
  },
  {
    id: "order/amount-before-code-time",
    section: "6.2 order",
    removal: "step 8 before step 7",
    edits: [
      {
        file: OV,
        find: "// 7. Code age",
        replace:
          'if (at.currency !== cert.currency) return { result: "over-limit", reason: "CURRENCY_MISMATCH", walletId: code.walletId, counter: code.counter, issuedAt: code.issuedAt, body: cert.body };\n    // 7. Code age',
      },
    ],
  },
  {
    id: "order/limit-before-currency",
    section: "6.2 order",
    removal: "OVER_LIMIT before CURRENCY_MISMATCH",
    edits: [
      {
        file: OV,
        find: "// 8. Amount against the certificate.",
        replace:
          'if (at.amountMinor > cert.perPaymentLimitMinor) return { result: "over-limit", reason: "OVER_LIMIT", walletId: code.walletId, counter: code.counter, issuedAt: code.issuedAt, body: cert.body };',
      },
    ],
  },
  {
    id: "result/cert-time-fields",
    section: "6.3",
    removal: "a certificate-time result also carries the (unverified) counter",
    edits: [
      {
        file: OV,
        find: 'return { result: "expired", reason: "CERT_EXPIRED", walletId: cert.walletId };',
        replace:
          'return { result: "expired", reason: "CERT_EXPIRED", walletId: cert.walletId, counter: code.counter } as never;',
      },
    ],
  },
  {
    id: "result/code-time-fields",
    section: "6.3",
    removal: "a code-time result without counter and issued_at",
    edits: [
      {
        file: OV,
        find: 'return { result: "expired", reason: "CODE_EXPIRED", walletId, counter, issuedAt };',
        replace: 'return { result: "expired", reason: "CODE_EXPIRED", walletId } as never;',
      },
    ],
  },
  {
    id: "result/invalid-fields",
    section: "6.3",
    removal: "an invalid result also carries the certificate's wallet id",
    edits: [
      {
        file: OV,
        find: "if (code.walletId !== cert.walletId) return WALLET_MISMATCH;",
        replace:
          'if (code.walletId !== cert.walletId) return { result: "invalid", reason: "WALLET_MISMATCH", walletId: cert.walletId } as never;',
      },
    ],
  },
  // §6.1 online code
  {
    id: "online/length",
    section: "6.1 step 1",
    removal: "length not checked",
    edits: [
      {
        file: ON,
        find: 'if (typeof code !== "string" || code.length !== ONLINE_CODE_LENGTH) return undefined;',
        replace: 'if (typeof code !== "string") return undefined;',
      },
    ],
  },
  {
    id: "online/digits",
    section: "6.1 step 1",
    removal: "non-digits accepted",
    edits: [drop(ON, "if (digit < 0 || digit > 9) return undefined;")],
  },
  {
    id: "online/prefix",
    section: "6.1 step 1",
    removal: "prefix not compared",
    edits: [drop(ON, "if (prefix !== this.profile.prefix) return undefined;")],
  },
  {
    id: "online/payload-max",
    section: "6.1 step 2",
    removal: "P >= 2^53 accepted",
    edits: [drop(ON, "if (payload > Number.MAX_SAFE_INTEGER) return undefined;")],
  },
  {
    id: "online/lookback",
    section: "6.1 step 4",
    removal: "one more period of 16 steps looked back",
    edits: [
      {
        file: ON,
        find: "const oldest = Math.max(0, now - lookbackSteps);",
        replace: "const oldest = Math.max(0, now - lookbackSteps - 16);",
      },
    ],
  },
  {
    id: "online/ahead",
    section: "6.1 step 4",
    removal: "one step more accepted ahead",
    edits: [
      {
        file: ON,
        find: "const top = now + windowAheadSteps;",
        replace: "const top = now + windowAheadSteps + 1;",
      },
    ],
  },
  {
    id: "online/window-back",
    section: "6.1 step 5",
    removal: "one step more accepted behind",
    edits: [
      {
        file: ON,
        find: "if (step >= now - windowBackSteps) {",
        replace: "if (step >= now - windowBackSteps - 1) {",
      },
    ],
  },
  {
    id: "online/mac",
    section: "6.1 step 5",
    removal: "the MAC of the window step not compared",
    edits: [
      {
        file: ON,
        find: 'if ((macer.compute(step, counter) ^ mac) === 0) return { result: "valid", step };',
        replace: 'return { result: "valid", step };',
      },
    ],
  },
  {
    id: "online/expired",
    section: "6.1 step 6",
    removal: "older steps never matched (INVALID instead of EXPIRED)",
    edits: [
      drop(
        ON,
        'if ((macer.compute(step, counter) ^ mac) === 0) return { result: "expired", step };',
      ),
    ],
  },
];

function keyValidity(): Rule[] {
  const line = "if (k.notBefore <= certNotBefore && certNotBefore < k.notAfter) out.push(k.key);";
  const variant = (id: string, removal: string, cond: string): Rule => ({
    id,
    section: "6.2 step 2",
    removal,
    edits: [{ file: IK, find: line, replace: `if (${cond}) out.push(k.key);` }],
  });
  return [
    variant("verify/key-not-before", "issuer key notBefore ignored", "certNotBefore < k.notAfter"),
    variant("verify/key-not-after", "issuer key notAfter ignored", "k.notBefore <= certNotBefore"),
    variant(
      "verify/key-not-before-inclusive",
      "issuer key notBefore exclusive",
      "k.notBefore < certNotBefore && certNotBefore < k.notAfter",
    ),
    variant(
      "verify/key-not-after-exclusive",
      "issuer key notAfter inclusive",
      "k.notBefore <= certNotBefore && certNotBefore <= k.notAfter",
    ),
  ];
}

/** Each comparison of steps 4, 7 and 8, removed and moved by one. */
function comparisons(): Rule[] {
  const c = (id: string, section: string, find: string, off: string, never: string): Rule[] => [
    { id, section, removal: "not checked", edits: [{ file: OV, find, replace: never }] },
    {
      id: id === "verify/currency" ? `${id}-exact` : `${id}-boundary`,
      section,
      removal: id === "verify/currency" ? "compared case-insensitively" : "boundary moved by one",
      edits: [{ file: OV, find, replace: off }],
    },
  ];
  return [
    ...c(
      "verify/cert-not-before",
      "6.2 step 4",
      "if (now < cert.notBefore) {",
      "if (now <= cert.notBefore) {",
      "if (false) {",
    ),
    ...c(
      "verify/cert-not-after",
      "6.2 step 4",
      "if (now >= cert.notAfter) {",
      "if (now > cert.notAfter) {",
      "if (false) {",
    ),
    ...c(
      "verify/code-not-yet-valid",
      "6.2 step 7",
      "if (issuedAt > now + this.clockSkewSeconds) {",
      "if (issuedAt >= now + this.clockSkewSeconds) {",
      "if (false) {",
    ),
    ...c(
      "verify/code-expired",
      "6.2 step 7",
      "if (now - issuedAt > this.validitySeconds) {",
      "if (now - issuedAt >= this.validitySeconds) {",
      "if (false) {",
    ),
    ...c(
      "verify/currency",
      "6.2 step 8",
      "if (at.currency !== cert.currency) {",
      "if (at.currency.toUpperCase() !== cert.currency.toUpperCase()) {",
      "if (false) {",
    ),
    ...c(
      "verify/per-payment-limit",
      "6.2 step 8",
      "if (at.amountMinor > cert.perPaymentLimitMinor) {",
      "if (at.amountMinor >= cert.perPaymentLimitMinor) {",
      "if (false) {",
    ),
  ];
}

/**
 * Rules whose removal no input can observe, because another rule rejects
 * the same inputs first; listed so that the list above is complete.
 */
const SUBSUMED: Array<{ id: string; section: string; why: string }> = [
  {
    id: "struct/certificate-present",
    section: "5.5 item 4",
    why: "an absent certificate has no body, so it fails struct/body-wallet-id's item 5-6 checks",
  },
  {
    id: "struct/payload-present",
    section: "5.5 item 4",
    why: "an absent payload has no wallet_id (struct/payload-wallet-id)",
  },
  {
    id: "struct/body-present",
    section: "5.5 item 5",
    why: "an absent body has no wallet_id (struct/body-wallet-id)",
  },
  {
    id: "sig/carried-bytes (QR-5)",
    section: "5.3",
    why: "strict decoding accepts only canonical encodings, and re-serializing a canonical message gives the same bytes",
  },
  {
    id: "online/step-not-negative",
    section: "6.1 step 4",
    why: "no wallet makes a code for a negative step, so no MAC matches one",
  },
  {
    id: "online/unknown-handle",
    section: "6.1 step 3",
    why: "the wallet lookup is the verifier's store, not the codec; the vector runner does it",
  },
];

// --- the vectors ---------------------------------------------------------------

interface OfflineVector {
  tcId: number;
  qr: string;
  nowSeconds: number;
  amountMinor: string;
  currency: string;
  verification: Record<string, unknown>;
}
interface OnlineVector {
  tcId: number;
  code: string;
  nowSeconds: number;
  verification: string;
  expectedStep?: number;
}
const offlineFile = JSON.parse(readFileSync(join(here, "offline-codes.json"), "utf8")) as {
  testGroups: Array<{
    profile: { validitySeconds: number; clockSkewSeconds: number };
    issuerKeys: Array<{ keyId: string; publicKey: string; notBefore: number; notAfter: number }>;
    tests: OfflineVector[];
  }>;
};
const onlineFile = JSON.parse(readFileSync(join(here, "online-codes.json"), "utf8")) as {
  testGroups: Array<{
    profile: Record<string, number>;
    codeKeyHex: string;
    wallets: Array<{ seedHex: string; handle: number }>;
    tests: OnlineVector[];
  }>;
};
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

function asVector(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { result: r["result"] };
  for (const k of ["reason", "walletId", "counter", "issuedAt"]) {
    if (k in r) out[k] = typeof r[k] === "bigint" ? String(r[k]) : r[k];
  }
  return out;
}

/** The vectors (as "offline#tcId" / "online#tcId") a codec copy gets wrong. */
async function failingVectors(dir: string): Promise<string[]> {
  const failed: string[] = [];
  const offline = await import(join(dir, "codes/offline/offline-verifier.ts"));
  for (const g of offlineFile.testGroups) {
    const verifier = new offline.OfflineCodeVerifier({
      keys: g.issuerKeys.map((k) => ({ ...k, publicKey: unhex(k.publicKey) })),
      ...g.profile,
    });
    for (const t of g.tests) {
      try {
        const at = {
          nowSeconds: t.nowSeconds,
          amountMinor: BigInt(t.amountMinor),
          currency: t.currency,
        };
        const got = asVector(verifier.verify(t.qr, at));
        if (JSON.stringify(got) !== JSON.stringify(t.verification))
          failed.push(`offline#${t.tcId}`);
      } catch {
        failed.push(`offline#${t.tcId}`);
      }
    }
  }
  const online = await import(join(dir, "codes/online/online-code.ts"));
  for (const g of onlineFile.testGroups) {
    const codec = new online.OnlineCodec({ ...g.profile, codeKey: unhex(g.codeKeyHex) });
    const seeds = new Map(g.wallets.map((w) => [w.handle, unhex(w.seedHex)]));
    for (const t of g.tests) {
      try {
        const parsed = codec.parse(t.code);
        let result: string;
        let step: number | undefined;
        if (parsed === undefined) result = "malformed";
        else {
          const seed = seeds.get(parsed.handle);
          const v =
            seed === undefined ? { result: "invalid" } : codec.verify(parsed, seed, t.nowSeconds);
          result = v.result;
          step = v.step;
        }
        if (result !== t.verification || step !== t.expectedStep) failed.push(`online#${t.tcId}`);
      } catch {
        failed.push(`online#${t.tcId}`);
      }
    }
  }
  return failed;
}

let copies = 0;
/** A copy of reference/protocol/src/codes with `edits` applied; returns its directory. */
function mutant(edits: Edit[]): string {
  const dir = join(scratch, String(copies++));
  for (const sub of ["offline", "online"]) {
    mkdirSync(join(dir, "codes", sub), { recursive: true });
    for (const f of readdirSync(join(codesDir, sub))) {
      if (!f.endsWith(".ts") || f.endsWith(".test.ts")) continue;
      let text = readFileSync(join(codesDir, sub, f), "utf8");
      // Imports that leave codes/ point back at the real source tree.
      const back = relative(join(dir, "codes", sub), srcDir).replaceAll("\\", "/");
      text = text.replaceAll('from "../../', `from "${back}/`);
      // The package's "#crypto" import does not resolve outside it: use the Node backend.
      text = text.replaceAll('from "#crypto"', `from "${back}/crypto/node.js"`);
      for (const e of edits.filter((x) => x.file === `${sub}/${f}`)) {
        const n = text.split(e.find).length - 1;
        if (n !== 1) throw new Error(`${e.file}: expected one "${e.find}", found ${n}`);
        text = text.replace(e.find, () => e.replace);
      }
      writeFileSync(join(dir, "codes", sub, f), text);
    }
  }
  cpSync(join(codesDir, "index.ts"), join(dir, "codes", "index.ts"));
  return dir;
}

function installHook(rules: Ed25519Rules): void {
  (globalThis as Record<string, unknown>)["__codecRulesEd25519"] = (
    key: KeyObject | Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
  ) => {
    const raw =
      key instanceof Uint8Array
        ? key
        : new Uint8Array((key.export({ format: "der", type: "spki" }) as Buffer).subarray(-32));
    return verifyWith(rules, raw, message, signature);
  };
}

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  delete (globalThis as Record<string, unknown>)["__codecRulesEd25519"];
});

describe("codec rules: every rule is killed by a vector", () => {
  it("the unmutated copy passes every vector", async () => {
    expect(await failingVectors(mutant([]))).toEqual([]);
  });

  it("node:crypto's verification agrees with the independent BigInt verifier of [QR-8]", async () => {
    installHook(OPENSSL_RULES);
    expect(await failingVectors(mutant(ED25519_EDITS))).toEqual([]);
  });

  it("names each rule once", () => {
    const ids = [...RULES.map((r) => r.id), ...SUBSUMED.map((r) => r.id)];
    expect(new Set(ids).size).toBe(ids.length);
    const sections = new Set(RULES.map((r) => r.section.split(" ")[0]));
    for (const s of ["5.2", "5.3", "5.4", "5.5", "6.1", "6.2", "6.3"])
      expect(sections).toContain(s);
  });

  it.each(RULES.map((r) => [r.id, r.removal, r] as const))(
    "%s (%s)",
    async (_id, _removal, rule) => {
      if (rule.ed25519) installHook(rule.ed25519);
      const failed = await failingVectors(mutant(rule.edits));
      expect(failed.length, `no vector kills ${rule.id}`).toBeGreaterThan(0);
      if (process.env["CODEC_RULES_REPORT"]) console.log(`${rule.id}: ${failed.join(" ")}`);
    },
  );
});
