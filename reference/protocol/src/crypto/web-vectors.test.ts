// The spec's online and offline vectors (spec/vectors/*.json) against the
// browser crypto backend: every "#crypto" import of the codec, here and in
// dist, is replaced by ./web.ts, so the codecs run on @noble and the table AES
// exactly as in a browser bundle.
import { hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import { WalletCertificateSchema } from "../gen/paycode/v1/offline_code_pb.js";
import {
  buildOfflineCode,
  decodeOfflineCode,
  ed25519FromSeed,
  OfflineCodeVerifier,
  type OfflineVerification,
  OnlineCodec,
  onlineMac,
} from "../index.js";

vi.mock("#crypto", async () => await import("./web.js"));

const vectorsDir = join(dirname(fileURLToPath(import.meta.url)), "../../../../spec/vectors");
const read = (name: string) => JSON.parse(readFileSync(join(vectorsDir, name), "utf8"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
/** spec/vectors/derive.ts: HKDF-SHA-256(IKM = "paycode test vectors v1", info = label). */
const deriveTestKey = (label: string) =>
  new Uint8Array(hkdfSync("sha256", "paycode test vectors v1", new Uint8Array(0), label, 32));

interface OnlineTest {
  tcId: number;
  code: string;
  nowSeconds: number;
  verification: string;
  parsed?: unknown;
  expectedStep?: number;
  walletLabel?: string;
  handle: number;
  step: number;
  counter: number;
  intermediate?: { mac: number };
}

interface OfflineTest {
  tcId: number;
  qr: string;
  nowSeconds: number;
  amountMinor: string;
  currency: string;
  verification: { result: string };
  walletKeyLabel: string | null;
  walletPublicKey: string | null;
  certificate: string | null;
  codeInputs: { walletId: string; counter: string; issuedAt: number } | null;
}

it("runs on the web backend", async () => {
  const backend = await import("#crypto");
  expect(backend.CRYPTO_BACKEND).toBe("web");
  expect(ed25519FromSeed(new Uint8Array(32)).privateKey).not.toHaveProperty("export");
});

describe("online-code vectors on the web backend", () => {
  const file = read("online-codes.json");
  for (const group of file.testGroups) {
    const codec = new OnlineCodec({ ...group.profile, codeKey: unhex(group.codeKeyHex) });
    const seeds = new Map<number, Uint8Array>(
      group.wallets.map((w: { handle: number; seedHex: string }) => [w.handle, unhex(w.seedHex)]),
    );
    it.each((group.tests as OnlineTest[]).map((t) => [t.tcId, t] as const))("tcId %i", (_, t) => {
      const parsed = codec.parse(t.code);
      if (t.verification === "malformed") {
        expect(parsed).toBeUndefined();
      } else {
        expect(parsed).toEqual(t.parsed);
        const seed = seeds.get(parsed!.handle);
        const v =
          seed === undefined ? { result: "invalid" } : codec.verify(parsed!, seed, t.nowSeconds);
        expect(v.result).toBe(t.verification);
        expect("step" in v ? v.step : undefined).toBe(t.expectedStep);
      }
      if (t.walletLabel !== undefined) {
        const seed = deriveTestKey(t.walletLabel);
        expect(codec.generate({ handle: t.handle, seed, step: t.step, counter: t.counter })).toBe(
          t.code,
        );
        if (t.intermediate !== undefined) {
          const { prefix } = group.profile;
          expect(onlineMac(seed, prefix, t.handle, t.step, t.counter)).toBe(t.intermediate.mac);
        }
      }
    });
  }
});

function asVector(r: OfflineVerification): Record<string, unknown> {
  const out: Record<string, unknown> = { result: r.result };
  if ("reason" in r) out["reason"] = r.reason;
  if ("walletId" in r) out["walletId"] = r.walletId;
  if ("counter" in r) out["counter"] = r.counter.toString();
  if ("issuedAt" in r) out["issuedAt"] = r.issuedAt;
  return out;
}

describe("offline-code vectors on the web backend", () => {
  const file = read("offline-codes.json");
  for (const group of file.testGroups) {
    const keys = group.issuerKeys.map(
      (k: { keyId: string; publicKey: string; notBefore: number; notAfter: number }) => ({
        keyId: k.keyId,
        publicKey: unhex(k.publicKey),
        notBefore: k.notBefore,
        notAfter: k.notAfter,
      }),
    );
    const options = {
      keys,
      validitySeconds: group.profile.validitySeconds,
      clockSkewSeconds: group.profile.clockSkewSeconds,
    };
    const verifier = new OfflineCodeVerifier(options);
    it.each((group.tests as OfflineTest[]).map((t) => [t.tcId, t] as const))("tcId %i", (_, t) => {
      const at = {
        nowSeconds: t.nowSeconds,
        amountMinor: BigInt(t.amountMinor),
        currency: t.currency,
      };
      expect(asVector(verifier.verify(t.qr, at))).toEqual(t.verification);
      expect(asVector(verifier.verify(t.qr, at))).toEqual(t.verification);
      expect(asVector(new OfflineCodeVerifier(options).verify(t.qr, at))).toEqual(t.verification);
      expect(decodeOfflineCode(t.qr) === undefined).toBe(t.verification.result === "malformed");
      if (t.walletKeyLabel !== null) {
        const wallet = ed25519FromSeed(deriveTestKey(t.walletKeyLabel));
        expect(hex(wallet.publicKey)).toBe(t.walletPublicKey);
        if (t.codeInputs !== null) {
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
    });
  }
});
