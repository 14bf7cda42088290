// The wallet state and the stores that need no Node.js module (shared by
// the Node.js and browser entries of the SDK).

/**
 * Everything a wallet keeps between runs. Binary values are base64;
 * protobuf messages are stored as their serialized bytes so they come back
 * exactly as the issuer sent them.
 */
export interface WalletState {
  version: 1;
  /** Informational: the server the wallet was provisioned from. */
  serverUrl?: string;
  accountId: string;
  walletId: string;
  /** 28-bit handle carried inside online codes. */
  handle: number;
  /** base64 of the 32-byte online-code seed. */
  seed: string;
  /** base64 of the 32-byte Ed25519 private seed of the offline-code key. */
  walletKeySeed: string;
  /** base64 of the serialized WalletCertificate. */
  certificate: string;
  /** base64 of the serialized IssuerProfile. */
  profile: string;
  /** base64 of the serialized WalletLimits. */
  limits: string;
  /** Bearer token for the wallet's online calls. */
  token: string;
  /** Issuer clock minus wallet clock at provisioning, in ms. */
  clockOffsetMs: number;
  /** Issuer time of provisioning, Unix ms. */
  provisionedAt: number;
  /** Last time step an online code was made for; -1 before the first. */
  onlineStep: number;
  /** Next unused counter (0..8) within `onlineStep`. */
  onlineNextCounter: number;
  /** Next unused offline counter, a decimal uint64. */
  offlineNextCounter: string;
}

/**
 * Where a wallet keeps its state. `update` is the only way counters move:
 * it must read the current state, apply `fn` and make the result durable
 * before returning, excluding concurrent updaters where the medium can, so
 * a counter never goes backwards.
 */
export interface WalletStateStore {
  load(): WalletState | undefined;
  update(fn: (current: WalletState | undefined) => WalletState): WalletState;
}

/** Keeps the state in memory (tests, the conformance harness). */
export class MemoryWalletStateStore implements WalletStateStore {
  private state: WalletState | undefined;

  constructor(initial?: WalletState) {
    this.state = initial === undefined ? undefined : structuredClone(initial);
  }

  load(): WalletState | undefined {
    return this.state === undefined ? undefined : structuredClone(this.state);
  }

  update(fn: (current: WalletState | undefined) => WalletState): WalletState {
    const next = validateWalletState(fn(this.load()));
    this.state = structuredClone(next);
    return structuredClone(next);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks the shape of a stored wallet state; throws a message naming the bad field. */
export function validateWalletState(value: unknown): WalletState {
  if (typeof value !== "object" || value === null) throw new Error("not an object");
  const s = value as Record<string, unknown>;
  const fail = (field: string): never => {
    throw new Error(`bad or missing field ${field}`);
  };
  if (s["version"] !== 1) fail("version");
  for (const f of ["accountId", "walletId", "token"]) {
    if (typeof s[f] !== "string" || s[f] === "") fail(f);
  }
  for (const f of ["seed", "walletKeySeed", "certificate", "profile", "limits"]) {
    if (typeof s[f] !== "string" || !BASE64.test(s[f] as string)) fail(f);
  }
  if (s["serverUrl"] !== undefined && typeof s["serverUrl"] !== "string") fail("serverUrl");
  const int = (f: string, min: number, max: number) => {
    const v = s[f];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) fail(f);
  };
  int("handle", 0, 2 ** 28 - 1);
  int("clockOffsetMs", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  int("provisionedAt", 0, Number.MAX_SAFE_INTEGER);
  int("onlineStep", -1, Number.MAX_SAFE_INTEGER);
  int("onlineNextCounter", 0, 8);
  const off = s["offlineNextCounter"];
  if (typeof off !== "string" || !/^\d{1,20}$/.test(off) || BigInt(off) >= 1n << 64n) {
    fail("offlineNextCounter");
  }
  return s as unknown as WalletState;
}
