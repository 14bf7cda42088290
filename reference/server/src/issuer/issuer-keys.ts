import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { ed25519PublicKeyBytes, generateEd25519, type IssuerKeyEntry } from "@paycode/protocol";
import type { IssuerKeyRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { SeedVault } from "./seed-vault.js";

/** The issuer's certificate-signing key, decrypted for use. Times in Unix seconds. */
export interface IssuerSigningKey {
  keyId: string;
  publicKey: Uint8Array;
  privateKey: KeyObject;
  notBefore: number;
  notAfter: number;
}

const KEY_LIFETIME_MS = 10 * 365 * 86_400_000;
// Certificates start 300 s before issue, and a verifier accepts a key only
// if its validity contains the certificate's not_before; a day of slack also
// covers servers whose clocks disagree.
const KEY_BACKDATE_MS = 86_400_000;

/** Key id = "ik-" + the first 8 bytes of SHA-256(public key), hex: stable and self-describing. */
export function issuerKeyId(publicKey: Uint8Array): string {
  return `ik-${createHash("sha256").update(publicKey).digest("hex").slice(0, 16)}`;
}

const context = (keyId: string) => `issuer-key:${keyId}`;

export function issuerKeyEntry(k: IssuerKeyRecord): IssuerKeyEntry {
  return {
    keyId: k.keyId,
    publicKey: k.publicKey,
    notBefore: Math.floor(k.notBefore / 1000),
    notAfter: Math.floor(k.notAfter / 1000),
  };
}

/**
 * Loads the issuer signing keys, creating the first one (Ed25519, private
 * key sealed under the master key) when the database has none. An advisory
 * lock makes servers that start together on one database agree on one key.
 * Returns every key and the one to sign with (the newest still valid).
 */
export async function loadOrCreateIssuerKeys(
  store: Store,
  vault: SeedVault,
  nowMs: number,
): Promise<{ signing: IssuerSigningKey; all: IssuerKeyRecord[] }> {
  const all = await store.transaction(async (tx) => {
    await tx.lock("paycode:issuer-signing-key");
    const keys = await tx.listIssuerKeys();
    if (keys.some((k) => k.notBefore <= nowMs && nowMs < k.notAfter)) return keys;
    const pair = generateEd25519();
    const keyId = issuerKeyId(pair.publicKey);
    const pkcs8 = pair.privateKey.export({ format: "der", type: "pkcs8" });
    const record: IssuerKeyRecord = {
      keyId,
      publicKey: pair.publicKey,
      privateKeyEnvelope: vault.seal(new Uint8Array(pkcs8), context(keyId)),
      notBefore: nowMs - KEY_BACKDATE_MS,
      notAfter: nowMs + KEY_LIFETIME_MS,
      createdAt: nowMs,
    };
    await tx.insertIssuerKey(record);
    return [...keys, record];
  });
  const current = all
    .filter((k) => k.notBefore <= nowMs && nowMs < k.notAfter)
    .sort((a, b) => b.createdAt - a.createdAt)[0]!;
  const privateKey = createPrivateKey({
    key: Buffer.from(vault.open(current.privateKeyEnvelope, context(current.keyId))),
    format: "der",
    type: "pkcs8",
  });
  if (Buffer.compare(ed25519PublicKeyBytes(privateKey), Buffer.from(current.publicKey)) !== 0) {
    throw new Error(`issuer key ${current.keyId}: private key does not match its public key`);
  }
  return {
    all,
    signing: {
      keyId: current.keyId,
      publicKey: current.publicKey,
      privateKey,
      notBefore: Math.floor(current.notBefore / 1000),
      notAfter: Math.floor(current.notAfter / 1000),
    },
  };
}
