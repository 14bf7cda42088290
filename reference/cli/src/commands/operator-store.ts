import { systemClock } from "@paycode/protocol";
import { CliError } from "@paycode/sdk/cli";
import {
  type AuditEvent,
  type AuditLog,
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
 * the store whatever happens.
 */
export async function withStore<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const location = parseStoreUrl(url);
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
 * Operator commands report their security events (ids only, never key
 * material) as JSON lines on stderr, "paycode audit: {...}", for the
 * operator's log collector.
 */
export const stderrAudit: AuditLog = {
  async record(event: AuditEvent): Promise<void> {
    process.stderr.write(`paycode audit: ${JSON.stringify(event)}\n`);
  },
};

export const operatorClock = systemClock;
