// `paycode audit`: query the security audit log a server keeps in its store.

import { CliError, UsageError } from "@paycode/sdk/cli";
import { type AuditQuery, auditJson } from "@paycode/server";
import { type Command, InvalidArgumentError } from "commander";
import { run } from "./client-common.js";
import { withStore } from "./operator-store.js";

interface AuditOptions {
  store: string;
  since?: string;
  until?: string;
  type?: string;
  subject?: string;
  afterId?: number;
  limit?: number;
}

const UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** An ISO 8601 time with a zone, or a duration back from `now` such as 30m, 12h, 7d. */
export function parseAuditTime(value: string, now: number): number {
  const rel = /^(\d{1,6})([smhd])$/.exec(value);
  if (rel !== null) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  const ms = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.test(value)
    ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)
    : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `bad time "${value}": expected ISO 8601 with a zone (2026-01-01T12:00:00Z), a UTC day (2026-01-01), or an age such as 30m, 12h, 7d`,
    );
  }
  return ms;
}

function count(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d{1,12}$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(value);
  };
}

const HELP = `
Prints the matching events as JSON lines, oldest first:
  {"id":7,"time":"2026-03-02T08:00:00.000Z","at":1772438400000,"type":"auth.failed",
   "detail":{"kind":"merchant","rpc":"paycode.v1.MerchantService.Scan","peer":"10.0.0.9",
             "credential":"invalid","count":1}}
Event types: auth.failed, wallet.provisioned, wallet.revoked, credential.created,
server.started, server.test_control_enabled, server.mutant_enabled, server.stopped,
audit.dropped, and those of throttles, lockouts and key changes (docs/audit-log.md).
Times: ISO 8601 with a zone, a UTC day (2026-03-02), or an age back from now (30m, 12h, 7d).
No event contains a secret. The store is opened as by serve (migrated to this
version if older); a SQLite file that does not exist is an error.

Exit status:
  0  the query ran (also when nothing matched)
  1  the store cannot be opened or read (one line on stderr)
  2  the command line is wrong: unknown option, bad time, ...`;

/** Registers `paycode audit`. */
export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("query the security audit log a server keeps in its store (JSON lines)")
    .option("--store <url>", "sqlite:FILE or postgres://USER@HOST/DB", "sqlite:paycode.db")
    .option("--since <time>", "events at or after this time")
    .option("--until <time>", "events before this time")
    .option("--type <type>", 'one type (auth.failed), or a family ending in "." (auth.)')
    .option("--subject <kind[:id]>", "events about this subject, e.g. wallet:w_123 or merchant")
    .option("--after-id <id>", "events after this id (to page or to follow)", count("--after-id"))
    .option("--limit <n>", "at most this many events", count("--limit"))
    .addHelpText("after", HELP)
    .action(run(audit));
}

async function audit(opts: AuditOptions): Promise<void> {
  const now = Date.now();
  const query: AuditQuery = {};
  if (opts.since !== undefined) query.since = parseAuditTime(opts.since, now);
  if (opts.until !== undefined) query.until = parseAuditTime(opts.until, now);
  if (opts.type !== undefined) query.type = opts.type;
  if (opts.subject !== undefined) {
    const i = opts.subject.indexOf(":");
    const kind = i < 0 ? opts.subject : opts.subject.slice(0, i);
    if (kind === "") throw new UsageError("--subject needs a kind, e.g. wallet or wallet:w_123");
    query.subjectKind = kind;
    if (i >= 0) query.subjectId = opts.subject.slice(i + 1);
  }
  if (opts.afterId !== undefined) query.afterId = opts.afterId;
  await withStore(opts.store, async (store) => {
    try {
      // Pages of 1000 by id, so a long log streams out in bounded memory.
      let left = opts.limit ?? Number.POSITIVE_INFINITY;
      let after = query.afterId;
      while (left > 0) {
        const page = await store.read((tx) =>
          tx.listAuditEvents({
            ...query,
            ...(after !== undefined ? { afterId: after } : {}),
            limit: Math.min(1000, left),
          }),
        );
        for (const r of page) {
          const line = auditJson(
            {
              type: r.type,
              at: r.at,
              ...(r.subjectKind !== null && r.subjectId !== null
                ? { subject: { kind: r.subjectKind, id: r.subjectId } }
                : {}),
              ...(r.detail !== null ? { detail: r.detail } : {}),
            },
            r.id,
          );
          if (!process.stdout.write(`${line}\n`)) {
            await new Promise((resolve) => process.stdout.once("drain", resolve));
          }
        }
        left -= page.length;
        if (page.length < 1000) break;
        after = page.at(-1)!.id;
      }
    } catch (err) {
      throw new CliError(`cannot read the audit log: ${(err as Error).message}`);
    }
  });
}
