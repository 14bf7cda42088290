import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

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

export interface JsonFileWalletStateStoreOptions {
  /** How long to wait for another process's lock; default 5000 ms. */
  lockTimeoutMs?: number;
  /** A lock file older than this is assumed left by a crash; default 30000 ms. */
  staleLockMs?: number;
}

/**
 * Keeps the state in a JSON file (mode 0600, it holds secrets). Writes go
 * to a temporary file that is fsynced and renamed over the old one, then the
 * directory is fsynced, so a crash leaves either the old or the new state,
 * never a torn one. A lock file serialises updates from several processes.
 */
export class JsonFileWalletStateStore implements WalletStateStore {
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(
    readonly path: string,
    options: JsonFileWalletStateStoreOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  load(): WalletState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`wallet state file ${this.path} is not valid JSON`);
    }
    try {
      return validateWalletState(parsed);
    } catch (err) {
      throw new Error(`wallet state file ${this.path} is invalid: ${(err as Error).message}`);
    }
  }

  update(fn: (current: WalletState | undefined) => WalletState): WalletState {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const release = this.lock();
    try {
      const next = validateWalletState(fn(this.load()));
      this.write(next);
      return next;
    } finally {
      release();
    }
  }

  private write(state: WalletState): void {
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, this.path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    fsyncDirectory(dirname(this.path));
  }

  private lock(): () => void {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        closeSync(openSync(lockPath, "wx", 0o600));
        return () => rmSync(lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > this.staleLockMs) {
          unlinkSync(lockPath);
          continue;
        }
      } catch {
        continue; // the holder released it between our two calls
      }
      if (Date.now() > deadline) {
        throw new Error(`wallet state ${this.path} is locked by another process (${lockPath})`);
      }
      // Wallet updates take milliseconds; a short synchronous pause keeps the API sync.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
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
