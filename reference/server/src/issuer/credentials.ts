/**
 * Merchant and terminal API keys over their lifetime (issue 9 part 3):
 * issue, rotate (a new key, the others valid until a grace deadline) and
 * revoke. These functions work on a `Store` directly, so the operator
 * commands (`paycode credential ...`) run them against a database that
 * servers are using; a running issuer's principal cache stops honouring a
 * revoked or expired key within its TTL ([KEY-1], see `Authentication`).
 *
 * A new key is returned once, in the clear, to be shown to its owner; only
 * its SHA-256 is stored ([AUTH-5]). Audit events name key ids, never keys.
 */
import type { ApiKeyRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { hashBearerKey, newBearerKey } from "./api-keys.js";
import { type AuditLog, discardAudit } from "./audit-log.js";
import { newId } from "./ids.js";
import { notFound } from "./validation.js";

export type CredentialOwnerKind = "merchant" | "terminal";

export interface CredentialOwner {
  kind: CredentialOwnerKind;
  id: string;
}

/** A key just made: `apiKey` is shown once and never stored. */
export interface IssuedApiKey {
  keyId: string;
  apiKey: string;
  owner: CredentialOwner;
}

export interface RotatedApiKey extends IssuedApiKey {
  /** Keys that stop working at `graceDeadline` (ids only). */
  retiring: string[];
  graceDeadline: number;
}

/** The state of a key at `now`, for listing. */
export type ApiKeyState = "active" | "retiring" | "expired" | "revoked";

export function apiKeyState(k: ApiKeyRecord, now: number): ApiKeyState {
  if (k.revokedAt !== null) return "revoked";
  if (k.expiresAt === null) return "active";
  // [KEY-3] The grace deadline is the first instant the key is refused.
  return now < k.expiresAt ? "retiring" : "expired";
}

/** [KEY-1] [KEY-3] Whether a key authenticates at `now`. */
export function apiKeyUsable(k: ApiKeyRecord, now: number): boolean {
  const state = apiKeyState(k, now);
  return state === "active" || state === "retiring";
}

async function requireOwner(store: Store, owner: CredentialOwner): Promise<void> {
  const found = await store.read(
    async (tx): Promise<unknown> =>
      owner.kind === "merchant" ? tx.getMerchant(owner.id) : tx.getTerminal(owner.id),
  );
  if (!found) throw notFound(`${owner.kind} ${owner.id} not found`);
}

/** A usable key of `owner`, as stored: only the key's hash. */
function newKeyRecord(
  owner: CredentialOwner,
  keyId: string,
  apiKey: string,
  now: number,
): ApiKeyRecord {
  return {
    keyId,
    keyHash: hashBearerKey(apiKey),
    ownerKind: owner.kind,
    ownerId: owner.id,
    createdAt: now,
    expiresAt: null,
    revokedAt: null,
  };
}

/** [KEY-2] A further key for the owner; its other keys stay valid. */
export async function issueApiKey(
  store: Store,
  owner: CredentialOwner,
  now: number,
  audit: AuditLog = discardAudit,
): Promise<IssuedApiKey> {
  await requireOwner(store, owner);
  const apiKey = newBearerKey(owner.kind);
  const keyId = newId("ak");
  await store.transaction((tx) => tx.insertApiKey(newKeyRecord(owner, keyId, apiKey, now)));
  await audit.record({
    type: "credential.issued",
    at: now,
    subject: { kind: owner.kind, id: owner.id },
    detail: { keyId },
  });
  return { keyId, apiKey, owner };
}

/**
 * [KEY-2] [KEY-3] A new key for the owner, and every other usable key of the
 * owner retires at `now + graceMs` (0 = at once). Both happen in one
 * transaction, so there is no instant at which the owner has no key.
 */
export async function rotateApiKey(
  store: Store,
  owner: CredentialOwner,
  now: number,
  graceMs: number,
  audit: AuditLog = discardAudit,
): Promise<RotatedApiKey> {
  if (!Number.isSafeInteger(graceMs) || graceMs < 0)
    throw new RangeError("grace must be a whole number of milliseconds ≥ 0");
  await requireOwner(store, owner);
  const apiKey = newBearerKey(owner.kind);
  const keyId = newId("ak");
  const graceDeadline = now + graceMs;
  const retiring = await store.transaction(async (tx) => {
    await tx.insertApiKey(newKeyRecord(owner, keyId, apiKey, now));
    return tx.expireApiKeys(owner.kind, owner.id, graceDeadline, keyId);
  });
  await audit.record({
    type: "credential.rotated",
    at: now,
    subject: { kind: owner.kind, id: owner.id },
    detail: { keyId, retiring: retiring.join(","), graceDeadline },
  });
  return { keyId, apiKey, owner, retiring, graceDeadline };
}

/** [KEY-1] Revokes one key by id; false when it was already revoked. Throws not_found for an unknown id. */
export async function revokeApiKey(
  store: Store,
  keyId: string,
  now: number,
  audit: AuditLog = discardAudit,
): Promise<{ key: ApiKeyRecord; revoked: boolean }> {
  const result = await store.transaction(async (tx) => {
    const key = await tx.getApiKey(keyId);
    if (!key) return undefined;
    return { key, revoked: await tx.revokeApiKey(keyId, now) };
  });
  if (!result) throw notFound(`API key ${keyId} not found`);
  if (result.revoked) {
    await audit.record({
      type: "credential.revoked",
      at: now,
      subject: { kind: result.key.ownerKind, id: result.key.ownerId },
      detail: { keyId },
    });
  }
  return result;
}

/** The owner's keys, oldest first (hashes included; callers print ids and states only). */
export async function listApiKeys(store: Store, owner: CredentialOwner): Promise<ApiKeyRecord[]> {
  await requireOwner(store, owner);
  return store.read((tx) => tx.listApiKeys(owner.kind, owner.id));
}
