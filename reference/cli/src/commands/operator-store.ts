import { existsSync } from "node:fs";
import { systemClock } from "@paycode/protocol";
import { CliError, UsageError } from "@paycode/sdk/cli";
import {
  type AuditEvent,
  type AuditLog,
  auditJson,
  auditRow,
  openStore,
  parseStoreUrl,
  redactStoreUrl,
  type Store,
} from "@paycode/server";
import type { Command } from "commander";

/** Options every operator command takes. */
export interface OperatorStoreOptions {
  store: string;
}

export const EXIT_STATUS_HELP = `
Exit status: 0 done; 1 the command failed (store unreachable, unknown id,
wrong master key, ...; nothing was changed); 2 the command line is wrong.`;

/** `--store`, as `paycode serve` takes it. */
export function addStoreOption(cmd: Command): Command {
  return cmd.option("--store <url>", "sqlite:FILE or postgres://USER@HOST/DB", "sqlite:paycode.db");
}

/**
 * Operator commands work on the store directly (not over RPC): servers
 * sharing it see the change within their cache bounds. Runs `fn` and closes
 * the store whatever happens. A SQLite file that does not exist is an error,
 * not a new empty store: a mistyped path must not look like an empty issuer.
 */
export async function withStore<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  let location: ReturnType<typeof parseStoreUrl>;
  try {
    location = parseStoreUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (location.kind === "sqlite" && location.file !== ":memory:" && !existsSync(location.file)) {
    throw new CliError(`no store at ${location.file}`);
  }
  let store: Store;
  try {
    store = await openStore(location.url);
  } catch (err) {
    throw new CliError(
      `cannot open store ${redactStoreUrl(location.url)}: ${(err as Error).message}`,
    );
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Where an operator command reports its security events (ids only, never key
 * material): the store's audit log, which `paycode audit` queries with the
 * servers' events, and a JSON line on stderr, "paycode audit: {...}", for
 * whoever ran the command.
 */
export function operatorAudit(store: Store): AuditLog {
  return {
    async record(event: AuditEvent): Promise<void> {
      await store.transaction((tx) => tx.insertAuditEvents([auditRow(event)]));
      process.stderr.write(`paycode audit: ${auditJson(event)}\n`);
    },
  };
}

export const operatorClock = systemClock;
