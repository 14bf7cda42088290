import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { CliError, UsageError } from "@paycode/sdk/cli";

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_ENV = "PAYCODE_MASTER_KEY";

export interface ResolvedMasterKey {
  key: Uint8Array;
  /** Where it came from, for the start-up line. */
  source: "env" | "file" | "dev-file" | "ephemeral";
  /** A warning to print once, when the key is a development convenience. */
  warning?: string;
}

export interface MasterKeyInput {
  /** `--master-key-file`. */
  file?: string;
  /** The value of PAYCODE_MASTER_KEY. */
  env?: string;
  /** The SQLite database file, or ":memory:"; undefined for PostgreSQL. */
  sqliteFile?: string;
}

function parseHexKey(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new UsageError(`${where} must be 64 hex characters (a 32-byte key)`);
  }
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/**
 * A key file that others can read is a key others have: refuse it rather
 * than warn, so a deployment cannot run with it by accident. (Windows has
 * no POSIX modes; there the check is the operator's.)
 */
function refuseSharedKeyFile(path: string, what: string): void {
  if (process.platform === "win32") return;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return; // unreadable: readKeyFile reports it
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(
      `${what} ${path} is accessible to other users (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}`,
    );
  }
}

function readKeyFile(path: string, what: string): Uint8Array {
  refuseSharedKeyFile(path, what);
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  // 32 raw bytes, or 64 hex characters (with optional trailing newline).
  if (raw.length === MASTER_KEY_BYTES && !/^[0-9a-fA-F\s]*$/.test(raw.toString("latin1"))) {
    return new Uint8Array(raw);
  }
  return parseHexKey(raw.toString("latin1"), `${what} ${path}`);
}

/**
 * A master key from a file (32 raw bytes or 64 hex characters) that only
 * its owner can read: the extra key of `serve --extra-master-key-file`
 * and the keys of `paycode master-key rotate`.
 */
export function readMasterKeyFile(path: string): Uint8Array {
  return readKeyFile(path, "master key file");
}

/**
 * Writes a new random master key to `path` (64 hex characters), created
 * with mode 0600 and never overwriting a file; returns the key.
 */
export function writeNewMasterKeyFile(path: string): Uint8Array {
  const key = new Uint8Array(randomBytes(MASTER_KEY_BYTES));
  try {
    writeFileSync(path, `${Buffer.from(key).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  } catch (err) {
    throw new CliError(
      `cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? err} (it must not exist)`,
    );
  }
  return key;
}

/**
 * The master key that wraps every seed's data key. Order: `--master-key-file`,
 * then PAYCODE_MASTER_KEY. Without either, a SQLite store gets a development
 * key generated once into `<db>.master-key` (mode 0600) next to the
 * database; PostgreSQL — shared by many servers — must be given one.
 */
export function resolveMasterKey(input: MasterKeyInput): ResolvedMasterKey {
  if (input.file !== undefined)
    return { key: readKeyFile(input.file, "master key file"), source: "file" };
  if (input.env !== undefined && input.env !== "") {
    return { key: parseHexKey(input.env, MASTER_KEY_ENV), source: "env" };
  }
  if (input.sqliteFile === undefined) {
    throw new UsageError(
      `a PostgreSQL store needs a master key: set ${MASTER_KEY_ENV} (64 hex characters) or pass --master-key-file`,
    );
  }
  if (input.sqliteFile === ":memory:") {
    return {
      key: new Uint8Array(randomBytes(MASTER_KEY_BYTES)),
      source: "ephemeral",
      warning: "using a throwaway master key for an in-memory store (development only)",
    };
  }
  const path = `${input.sqliteFile}.master-key`;
  let exists = false;
  try {
    statSync(path);
    exists = true;
  } catch {}
  if (exists) {
    return {
      key: readKeyFile(path, "development master key"),
      source: "dev-file",
      warning: `using the development master key in ${path}; for production set ${MASTER_KEY_ENV} or --master-key-file`,
    };
  }
  const key = new Uint8Array(randomBytes(MASTER_KEY_BYTES));
  try {
    // "wx": never overwrite a key another process wrote a moment ago.
    writeFileSync(path, `${Buffer.from(key).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      return resolveMasterKey(input);
    }
    throw new CliError(
      `cannot write the development master key ${path}: ${(err as Error).message}`,
    );
  }
  return {
    key,
    source: "dev-file",
    warning: `generated a development master key in ${path} (mode 0600); for production set ${MASTER_KEY_ENV} or --master-key-file`,
  };
}
