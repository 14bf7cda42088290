import { readFileSync } from "node:fs";
import { OffsetClock, systemClock } from "@paycode/protocol";
import { CliError, UsageError } from "@paycode/sdk/cli";
import {
  AuditPipeline,
  type AuditSink,
  FileAuditLog,
  Issuer,
  isMutantName,
  MASTER_KEY_ENV,
  MUTANT_NAMES,
  openStore,
  type PaycodeServer,
  parseCorsOrigin,
  parseStoreUrl,
  readMasterKeyFile,
  redactStoreUrl,
  resolveMasterKey,
  ruleSwitches,
  StoreAuditLog,
  StreamAuditLog,
  startServer,
} from "@paycode/server";
import { type Command, InvalidArgumentError, Option } from "commander";

export interface ServeOptions {
  store: string;
  host: string;
  port: number;
  httpVersion: "1.1" | "2";
  http?: "1.1" | "2";
  enableTestControl?: boolean;
  reflection?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  masterKeyFile?: string;
  extraMasterKeyFile?: string;
  mutant?: string;
  pgPoolSize?: number;
  pgBatches?: number;
  corsOrigin?: string[];
  clockStart?: number;
  auditLog?: string;
  auditFsync?: boolean;
  auditStore?: boolean;
  auditRetentionDays?: number;
  /** False with --no-scan-throttle (test control only): no Scan throttles of §12.3. */
  scanThrottle?: boolean;
}

function parseRetentionDays(value: string): number {
  if (!/^\d{1,5}$/.test(value)) {
    throw new InvalidArgumentError("expected a whole number of days (0 keeps every event)");
  }
  return Number(value);
}

function parseClockStart(value: string): number {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      "expected an ISO 8601 time with a zone, e.g. 2026-01-01T23:59:30Z",
    );
  }
  return ms;
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535 (0 picks a free port)");
  }
  return Number(value);
}

function parsePoolSize(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new InvalidArgumentError("expected a number of connections from 1 to 1000");
  }
  return Number(value);
}

function parseBatches(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new InvalidArgumentError("expected a number of batches from 1 to 1000");
  }
  return Number(value);
}

function collectCorsOrigin(value: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), parseCorsOrigin(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** `paycode serve`: the reference server. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the reference Paycode server (Connect, gRPC and gRPC-Web on one port)")
    .option("--store <url>", "sqlite:FILE or postgres://USER@HOST/DB", "sqlite:paycode.db")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on; 0 picks a free one", parsePort, 8080)
    .addOption(
      new Option(
        "--http-version <version>",
        "HTTP versions: 2 = HTTP/2 and HTTP/1.1, 1.1 = HTTP/1.1 only",
      )
        .choices(["1.1", "2"])
        .default("2"),
    )
    // The name every other command uses is --http-version; --http stays as an alias.
    .addOption(
      new Option("--http <version>", "same as --http-version").choices(["1.1", "2"]).hideHelp(),
    )
    .option("--enable-test-control", "serve ConformanceService (test control); never in production")
    .option(
      "--reflection",
      "serve gRPC server reflection, for grpcurl, buf curl and Postman (default: with --enable-test-control)",
    )
    .option("--no-reflection", "do not serve gRPC server reflection")
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS (needs --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option(
      "--master-key-file <file>",
      `file with the 32-byte master key (64 hex characters); default: $${MASTER_KEY_ENV}`,
    )
    .option(
      "--extra-master-key-file <file>",
      "a second master key that opens (never seals) secrets: the new key while paycode master-key rotate runs",
    )
    .option(
      "--cors-origin <origin>",
      "let pages from this origin (scheme://host[:port]) call the server: answer CORS preflight (repeatable; default none)",
      collectCorsOrigin,
    )
    .option("--mutant <name>", "break one issuer rule on purpose, to test the conformance suite")
    .addOption(
      new Option(
        "--clock-start <time>",
        "test control: start the issuer clock at this ISO 8601 time (it runs on from there)",
      )
        .argParser(parseClockStart)
        .hideHelp(),
    )
    .addOption(
      new Option(
        "--no-scan-throttle",
        "test control: turn the Scan throttles of spec §12.3 off (load benchmarks of junk scans)",
      ).hideHelp(),
    )
    .option(
      "--audit-log <path>",
      "also write security audit events as JSON lines to this file (created 0600, appended; reopened on SIGHUP), or - for standard output",
    )
    .option("--audit-fsync", "flush the --audit-log file to disk after every event")
    .option(
      "--no-audit-store",
      "do not keep audit events in the store's audit_events table (read by `paycode audit`)",
    )
    .option(
      "--audit-retention-days <days>",
      "delete audit events older than this from the store (default 90; 0 keeps all)",
      parseRetentionDays,
    )
    .option(
      "--pg-pool-size <n>",
      "PostgreSQL store: connections in the pool (default: 10)",
      parsePoolSize,
    )
    .option(
      "--pg-batches <n>",
      "PostgreSQL store: Scan batches in flight at once; Scans arriving meanwhile share the next batch's call and commit (default: a quarter of --pg-pool-size, at least 1)",
      parseBatches,
    )
    .addHelpText(
      "after",
      `
Without --master-key-file or ${MASTER_KEY_ENV}, a SQLite store gets a development
key in <db file>.master-key (created once, mode 0600). PostgreSQL needs one.
A key file that other users can read is refused; a new SQLite file is created
with mode 0600.
Mutants: ${MUTANT_NAMES.join(", ")}`,
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

async function serve(opts: ServeOptions): Promise<void> {
  const location = parseStoreUrl(opts.store);
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (opts.mutant !== undefined && !isMutantName(opts.mutant)) {
    throw new UsageError(`unknown mutant "${opts.mutant}"; known: ${MUTANT_NAMES.join(", ")}`);
  }
  if (opts.clockStart !== undefined && !opts.enableTestControl) {
    throw new UsageError("--clock-start needs --enable-test-control");
  }
  if (opts.scanThrottle === false && !opts.enableTestControl) {
    // [SEC-4] The throttles are a MUST; only a test deployment may run without them.
    throw new UsageError("--no-scan-throttle needs --enable-test-control");
  }
  if (opts.pgPoolSize !== undefined && location.kind !== "postgres") {
    throw new UsageError("--pg-pool-size needs a postgres:// store");
  }
  if (opts.pgBatches !== undefined && location.kind !== "postgres") {
    throw new UsageError("--pg-batches needs a postgres:// store");
  }
  if (opts.auditFsync && (opts.auditLog === undefined || opts.auditLog === "-")) {
    throw new UsageError("--audit-fsync needs --audit-log <file>");
  }
  if (opts.auditRetentionDays !== undefined && opts.auditStore === false) {
    throw new UsageError("--audit-retention-days applies to the store; drop --no-audit-store");
  }
  let auditFile: FileAuditLog | undefined;
  if (opts.auditLog !== undefined && opts.auditLog !== "-") {
    try {
      auditFile = new FileAuditLog(opts.auditLog, { fsync: opts.auditFsync === true });
    } catch (err) {
      throw new CliError(
        `cannot open --audit-log ${opts.auditLog}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const master = resolveMasterKey({
    file: opts.masterKeyFile,
    env: process.env[MASTER_KEY_ENV],
    sqliteFile: location.kind === "sqlite" ? location.file : undefined,
  });
  const extraMasterKeys =
    opts.extraMasterKeyFile !== undefined ? [readMasterKeyFile(opts.extraMasterKeyFile)] : [];
  const tls =
    opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? { cert: readPem(opts.tlsCert, "--tls-cert"), key: readPem(opts.tlsKey, "--tls-key") }
      : undefined;
  if (master.warning !== undefined) process.stderr.write(`paycode: warning: ${master.warning}\n`);

  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(location.url, {
      ...(opts.pgPoolSize !== undefined ? { maxConnections: opts.pgPoolSize } : {}),
      ...(opts.pgBatches !== undefined ? { batchesInFlight: opts.pgBatches } : {}),
    });
  } catch (err) {
    throw new CliError(
      `cannot open store ${redactStoreUrl(location.url)}: ${(err as Error).message}`,
    );
  }
  // A controllable clock only where AdvanceClock and SetClock may be called.
  const clock = opts.enableTestControl
    ? new OffsetClock(systemClock, opts.clockStart)
    : systemClock;
  const auditError = (message: string, err: unknown) =>
    process.stderr.write(`paycode serve: audit: ${message}: ${(err as Error).message}\n`);
  const sinks: AuditSink[] = [];
  if (auditFile !== undefined) sinks.push(auditFile);
  if (opts.auditLog === "-") sinks.push(new StreamAuditLog(process.stdout));
  if (opts.auditStore !== false) {
    sinks.push(
      new StoreAuditLog(store, {
        retentionMs: (opts.auditRetentionDays ?? 90) * 86_400_000,
        onError: auditError,
      }),
    );
  }
  const audit = new AuditPipeline({ sinks, clock, onError: auditError });
  let issuer: Issuer;
  try {
    issuer = await Issuer.open({
      store,
      clock,
      masterKey: master.key,
      audit,
      extraMasterKeys,
      ...(opts.mutant !== undefined && isMutantName(opts.mutant) ? { mutant: opts.mutant } : {}),
      ...(clock instanceof OffsetClock
        ? { advanceClock: (ms: number) => clock.advance(ms), settableClock: clock }
        : {}),
      ...(opts.scanThrottle === false ? { scanThrottle: null } : {}),
    });
  } catch (err) {
    await audit.close().catch(() => {});
    await store.close().catch(() => {});
    throw new CliError(`cannot start the issuer: ${(err as Error).message}`);
  }

  let server: PaycodeServer;
  try {
    server = await startServer({
      issuer,
      host: opts.host,
      port: opts.port,
      http: opts.http ?? opts.httpVersion,
      // [CTRL-1] Off unless asked for (the test-control-on-by-default mutant serves it anyway).
      enableTestControl:
        opts.enableTestControl === true ||
        (opts.mutant !== undefined &&
          isMutantName(opts.mutant) &&
          ruleSwitches(opts.mutant).testControlOnByDefault),
      ...(opts.reflection !== undefined ? { reflection: opts.reflection } : {}),
      ...(tls !== undefined ? { tls } : {}),
      ...(opts.corsOrigin !== undefined ? { corsOrigins: opts.corsOrigin } : {}),
      audit,
      clock,
    });
  } catch (err) {
    await issuer.close().catch(() => {});
    await audit.close().catch(() => {});
    await store.close().catch(() => {});
    throw new CliError(listenError(err, opts.host, opts.port));
  }

  if (opts.mutant !== undefined) {
    // A server that breaks a rule on purpose is a security fact too.
    await audit.record({
      type: "server.mutant_enabled",
      at: clock.now(),
      detail: { mutant: opts.mutant },
    });
  }
  // Counts of folded events are written when their minute ends; the store sink prunes hourly.
  const auditTimer = setInterval(() => void audit.tick(), 5_000);
  auditTimer.unref();
  // logrotate: move the file, then SIGHUP; events go to a new file at the same path.
  if (auditFile !== undefined) {
    const file = auditFile;
    process.on("SIGHUP", () => {
      try {
        file.reopen();
      } catch (err) {
        auditError(`cannot reopen ${file.path}, still writing to the old file`, err);
      }
    });
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`paycode serve: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`paycode serve: ${signal}, shutting down\n`);
    clearInterval(auditTimer);
    server
      .close()
      .then(() => audit.close())
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`paycode: error while shutting down: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const control = opts.enableTestControl ? "enabled, never use in production" : "disabled";
  const mutant = opts.mutant !== undefined ? `; MUTANT ${opts.mutant}` : "";
  const reflection = (opts.reflection ?? opts.enableTestControl === true) ? "; reflection on" : "";
  process.stdout.write(
    `paycode serve: listening on ${server.url} (Connect, gRPC, gRPC-Web; test control ${control}${reflection}${mutant})\n`,
  );
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(
      `cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

function listenError(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === "EADDRINUSE") return `cannot listen on ${where}: address already in use`;
  if (code === "EACCES") return `cannot listen on ${where}: permission denied`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return `cannot listen on ${where}: no such local address`;
  }
  return `cannot listen on ${where}: ${(err as Error).message}`;
}
