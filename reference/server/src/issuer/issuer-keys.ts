import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { ed25519PublicKeyBytes, generateEd25519, type IssuerKeyEntry } from "@paycode/protocol";
import type { IssuerKeyRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { type AuditLog, discardAudit } from "./audit-log.js";
import { sealGuard } from "./master-key-rotation.js";
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
 * Returns every key and the one to sign with (`signingRecordAt`).
 */
export async function loadOrCreateIssuerKeys(
  store: Store,
  vault: SeedVault,
  nowMs: number,
  backdateMs = 300_000,
): Promise<{ signing: IssuerSigningKey; all: IssuerKeyRecord[] }> {
  const all = await store.transaction(async (tx) => {
    const keys0 = await tx.listIssuerKeys();
    if (keys0.some((k) => k.notBefore <= nowMs && nowMs < k.notAfter)) return keys0;
    const sealer = await sealGuard(tx, vault);
    await tx.lock("paycode:issuer-signing-key");
    const keys = await tx.listIssuerKeys();
    if (keys.some((k) => k.notBefore <= nowMs && nowMs < k.notAfter)) return keys;
    const pair = generateEd25519();
    const keyId = issuerKeyId(pair.publicKey);
    const pkcs8 = pair.privateKey.export({ format: "der", type: "pkcs8" });
    const record: IssuerKeyRecord = {
      keyId,
      publicKey: pair.publicKey,
      privateKeyEnvelope: sealer.seal(new Uint8Array(pkcs8), context(keyId)),
      notBefore: nowMs - KEY_BACKDATE_MS,
      notAfter: nowMs + KEY_LIFETIME_MS,
      createdAt: nowMs,
    };
    await tx.insertIssuerKey(record);
    return [...keys, record];
  });
  const current = signingRecordAt(all, nowMs, backdateMs);
  return { all, signing: openSigningKey(vault, current) };
}

/**
 * The key to sign a certificate made at `nowMs` with: [QR-7] the newest
 * (by not_before) whose validity contains the certificate's not_before,
 * `nowMs − backdateMs`. A key published ahead by a rotation ([KEY-5])
 * takes over only once certificates start inside its validity.
 */
export function signingRecordAt(
  all: readonly IssuerKeyRecord[],
  nowMs: number,
  backdateMs: number,
): IssuerKeyRecord {
  const t = nowMs - backdateMs;
  const usable = all.filter((k) => k.notBefore <= t && t < k.notAfter);
  const pick = (
    usable.length > 0 ? usable : all.filter((k) => k.notBefore <= nowMs && nowMs < k.notAfter)
  )
    .slice()
    .sort((a, b) => b.notBefore - a.notBefore || b.createdAt - a.createdAt)[0];
  if (!pick) throw new Error("no issuer signing key is valid now");
  return pick;
}

/** Decrypts a signing key's private key and checks it against its public key. */
export function openSigningKey(vault: SeedVault, current: IssuerKeyRecord): IssuerSigningKey {
  const privateKey = createPrivateKey({
    key: Buffer.from(vault.open(current.privateKeyEnvelope, context(current.keyId))),
    format: "der",
    type: "pkcs8",
  });
  if (Buffer.compare(ed25519PublicKeyBytes(privateKey), Buffer.from(current.publicKey)) !== 0) {
    throw new Error(`issuer key ${current.keyId}: private key does not match its public key`);
  }
  return {
    keyId: current.keyId,
    publicKey: current.publicKey,
    privateKey,
    notBefore: Math.floor(current.notBefore / 1000),
    notAfter: Math.floor(current.notAfter / 1000),
  };
}

/** How often a running issuer re-reads the issuer keys (a rotation made elsewhere reaches it within this). */
export const KEY_REFRESH_MS = 60_000;

export interface IssuerKeyRotation {
  keyId: string;
  /** When the new key's validity starts (ms); it signs from `notBefore + backdate` on. */
  notBefore: number;
  /** Keys whose validity now ends, so that they sign no more; each stays listed while its certificates are valid. */
  retiring: { keyId: string; notAfter: number }[];
}

/**
 * [KEY-5] [KEY-6] A new issuer signing key, published now and valid from
 * `nowMs + leadMs` (rounded up to a whole second); every older key's
 * validity is cut to end a day after that (the same slack as a first key's
 * back-dating), so it signs until the new key takes over and then only
 * verifies, listed by GetIssuerKeys until the certificates it signed
 * expire ([SETTLE-1]). `leadMs` must be at least the profile's
 * max_key_age_seconds plus `KEY_REFRESH_MS` for [KEY-5] to hold on every
 * server; the Issuer's own method checks it, the operator command warns.
 */
export async function rotateIssuerKey(
  store: Store,
  vault: SeedVault,
  nowMs: number,
  leadMs: number,
  audit: AuditLog = discardAudit,
): Promise<IssuerKeyRotation> {
  if (!Number.isSafeInteger(leadMs)) throw new RangeError("lead must be whole milliseconds");
  const pair = generateEd25519();
  const keyId = issuerKeyId(pair.publicKey);
  const pkcs8 = new Uint8Array(pair.privateKey.export({ format: "der", type: "pkcs8" }));
  const notBefore = Math.ceil((nowMs + leadMs) / 1000) * 1000;
  const retireAt = notBefore + KEY_BACKDATE_MS;
  const retiring = await store.transaction(async (tx) => {
    const sealer = await sealGuard(tx, vault);
    await tx.lock("paycode:issuer-signing-key");
    const out: { keyId: string; notAfter: number }[] = [];
    for (const k of await tx.listIssuerKeys()) {
      if (k.notAfter > retireAt) {
        await tx.setIssuerKeyNotAfter(k.keyId, retireAt);
        out.push({ keyId: k.keyId, notAfter: retireAt });
      }
    }
    await tx.insertIssuerKey({
      keyId,
      publicKey: pair.publicKey,
      privateKeyEnvelope: sealer.seal(pkcs8, context(keyId)),
      notBefore,
      notAfter: notBefore + KEY_LIFETIME_MS,
      createdAt: nowMs,
    });
    return out;
  });
  pkcs8.fill(0);
  await audit.record({
    type: "key.issuer.rotated",
    at: nowMs,
    detail: { keyId, notBefore, retiring: retiring.map((r) => r.keyId).join(",") },
  });
  return { keyId, notBefore, retiring };
}
