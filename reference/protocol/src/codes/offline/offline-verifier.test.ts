import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OfflineCodeSchema,
  OfflinePayloadSchema,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { toBase45 } from "./base45.js";
import { issueCertificate } from "./certificate.js";
import { ed25519FromSeed, ed25519Sign } from "./ed25519.js";
import { buildOfflineCode } from "./offline-code.js";
import { OfflineCodeVerifier, type OfflineVerification } from "./offline-verifier.js";
import {
  AT,
  CERT_NOT_AFTER,
  CERT_NOT_BEFORE,
  certBody,
  certificate,
  editEnvelope,
  envelopeBytes,
  issuerKey,
  issuerKeys,
  LIMIT,
  makeCode,
  makeVerifier,
  otherIssuerKey,
  otherWalletKey,
  T0,
  testSeed,
  textOf,
  WALLET_ID,
} from "./testing.js";

/** Any UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c));

const UINT64_MAX = (1n << 64n) - 1n;
const summary = (r: OfflineVerification) => ("reason" in r ? `${r.result}/${r.reason}` : r.result);

describe("OfflineCodeVerifier", () => {
  it("accepts what buildOfflineCode makes, within the limits", () => {
    const verifier = makeVerifier();
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: UINT64_MAX }),
        fc.integer({ min: CERT_NOT_BEFORE, max: CERT_NOT_AFTER - 1 }),
        fc.integer({ min: -60, max: 120 }),
        fc.bigInt({ min: 0n, max: LIMIT }),
        (counter, now, age, amountMinor) => {
          const issuedAt = now - age;
          const r = verifier.verify(makeCode({ counter, issuedAt }), {
            nowSeconds: now,
            amountMinor,
            currency: "CNY",
          });
          expect(r).toEqual({
            result: "valid",
            walletId: WALLET_ID,
            counter,
            issuedAt,
            body: certBody(),
          });
        },
      ),
      { numRuns: 150 },
    );
    expect(verifier.cachedCertificates).toBe(1);
  });

  it("never accepts a code with any single bit flipped", () => {
    const text = makeCode({ counter: 42n });
    const env = envelopeBytes(text);
    const verifier = makeVerifier();
    expect(verifier.verify(text, AT).result).toBe("valid");
    const seen = new Map<string, number>();
    // Exhaustive over every bit; fast-check below adds multi-bit damage.
    for (let bit = 0; bit < env.length * 8; bit++) {
      const b = env.slice();
      b[bit >> 3]! ^= 1 << (bit & 7);
      const r = verifier.verify(textOf(b), AT);
      expect(r.result, `bit ${bit}`).not.toBe("valid");
      seen.set(summary(r), (seen.get(summary(r)) ?? 0) + 1);
    }
    // The flips land in every part of the code.
    expect([...seen.keys()].sort()).toEqual(
      expect.arrayContaining([
        "malformed",
        "invalid/SIGNATURE_INVALID",
        "invalid/ISSUER_SIGNATURE_INVALID",
        "invalid/KEY_UNKNOWN",
      ]),
    );
  });

  it("never accepts a code with random bits flipped", () => {
    const env = envelopeBytes(makeCode({ counter: 43n }));
    const verifier = makeVerifier();
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: env.length * 8 - 1 }), { minLength: 1, maxLength: 8 }),
        (bits) => {
          const b = env.slice();
          for (const bit of bits) b[bit >> 3]! ^= 1 << (bit & 7);
          expect(verifier.verify(textOf(b), AT).result).not.toBe("valid");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws, whatever the text", () => {
    const verifier = makeVerifier();
    const alphabet = [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"];
    const results = new Set<string>();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 500 }),
          fc.string({ unit: utf16Unit, maxLength: 100 }),
          fc
            .array(fc.constantFrom(...alphabet), { maxLength: 500 })
            .map((a) => "PC1:" + a.join("")),
          fc.uint8Array({ maxLength: 400 }).map((b) => "PC1:" + toBase45(b)),
        ),
        (s) => {
          const r = verifier.verify(s, AT);
          results.add(r.result);
          expect(["malformed", "invalid", "expired", "over-limit"]).toContain(r.result);
        },
      ),
      { numRuns: 500 },
    );
    expect(results.has("malformed")).toBe(true);
    for (const bad of [undefined, null, 42, {}, [], Symbol("x")]) {
      expect(verifier.verify(bad as unknown as string, AT)).toEqual({ result: "malformed" });
    }
    expect(verifier.verify(makeCode(), undefined as never)).toEqual({ result: "malformed" });
  });

  describe("reaches every reason, in contract order", () => {
    const verifier = makeVerifier();
    const good = makeCode({ counter: 7n, issuedAt: T0 });
    const v = (text: string, at: Partial<typeof AT> = {}) =>
      verifier.verify(text, { ...AT, ...at });

    it("valid at the edges", () => {
      expect(v(good, { nowSeconds: T0 + 120 }).result).toBe("valid");
      expect(v(good, { nowSeconds: T0 - 60 }).result).toBe("valid");
      expect(v(good, { amountMinor: LIMIT }).result).toBe("valid");
      const early = makeCode({ issuedAt: CERT_NOT_BEFORE });
      expect(v(early, { nowSeconds: CERT_NOT_BEFORE }).result).toBe("valid");
      const late = makeCode({ issuedAt: CERT_NOT_AFTER - 1 });
      expect(v(late, { nowSeconds: CERT_NOT_AFTER - 1 }).result).toBe("valid");
    });

    it("malformed", () => {
      expect(v("")).toEqual({ result: "malformed" });
      expect(v(good.slice(0, -3))).toEqual({ result: "malformed" });
    });

    it("KEY_UNKNOWN: no key of that id", () => {
      const cert = issueCertificate(certBody(), "k9", issuerKey.privateKey);
      expect(v(makeCode({ cert }))).toEqual({ result: "invalid", reason: "KEY_UNKNOWN" });
    });

    it("KEY_UNKNOWN: the key of that id was not valid at the certificate's not_before", () => {
      const cert = issueCertificate(
        certBody({ notBefore: BigInt(T0 - 2 * 86400) }),
        "k2",
        otherIssuerKey.privateKey,
      );
      expect(v(makeCode({ cert }))).toEqual({ result: "invalid", reason: "KEY_UNKNOWN" });
      // The same key is fine for a certificate starting inside its validity.
      const ok = issueCertificate(certBody(), "k2", otherIssuerKey.privateKey);
      expect(v(makeCode({ cert: ok })).result).toBe("valid");
    });

    it("ISSUER_SIGNATURE_INVALID", () => {
      const cert = issueCertificate(certBody(), "k1", otherIssuerKey.privateKey);
      expect(v(makeCode({ cert }))).toEqual({
        result: "invalid",
        reason: "ISSUER_SIGNATURE_INVALID",
      });
    });

    it("CERT_NOT_YET_VALID and CERT_EXPIRED (no unauthenticated counter)", () => {
      const early = makeCode({ issuedAt: CERT_NOT_BEFORE - 1 });
      expect(v(early, { nowSeconds: CERT_NOT_BEFORE - 1 })).toEqual({
        result: "expired",
        reason: "CERT_NOT_YET_VALID",
        walletId: WALLET_ID,
      });
      const late = makeCode({ issuedAt: CERT_NOT_AFTER });
      expect(v(late, { nowSeconds: CERT_NOT_AFTER })).toEqual({
        result: "expired",
        reason: "CERT_EXPIRED",
        walletId: WALLET_ID,
      });
    });

    it("SIGNATURE_INVALID", () => {
      const forged = buildOfflineCode({
        certificate,
        walletId: WALLET_ID,
        counter: 1n,
        issuedAt: T0,
        walletPrivateKey: otherWalletKey.privateKey,
      });
      expect(v(forged)).toEqual({ result: "invalid", reason: "SIGNATURE_INVALID" });
    });

    it("SIGNATURE_INVALID for a certified small-order or off-curve wallet key", () => {
      const identity = Uint8Array.of(1, ...new Uint8Array(31));
      const notAPoint = Uint8Array.of(2, ...new Uint8Array(31));
      for (const walletPublicKey of [identity, notAPoint]) {
        const bodyBytes = toBinary(WalletCertificateBodySchema, certBody({ walletPublicKey }));
        const cert = create(WalletCertificateSchema, {
          body: bodyBytes,
          issuerKeyId: "k1",
          issuerSignature: ed25519Sign(issuerKey.privateKey, bodyBytes),
        });
        const p = toBinary(
          OfflinePayloadSchema,
          create(OfflinePayloadSchema, { walletId: WALLET_ID, counter: 1n, issuedAt: BigInt(T0) }),
        );
        // R = identity, S = 0: node:crypto accepts it under the identity key.
        const forged = Uint8Array.of(1, ...new Uint8Array(63));
        const text = textOf(
          toBinary(
            OfflineCodeSchema,
            create(OfflineCodeSchema, { certificate: cert, payload: p, signature: forged }),
          ),
        );
        expect(v(text)).toEqual({ result: "invalid", reason: "SIGNATURE_INVALID" });
      }
    });

    it("WALLET_MISMATCH", () => {
      expect(v(makeCode({ walletId: "w-other" }))).toEqual({
        result: "invalid",
        reason: "WALLET_MISMATCH",
      });
    });

    it("CODE_EXPIRED and CODE_NOT_YET_VALID", () => {
      expect(v(good, { nowSeconds: T0 + 121 })).toEqual({
        result: "expired",
        reason: "CODE_EXPIRED",
        walletId: WALLET_ID,
        counter: 7n,
        issuedAt: T0,
      });
      expect(v(good, { nowSeconds: T0 - 61 })).toEqual({
        result: "expired",
        reason: "CODE_NOT_YET_VALID",
        walletId: WALLET_ID,
        counter: 7n,
        issuedAt: T0,
      });
    });

    it("CURRENCY_MISMATCH and OVER_LIMIT", () => {
      expect(v(good, { currency: "USD" })).toMatchObject({
        result: "over-limit",
        reason: "CURRENCY_MISMATCH",
        walletId: WALLET_ID,
        counter: 7n,
      });
      expect(v(good, { amountMinor: LIMIT + 1n })).toMatchObject({
        result: "over-limit",
        reason: "OVER_LIMIT",
        walletId: WALLET_ID,
        counter: 7n,
      });
    });

    it("earlier steps win", () => {
      const forgedExpiredCert = buildOfflineCode({
        certificate,
        walletId: WALLET_ID,
        counter: 1n,
        issuedAt: CERT_NOT_AFTER,
        walletPrivateKey: otherWalletKey.privateKey,
      });
      expect(summary(v(forgedExpiredCert, { nowSeconds: CERT_NOT_AFTER }))).toBe(
        "expired/CERT_EXPIRED",
      );
      const mismatchOld = makeCode({ walletId: "w-other", issuedAt: T0 - 1000 });
      expect(summary(v(mismatchOld))).toBe("invalid/WALLET_MISMATCH");
      expect(
        summary(v(good, { nowSeconds: T0 + 500, amountMinor: LIMIT + 1n, currency: "USD" })),
      ).toBe("expired/CODE_EXPIRED");
      expect(summary(v(good, { amountMinor: LIMIT + 1n, currency: "USD" }))).toBe(
        "over-limit/CURRENCY_MISMATCH",
      );
      const unknownKeyBadSig = issueCertificate(certBody(), "k9", otherIssuerKey.privateKey);
      expect(summary(v(makeCode({ cert: unknownKeyBadSig })))).toBe("invalid/KEY_UNKNOWN");
    });

    it("honours the configured validity and skew", () => {
      const strict = makeVerifier({ validitySeconds: 10, clockSkewSeconds: 0 });
      expect(strict.verify(good, { ...AT, nowSeconds: T0 + 10 }).result).toBe("valid");
      expect(summary(strict.verify(good, { ...AT, nowSeconds: T0 + 11 }))).toBe(
        "expired/CODE_EXPIRED",
      );
      expect(summary(strict.verify(good, { ...AT, nowSeconds: T0 - 1 }))).toBe(
        "expired/CODE_NOT_YET_VALID",
      );
      const defaults = makeVerifier({ validitySeconds: undefined, clockSkewSeconds: undefined });
      expect(summary(defaults.verify(good, { ...AT, nowSeconds: T0 + 121 }))).toBe(
        "expired/CODE_EXPIRED",
      );
      expect(defaults.verify(good, { ...AT, nowSeconds: T0 - 60 }).result).toBe("valid");
    });
  });

  describe("certificate cache", () => {
    it("a cached certificate does not vouch for the same body under another signature", () => {
      const verifier = makeVerifier();
      expect(verifier.verify(makeCode(), AT).result).toBe("valid");
      expect(verifier.cachedCertificates).toBe(1);
      const sameBodyBadSig = editEnvelope(makeCode(), (e) => {
        e.certificate!.issuerSignature = e.certificate!.issuerSignature.slice();
        e.certificate!.issuerSignature[10]! ^= 0x04;
      });
      expect(verifier.verify(sameBodyBadSig, AT)).toEqual({
        result: "invalid",
        reason: "ISSUER_SIGNATURE_INVALID",
      });
      // Failures are not cached, and the good entry is still good.
      expect(verifier.verify(sameBodyBadSig, AT).result).toBe("invalid");
      expect(verifier.cachedCertificates).toBe(1);
      expect(verifier.verify(makeCode({ counter: 2n }), AT).result).toBe("valid");
    });

    it("nor the same body and signature under another key id", () => {
      const verifier = new OfflineCodeVerifier({
        keys: [...issuerKeys, { ...issuerKeys[0]!, keyId: "k1-alias", notAfter: T0 - 86400 * 30 }],
      });
      expect(verifier.verify(makeCode(), AT).result).toBe("valid");
      const renamed = editEnvelope(makeCode(), (e) => {
        e.certificate!.issuerKeyId = "k1-alias";
      });
      expect(verifier.verify(renamed, AT)).toEqual({ result: "invalid", reason: "KEY_UNKNOWN" });
    });

    it("nor a certificate whose body was re-signed with a different body byte", () => {
      const verifier = makeVerifier();
      expect(verifier.verify(makeCode(), AT).result).toBe("valid");
      const cert = create(WalletCertificateSchema, {
        body: toBinary(WalletCertificateBodySchema, certBody({ perPaymentLimitMinor: 999999n })),
        issuerKeyId: "k1",
        issuerSignature: certificate.issuerSignature,
      });
      expect(verifier.verify(makeCode({ cert }), { ...AT, amountMinor: 9999n })).toEqual({
        result: "invalid",
        reason: "ISSUER_SIGNATURE_INVALID",
      });
    });

    it("is bounded and keeps serving evicted certificates correctly", () => {
      const verifier = makeVerifier({ cacheSize: 2 });
      const wallets = [1, 2, 3].map((i) => {
        const key = ed25519FromSeed(testSeed(`cache-wallet/${i}`));
        const cert = issueCertificate(
          certBody({ walletId: `w-${i}`, walletPublicKey: key.publicKey }),
          "k1",
          issuerKey.privateKey,
        );
        return buildOfflineCode({
          certificate: cert,
          walletId: `w-${i}`,
          counter: 1n,
          issuedAt: T0,
          walletPrivateKey: key.privateKey,
        });
      });
      for (let round = 0; round < 3; round++) {
        for (const code of wallets) expect(verifier.verify(code, AT).result).toBe("valid");
        expect(verifier.cachedCertificates).toBe(2);
      }
    });
  });
});
