// `paycode master-key`, `paycode issuer-key`: an operator's key rotations (issue 9 part 3).

import { CliError } from "@paycode/sdk/cli";
import {
  issuerKeyEntry,
  MASTER_KEY_ENV,
  parseStoreUrl,
  readCodeKeys,
  readMasterKeyFile,
  resolveMasterKey,
  rotateCodeKey,
  rotateIssuerKey,
  rotateMasterKey,
  SeedVault,
  writeNewMasterKeyFile,
} from "@paycode/server";
import { type Command, InvalidArgumentError } from "commander";
import {
  addStoreOption,
  EXIT_STATUS_HELP,
  operatorAudit,
  operatorClock,
  withStore,
} from "./operator-store.js";

function parseDuration(value: string): number {
  const m = /^(\d{1,9})(s|m|h|d)?$/.exec(value);
  if (value === "0") return 0;
  if (!m) throw new InvalidArgumentError("expected a duration such as 90s, 30m, 25h or 2d");
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "s"]!;
  return Number(m[1]) * unit;
}

/** The master key in force, found as `paycode serve` finds it. */
function currentMasterKey(store: string, file: string | undefined): Uint8Array {
  const location = parseStoreUrl(store);
  const r = resolveMasterKey({
    file,
    env: process.env[MASTER_KEY_ENV],
    sqliteFile: location.kind === "sqlite" ? location.file : undefined,
  });
  if (r.source === "ephemeral")
    throw new CliError("an in-memory store has no master key to rotate");
  return r.key;
}

const MASTER_KEY_HELP = `--master-key-file, else $${MASTER_KEY_ENV}, else (SQLite) <db file>.master-key, as for serve`;

/** Registers `paycode master-key`. */
export function registerMasterKey(program: Command): void {
  const cmd = program
    .command("master-key")
    .description(
      "operator: make a new master key file, or re-seal every secret under a new master key",
    );

  cmd
    .command("generate")
    .description("write a new random master key to a new file (mode 0600)")
    .argument("<file>", "the file to create (must not exist)")
    .addHelpText("after", EXIT_STATUS_HELP)
    .action((file: string) => {
      writeNewMasterKeyFile(file);
      console.log(`wrote a new master key to ${file} (mode 0600)`);
    });

  addStoreOption(cmd.command("rotate"))
    .description(
      "re-seal every wallet seed and issuer private key under a new master key, in one transaction",
    )
    .option("--master-key-file <file>", `the current master key (${MASTER_KEY_HELP})`)
    .requiredOption(
      "--new-key-file <file>",
      "the new master key (see master-key generate); mode 0600",
    )
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}
All secrets are re-sealed in one transaction: on any failure nothing changes.
Key files that other users can read are refused.
Without downtime: (1) restart the servers with --extra-master-key-file NEW;
(2) run this command; (3) restart them with --master-key-file NEW alone.
A server holding only the old key refuses to provision after step 2.`,
    )
    .action(async (opts: { store: string; masterKeyFile?: string; newKeyFile: string }) => {
      const oldKey = currentMasterKey(opts.store, opts.masterKeyFile);
      const newKey = readMasterKeyFile(opts.newKeyFile);
      const r = await withStore(opts.store, async (store) => {
        try {
          return await rotateMasterKey(store, oldKey, newKey, operatorClock.now(), {
            audit: operatorAudit(store),
          });
        } catch (err) {
          throw new CliError(`master key not rotated, nothing changed: ${(err as Error).message}`);
        }
      });
      console.log(
        `re-sealed ${r.wallets} wallet seeds and ${r.issuerKeys} issuer keys under the new master key (one transaction)`,
      );
    });
}

/** Registers `paycode issuer-key`. */
export function registerIssuerKey(program: Command): void {
  const cmd = program
    .command("issuer-key")
    .description(
      "operator: list the issuer signing keys, or publish the next one ahead of signing with it",
    );

  addStoreOption(cmd.command("list"))
    .description("the issuer signing keys: ids, validity, and which signs now")
    .option("--json", "print as JSON")
    .addHelpText("after", EXIT_STATUS_HELP)
    .action(async (opts: { store: string; json?: boolean }) => {
      const keys = await withStore(opts.store, (store) => store.read((tx) => tx.listIssuerKeys()));
      const now = operatorClock.now();
      const rows = keys.map((k) => {
        const e = issuerKeyEntry(k);
        return {
          keyId: k.keyId,
          notBefore: new Date(e.notBefore * 1000).toISOString(),
          notAfter: new Date(e.notAfter * 1000).toISOString(),
          state: now < k.notBefore ? "next" : now < k.notAfter ? "valid" : "retired",
        };
      });
      if (opts.json) console.log(JSON.stringify(rows));
      else
        for (const r of rows)
          console.log(`${r.keyId}  ${r.state.padEnd(7)} ${r.notBefore} .. ${r.notAfter}`);
    });

  addStoreOption(cmd.command("rotate"))
    .description(
      "publish a new issuer signing key now; it signs after --lead, the old keys then only verify",
    )
    .option("--master-key-file <file>", `the master key (${MASTER_KEY_HELP})`)
    .option(
      "--lead <duration>",
      "how long the new key is listed before it signs: at least max_key_age_seconds + 60 s",
      parseDuration,
      25 * 3_600_000,
    )
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}
Terminals accept offline codes with keys up to max_key_age_seconds old, so the
new key must be listed that long before it signs (default lead 25h, for the
default max_key_age_seconds of 24h). Running servers pick the key up within
60 s, and switch to it when its validity starts; old keys stay listed until
the certificates they signed expire.`,
    )
    .action(async (opts: { store: string; masterKeyFile?: string; lead: number }) => {
      const vault = new SeedVault(currentMasterKey(opts.store, opts.masterKeyFile));
      const r = await withStore(opts.store, (store) =>
        rotateIssuerKey(store, vault, operatorClock.now(), opts.lead, operatorAudit(store)),
      );
      console.log(
        `issuer key ${r.keyId} listed now, signs from ${new Date(r.notBefore).toISOString()} (+ certificate back-dating)`,
      );
      for (const k of r.retiring) {
        console.log(
          `  ${k.keyId} signs until then, verifies until ${new Date(k.notAfter).toISOString()} + certificate validity`,
        );
      }
    });
}

/** Registers `paycode code-key`. */
export function registerCodeKey(program: Command): void {
  const cmd = program
    .command("code-key")
    .description(
      "operator: rotate K_code (the online code key) with a transition, or show its version",
    );

  addStoreOption(cmd.command("show"))
    .description("the code key's version and any transition in progress (never the key)")
    .addHelpText("after", EXIT_STATUS_HELP)
    .action(async (opts: { store: string }) => {
      const now = operatorClock.now();
      const k = await withStore(opts.store, (store) => store.read((tx) => readCodeKeys(tx, now)));
      console.log(`code_key_version ${k.version}`);
      if (k.previous) {
        console.log(
          `codes under version ${k.version - 1} accepted until ${new Date(k.previous.until).toISOString()}`,
        );
      }
    });

  addStoreOption(cmd.command("rotate"))
    .description(
      "a new K_code (code_key_version + 1); codes under the previous one pay until --transition has passed",
    )
    .option(
      "--transition <duration>",
      "how long codes under the previous K_code still pay: 0, 30m, 24h, 30d",
      parseDuration,
      30 * 86_400_000,
    )
    .addHelpText(
      "after",
      `${EXIT_STATUS_HELP}
Wallets receive K_code only when they provision (ProvisionSeed), at the latest
when they renew their 30-day certificate; the default transition of 30 days
lets every such wallet move over before its old codes stop paying. During the
transition a scanned code is tried under both keys, which doubles what one
guessed code can hit (spec §12.2). Running servers switch within 60 s.`,
    )
    .action(async (opts: { store: string; transition: number }) => {
      const r = await withStore(opts.store, (store) =>
        rotateCodeKey(store, operatorClock.now(), opts.transition, operatorAudit(store)),
      );
      console.log(
        `code_key_version ${r.version}; codes under version ${r.version - 1} accepted until ${new Date(r.previousUntil).toISOString()}`,
      );
    });
}
