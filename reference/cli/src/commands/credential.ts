// `paycode credential`: an operator's merchant and terminal API keys (issue 9 part 3).

import { closeSync, openSync, writeSync } from "node:fs";
import { CliError, UsageError } from "@paycode/sdk/cli";
import {
  apiKeyState,
  type CredentialOwner,
  issueApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from "@paycode/server";
import { type Command, InvalidArgumentError } from "commander";
import {
  addStoreOption,
  EXIT_STATUS_HELP,
  operatorAudit,
  operatorClock,
  withStore,
} from "./operator-store.js";

interface OwnerOptions {
  store: string;
  merchant?: string;
  terminal?: string;
  keyFile?: string;
  json?: boolean;
}

function ownerOf(opts: OwnerOptions): CredentialOwner {
  if ((opts.merchant === undefined) === (opts.terminal === undefined)) {
    throw new UsageError("give exactly one of --merchant ID and --terminal ID");
  }
  return opts.merchant !== undefined
    ? { kind: "merchant", id: opts.merchant }
    : { kind: "terminal", id: opts.terminal! };
}

function parseGrace(value: string): number {
  const m = /^(\d{1,9})(s|m|h|d)?$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected a duration such as 0, 90s, 30m, 24h or 7d");
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "s"]!;
  return Number(m[1]) * unit;
}

/**
 * Shows a new key once: into `--key-file` (created, mode 0600, never
 * overwriting), or on stdout. The store keeps only its hash.
 */
export function deliverSecret(secret: string, keyFile: string | undefined): string {
  if (keyFile === undefined) return secret;
  let fd: number;
  try {
    fd = openSync(keyFile, "wx", 0o600);
  } catch (err) {
    throw new CliError(
      `cannot create ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? err} (it must not exist)`,
    );
  }
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  return `(written to ${keyFile}, mode 0600)`;
}

function ownerFlags(cmd: Command): Command {
  return addStoreOption(cmd)
    .option("--merchant <id>", "the merchant whose keys")
    .option("--terminal <id>", "the terminal whose keys");
}

/** Registers `paycode credential`. */
export function registerCredential(program: Command): void {
  const credential = program
    .command("credential")
    .description(
      "operator: issue, rotate, revoke and list merchant and terminal API keys (works on the store)",
    );

  ownerFlags(credential.command("issue"))
    .description("a further API key for a merchant or terminal; its other keys stay valid")
    .option("--key-file <file>", "write the new key to this new file (mode 0600) instead of stdout")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}\nThe new key is shown once; only its hash is stored.`,
    )
    .action(async (opts: OwnerOptions) => {
      const owner = ownerOf(opts);
      const issued = await withStore(opts.store, (store) =>
        issueApiKey(store, owner, operatorClock.now(), operatorAudit(store)),
      );
      const shown = deliverSecret(issued.apiKey, opts.keyFile);
      if (opts.json) console.log(JSON.stringify({ keyId: issued.keyId, apiKey: shown }));
      else console.log(`key ${issued.keyId} for ${owner.kind} ${owner.id}: ${shown}`);
    });

  ownerFlags(credential.command("rotate"))
    .description(
      "a new API key for a merchant or terminal; its other keys keep working until --grace has passed",
    )
    .option(
      "--grace <duration>",
      "how long the old keys keep working: 0, 90s, 30m, 24h, 7d",
      parseGrace,
      86_400_000,
    )
    .option("--key-file <file>", "write the new key to this new file (mode 0600) instead of stdout")
    .option("--json", "print as JSON")
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}\nThe new key is shown once; only its hash is stored. Servers refuse the old
keys from the grace deadline on, exactly (default grace: 24h).`,
    )
    .action(async (opts: OwnerOptions & { grace: number }) => {
      const owner = ownerOf(opts);
      const rotated = await withStore(opts.store, (store) =>
        rotateApiKey(store, owner, operatorClock.now(), opts.grace, operatorAudit(store)),
      );
      const shown = deliverSecret(rotated.apiKey, opts.keyFile);
      const deadline = new Date(rotated.graceDeadline).toISOString();
      if (opts.json) {
        console.log(
          JSON.stringify({
            keyId: rotated.keyId,
            apiKey: shown,
            retiring: rotated.retiring,
            graceDeadline: deadline,
          }),
        );
      } else {
        console.log(`key ${rotated.keyId} for ${owner.kind} ${owner.id}: ${shown}`);
        const old = rotated.retiring.length > 0 ? rotated.retiring.join(", ") : "none";
        console.log(`retiring at ${deadline}: ${old}`);
      }
    });

  addStoreOption(credential.command("revoke"))
    .description("revoke one API key by its id (see credential list)")
    .argument("<key-id>", "the key's id, e.g. ak_... or ak-m_...")
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}\nServers sharing the store refuse the key within their principal cache TTL
(30 s by default); a key already revoked is reported and left alone.`,
    )
    .action(async (keyId: string, opts: { store: string }) => {
      const { key, revoked } = await withStore(opts.store, (store) =>
        revokeApiKey(store, keyId, operatorClock.now(), operatorAudit(store)),
      );
      console.log(
        revoked
          ? `revoked ${keyId} (${key.ownerKind} ${key.ownerId})`
          : `${keyId} (${key.ownerKind} ${key.ownerId}) was already revoked`,
      );
    });

  ownerFlags(credential.command("list"))
    .description("the API keys of a merchant or terminal: ids, states and times (never the keys)")
    .option("--json", "print as JSON")
    .addHelpText("after", EXIT_STATUS_HELP)
    .action(async (opts: OwnerOptions) => {
      const owner = ownerOf(opts);
      const keys = await withStore(opts.store, (store) => listApiKeys(store, owner));
      const now = operatorClock.now();
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      const rows = keys.map((k) => ({
        keyId: k.keyId,
        state: apiKeyState(k, now),
        createdAt: iso(k.createdAt),
        expiresAt: iso(k.expiresAt),
        revokedAt: iso(k.revokedAt),
      }));
      if (opts.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      for (const r of rows) {
        const until = r.revokedAt
          ? ` revoked ${r.revokedAt}`
          : r.expiresAt
            ? ` until ${r.expiresAt}`
            : "";
        console.log(`${r.keyId.padEnd(28)} ${r.state.padEnd(9)} created ${r.createdAt}${until}`);
      }
    });
}
