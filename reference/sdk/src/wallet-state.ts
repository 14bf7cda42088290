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

import { validateWalletState, type WalletState, type WalletStateStore } from "./wallet-store.js";

export {
  MemoryWalletStateStore,
  validateWalletState,
  type WalletState,
  type WalletStateStore,
} from "./wallet-store.js";

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
