/**
 * K_code rotation (issue 9 part 3, spec §12.4 and [KEY-9]). K_code is in
 * every wallet's profile, so a wallet learns a new one only by
 * re-provisioning (which it does at the latest to renew its 30-day
 * certificate). A rotation therefore keeps the previous key for a
 * transition: until its deadline the issuer decodes an online code under
 * the current key and, when that does not give a usable code, under the
 * previous one. The profile's `code_key_version` tells wallets which key
 * they hold. Trying two keys doubles what one guessed code can hit (§12.2),
 * so the transition should be no longer than needed.
 *
 * Settings: "code_key" (current), "code_key_version" (decimal), and during
 * a transition "code_key_previous" and "code_key_previous_until" (ms).
 */
import { randomBytes } from "node:crypto";
import type { Store, Tx } from "../store/store.js";
import { type AuditLog, discardAudit } from "./audit-log.js";

const enc = (n: number) => new TextEncoder().encode(String(n));
const dec = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : Number(new TextDecoder().decode(b));

export interface CodeKeyState {
  codeKey: Uint8Array;
  version: number;
  /** The key before the last rotation, accepted until `previousUntil` (ms, exclusive). */
  previous?: { codeKey: Uint8Array; until: number };
}

/** The code keys in force at `nowMs` (a previous key past its deadline is left out). */
export async function readCodeKeys(tx: Tx, nowMs: number): Promise<CodeKeyState> {
  const codeKey = await tx.getSetting("code_key");
  if (!codeKey) throw new Error("this database has no code key");
  const version = dec(await tx.getSetting("code_key_version")) ?? 1;
  const previous = await tx.getSetting("code_key_previous");
  const until = dec(await tx.getSetting("code_key_previous_until"));
  return previous !== undefined && until !== undefined && nowMs < until
    ? { codeKey, version, previous: { codeKey: previous, until } }
    : { codeKey, version };
}

export interface CodeKeyRotation {
  version: number;
  /** Until when codes under the previous key are accepted (ms, exclusive). */
  previousUntil: number;
}

/**
 * [KEY-9] A new random K_code, version + 1; the key it replaces is accepted
 * for `transitionMs` more (0 = not at all: every wallet must re-provision
 * before its online codes pay again).
 */
export async function rotateCodeKey(
  store: Store,
  nowMs: number,
  transitionMs: number,
  audit: AuditLog = discardAudit,
): Promise<CodeKeyRotation> {
  if (!Number.isSafeInteger(transitionMs) || transitionMs < 0)
    throw new RangeError("transition must be whole milliseconds ≥ 0");
  const fresh = new Uint8Array(randomBytes(32));
  const r = await store.transaction(async (tx) => {
    await tx.lock("paycode:code-key");
    const current = await readCodeKeys(tx, nowMs);
    const version = current.version + 1;
    await tx.putSetting("code_key_previous", current.codeKey);
    await tx.putSetting("code_key_previous_until", enc(nowMs + transitionMs));
    await tx.putSetting("code_key", fresh);
    await tx.putSetting("code_key_version", enc(version));
    return { version, previousUntil: nowMs + transitionMs };
  });
  await audit.record({
    type: "key.code.rotated",
    at: nowMs,
    detail: { version: r.version, previousUntil: r.previousUntil },
  });
  return r;
}
