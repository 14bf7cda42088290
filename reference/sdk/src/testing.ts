// Fixtures for this folder's tests; not exported from index.ts.
import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DEFAULT_PROFILE,
  ed25519FromSeed,
  issueCertificate,
  profileToProto,
} from "@paycode/protocol";
import {
  type GetIssuerKeysResponse,
  GetIssuerKeysResponseSchema,
  IssuerProfileSchema,
  WalletCertificateSchema,
  WalletLimitsSchema,
} from "@paycode/protocol/v1";
import type { WalletState } from "./wallet-state.js";

/** 2026-01-01T00:00:00Z in ms: a step boundary. */
export const T0_MS = 1_767_225_600_000;

export function testBytes(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(label).digest());
}

export const ISSUER_KEY = ed25519FromSeed(testBytes("clients/issuer"));
export const CODE_KEY = testBytes("clients/code-key");
export const WALLET_SEED = testBytes("clients/wallet-seed");
export const WALLET_KEY_SEED = testBytes("clients/wallet-key");

/** The default profile as ProvisionSeed returns it, with this fixture's code key. */
export const PROFILE = profileToProto(DEFAULT_PROFILE, CODE_KEY);

/** A provisioned wallet state as WalletClient.provision would store it, without a server. */
export function provisionedState(
  o: { clockOffsetMs?: number; walletId?: string; aroundMs?: number } = {},
): WalletState {
  const walletId = o.walletId ?? "w-test";
  const walletKey = ed25519FromSeed(WALLET_KEY_SEED);
  const t0 = Math.floor((o.aroundMs ?? T0_MS) / 1000);
  const certificate = issueCertificate(
    {
      walletId,
      walletPublicKey: walletKey.publicKey,
      currency: "CNY",
      perPaymentLimitMinor: 5000n,
      cumulativeLimitMinor: 20000n,
      notBefore: BigInt(t0 - 300),
      notAfter: BigInt(t0 + 30 * 86400),
    },
    "k1",
    ISSUER_KEY.privateKey,
  );
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
  return {
    version: 1,
    accountId: "acct-test",
    walletId,
    handle: 0x0abcdef,
    seed: b64(WALLET_SEED),
    walletKeySeed: b64(WALLET_KEY_SEED),
    certificate: b64(toBinary(WalletCertificateSchema, certificate)),
    profile: b64(toBinary(IssuerProfileSchema, PROFILE)),
    limits: b64(toBinary(WalletLimitsSchema, create(WalletLimitsSchema, {}))),
    token: "wallet-token",
    clockOffsetMs: o.clockOffsetMs ?? 0,
    provisionedAt: T0_MS,
    onlineStep: -1,
    onlineNextCounter: 0,
    offlineNextCounter: "1",
  };
}

/** A GetIssuerKeys answer for the fixture issuer key, as a terminal would have synced it. */
export function issuerKeysResponse(
  o: { generatedAtMs?: number; revoked?: string[]; version?: bigint; keyId?: string } = {},
): GetIssuerKeysResponse {
  const t0 = Math.floor((o.generatedAtMs ?? T0_MS) / 1000);
  return create(GetIssuerKeysResponseSchema, {
    keys: [
      {
        keyId: o.keyId ?? "k1",
        publicKey: ISSUER_KEY.publicKey,
        notBefore: BigInt(t0 - 365 * 86400),
        notAfter: BigInt(t0 + 365 * 86400),
      },
    ],
    revokedWalletIds: o.revoked ?? [],
    revocationListVersion: o.version ?? 1n,
    generatedAt: timestampFromMs(o.generatedAtMs ?? T0_MS),
    profile: PROFILE,
  });
}
