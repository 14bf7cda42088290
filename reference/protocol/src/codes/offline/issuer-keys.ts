import type { IssuerKey } from "../../gen/paycode/v1/offline_code_pb.js";
import { type Ed25519PublicKey, ed25519PublicKeyObject } from "./ed25519.js";

/** An issuer certificate-signing key as verifiers know it. Times are Unix seconds. */
export interface IssuerKeyEntry {
  keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** Certificates whose not_before is at or after this are accepted (inclusive). */
  notBefore: number;
  /** ... and before this (exclusive). */
  notAfter: number;
}

/** The entry for an `IssuerKey` message (as GetIssuerKeys returns it). */
export function issuerKeyEntryFromProto(key: IssuerKey): IssuerKeyEntry {
  return {
    keyId: key.keyId,
    publicKey: key.publicKey,
    notBefore: Number(key.notBefore),
    notAfter: Number(key.notAfter),
  };
}

interface LoadedKey {
  readonly key: Ed25519PublicKey;
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Issuer keys indexed by key id, with their backend key objects (node:crypto KeyObjects on Node.js) built
 * once. Several entries may share an id (a re-keyed id with disjoint
 * validity); all of them are tried.
 */
export class IssuerKeySet {
  private readonly byId = new Map<string, LoadedKey[]>();

  /** Throws on a key that is not 32 bytes: a configuration error, not input. */
  constructor(keys: readonly IssuerKeyEntry[]) {
    for (const k of keys) {
      const loaded = {
        key: ed25519PublicKeyObject(k.publicKey),
        notBefore: k.notBefore,
        notAfter: k.notAfter,
      };
      const list = this.byId.get(k.keyId);
      if (list) list.push(loaded);
      else this.byId.set(k.keyId, [loaded]);
    }
  }

  /**
   * The keys named `keyId` whose validity [notBefore, notAfter) contains
   * `certNotBefore`; empty when there is none.
   */
  keysFor(keyId: string, certNotBefore: number): Ed25519PublicKey[] {
    const list = this.byId.get(keyId);
    if (list === undefined) return [];
    const out: Ed25519PublicKey[] = [];
    for (const k of list) {
      if (k.notBefore <= certNotBefore && certNotBefore < k.notAfter) out.push(k.key);
    }
    return out;
  }
}
