import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import {
  buildOfflineCode,
  decodeOfflineCode,
  ed25519FromSeed,
  fromBase45,
  OFFLINE_CODE_PREFIX,
  OfflineCodeVerifier,
  type OfflineVerification,
} from "@paycode/protocol";
import { WalletCertificateSchema } from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { deriveTestKey } from "./derive.js";
import { buildOfflineVectors } from "./offline-vectors.js";

interface VectorTest {
  tcId: number;
  comment: string;
  walletKeyLabel: string | null;
  walletPublicKey: string | null;
  issuerKeyId: string | null;
  codeInputs: { walletId: string; counter: string; issuedAt: number } | null;
  qr: string;
  envelope: string | null;
  certificate: string | null;
  body: string | null;
  payload: string | null;
  nowSeconds: number;
  amountMinor: string;
  currency: string;
  verification: Record<string, unknown> & { result: string; reason?: string };
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
}

interface VectorFile {
  algorithm: string;
  numberOfTests: number;
  notes: Record<string, string>;
  testGroups: Array<{
    profile: { validitySeconds: number; clockSkewSeconds: number };
    issuerKeys: Array<{
      keyId: string;
      keyLabel: string;
      publicKey: string;
      notBefore: number;
      notAfter: number;
    }>;
    tests: VectorTest[];
  }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, "offline-codes.json");
const source = existsSync(file) ? "offline-codes.json" : "buildOfflineVectors()";
const vectors: VectorFile = existsSync(file)
  ? JSON.parse(readFileSync(file, "utf8"))
  : JSON.parse(JSON.stringify(buildOfflineVectors()));

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

/** A verifier outcome in the vectors' JSON form (no body; bigints as decimal strings). */
function asVector(r: OfflineVerification): Record<string, unknown> {
  const out: Record<string, unknown> = { result: r.result };
  if ("reason" in r) out["reason"] = r.reason;
  if ("walletId" in r) out["walletId"] = r.walletId;
  if ("counter" in r) out["counter"] = r.counter.toString();
  if ("issuedAt" in r) out["issuedAt"] = r.issuedAt;
  return out;
}

describe(`offline-code vectors (${source})`, () => {
  const tests = vectors.testGroups.flatMap((g) => g.tests);

  it("are well-formed and cover every failure", () => {
    expect(vectors.algorithm).toBe("PAYCODE-OFFLINE-CODE-V1");
    expect(vectors.numberOfTests).toBe(tests.length);
    expect(tests.length).toBeGreaterThanOrEqual(24);
    expect(tests.map((t) => t.tcId)).toEqual(tests.map((_, i) => i + 1));
    const outcomes = new Set(
      tests.map((t) => `${t.verification.result}/${t.verification.reason ?? ""}`),
    );
    for (const o of [
      "valid/",
      "malformed/",
      "invalid/KEY_UNKNOWN",
      "invalid/ISSUER_SIGNATURE_INVALID",
      "invalid/SIGNATURE_INVALID",
      "invalid/WALLET_MISMATCH",
      "expired/CERT_NOT_YET_VALID",
      "expired/CERT_EXPIRED",
      "expired/CODE_EXPIRED",
      "expired/CODE_NOT_YET_VALID",
      "over-limit/OVER_LIMIT",
      "over-limit/CURRENCY_MISMATCH",
    ]) {
      expect(outcomes, o).toContain(o);
    }
    for (const t of tests) {
      for (const f of t.flags) expect(vectors.notes, `flag ${f}`).toHaveProperty(f);
      expect(t.result).toBe(t.verification.result === "valid" ? "valid" : "invalid");
    }
  });

  for (const group of vectors.testGroups) {
    it("issuer keys derive from their labels", () => {
      for (const k of group.issuerKeys) {
        expect(k.keyLabel).toBe(`issuer-key/${k.keyId}`);
        expect(hex(ed25519FromSeed(deriveTestKey(k.keyLabel)).publicKey)).toBe(k.publicKey);
      }
    });

    const verifier = new OfflineCodeVerifier({
      keys: group.issuerKeys.map((k) => ({
        keyId: k.keyId,
        publicKey: unhex(k.publicKey),
        notBefore: k.notBefore,
        notAfter: k.notAfter,
      })),
      validitySeconds: group.profile.validitySeconds,
      clockSkewSeconds: group.profile.clockSkewSeconds,
    });

    it.each(group.tests.map((t) => [t.tcId, t.comment, t] as const))(
      "tcId %i: %s",
      (_id, _comment, t) => {
        const at = {
          nowSeconds: t.nowSeconds,
          amountMinor: BigInt(t.amountMinor),
          currency: t.currency,
        };
        // Verified twice: the second run goes through the certificate cache.
        expect(asVector(verifier.verify(t.qr, at))).toEqual(t.verification);
        expect(asVector(verifier.verify(t.qr, at))).toEqual(t.verification);
        // A fresh verifier agrees (no state carried between tests decides anything).
        const fresh = new OfflineCodeVerifier({
          keys: group.issuerKeys.map((k) => ({
            keyId: k.keyId,
            publicKey: unhex(k.publicKey),
            notBefore: k.notBefore,
            notAfter: k.notAfter,
          })),
          validitySeconds: group.profile.validitySeconds,
          clockSkewSeconds: group.profile.clockSkewSeconds,
        });
        expect(asVector(fresh.verify(t.qr, at))).toEqual(t.verification);

        const decoded = decodeOfflineCode(t.qr);
        expect(decoded === undefined).toBe(t.verification.result === "malformed");

        if (t.walletKeyLabel !== null) {
          const wallet = ed25519FromSeed(deriveTestKey(t.walletKeyLabel));
          expect(hex(wallet.publicKey)).toBe(t.walletPublicKey);
          if (t.codeInputs !== null) {
            // Wallet side: the same inputs reproduce the QR text byte for byte.
            const rebuilt = buildOfflineCode({
              certificate: fromBinary(WalletCertificateSchema, unhex(t.certificate!)),
              walletId: t.codeInputs.walletId,
              counter: BigInt(t.codeInputs.counter),
              issuedAt: t.codeInputs.issuedAt,
              walletPrivateKey: wallet.privateKey,
            });
            expect(rebuilt).toBe(t.qr);
          }
        }
        if (t.envelope !== null && t.qr.startsWith(OFFLINE_CODE_PREFIX)) {
          const b = fromBase45(t.qr.slice(OFFLINE_CODE_PREFIX.length));
          if (b !== undefined && !t.flags.includes("Base45")) expect(hex(b)).toBe(t.envelope);
        }
        if (decoded !== undefined) {
          expect(hex(decoded.envelope.payload)).toBe(t.payload);
          expect(hex(decoded.envelope.certificate!.body)).toBe(t.body);
          expect(decoded.envelope.certificate!.issuerKeyId).toBe(t.issuerKeyId);
        }
      },
    );
  }
});
