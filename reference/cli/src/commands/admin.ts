// `paycode admin ...`: accounts, merchants and terminals through test control
// (ConformanceService), which a server offers only with --enable-test-control.

import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  ConformanceService,
  type GetCapabilitiesResponse,
  WalletLimitsSchema,
} from "@paycode/protocol/v1";
import { assertCurrency, formatAmount, formatMoney, parseAmount } from "@paycode/sdk";
import { CliError, UsageError } from "@paycode/sdk/cli";
import { type Command, Option } from "commander";
import {
  addOutputOptions,
  addServerOptions,
  emit,
  moneyJson,
  type OutputOptions,
  openTransport,
  positiveInt,
  readStdin,
  run,
  type ServerOptions,
} from "./client-common.js";

export const NO_TEST_CONTROL =
  "the server does not offer test control: start it with --enable-test-control";

/** Test control over `transport`; a server without it fails with NO_TEST_CONTROL. */
export type TestControl = Client<typeof ConformanceService>;

/**
 * Runs a test-control call; the error a server without test control
 * answers (no such RPC) becomes one clear line.
 */
export async function control<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unimplemented) {
      throw new CliError(NO_TEST_CONTROL);
    }
    throw err;
  }
}

export interface AccountLimitsInput {
  passwordFree?: bigint;
  dailyPasswordFree?: bigint;
  dailyPasswordFreeCount?: number;
  offlinePerPayment?: bigint;
  offlineTotal?: bigint;
}

/** CreateAccount; limits left out take the issuer's defaults. */
export async function createAccount(
  tc: TestControl,
  o: { password: string; balance: { currency: string; amountMinor: bigint } } & AccountLimitsInput,
): Promise<string> {
  const money = (amountMinor: bigint | undefined) =>
    amountMinor === undefined ? undefined : { currency: o.balance.currency, amountMinor };
  const limits = create(WalletLimitsSchema, {
    perPaymentPasswordFree: money(o.passwordFree),
    dailyPasswordFreeAmount: money(o.dailyPasswordFree),
    dailyPasswordFreeCount: o.dailyPasswordFreeCount ?? 0,
    perPaymentOffline: money(o.offlinePerPayment),
    cumulativeOffline: money(o.offlineTotal),
  });
  const r = await control(() =>
    tc.createAccount({ password: o.password, balance: o.balance, limits }),
  );
  return r.accountId;
}

interface AdminOptions extends ServerOptions, OutputOptions {}

function withControl<T>(opts: ServerOptions, body: (tc: TestControl) => Promise<T>): Promise<T> {
  const transport = openTransport(opts);
  const tc = createClient(ConformanceService, transport.transport);
  return body(tc).finally(() => transport.close());
}

function amountArg(flag: string, currency: () => string) {
  return (value: string): bigint => {
    try {
      return parseAmount(value, currency());
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
  };
}

async function readPassword(opts: {
  password?: string;
  passwordStdin?: boolean;
  passwordFile?: string;
}): Promise<string> {
  if (opts.passwordStdin) return readStdin();
  if (opts.passwordFile !== undefined) {
    try {
      return readFileSync(opts.passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new UsageError(
        `cannot read --password-file ${opts.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  }
  if (opts.password !== undefined) return opts.password;
  throw new UsageError("give the payment password with --password-stdin or --password-file");
}

function describeOffset(issuerMs: number, machineMs: number): string {
  const d = issuerMs - machineMs;
  if (Math.abs(d) < 2000) return "in step with this machine";
  // Past an hour only days, hours and minutes are shown: round to the minute, so
  // three days less the call's own latency still reads "3 d 0 h".
  const exact = Math.round(Math.abs(d) / 1000);
  const s = exact >= 3600 ? Math.round(exact / 60) * 60 : exact;
  const parts =
    s >= 86_400
      ? `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`
      : s >= 3600
        ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
        : `${s} s`;
  return `${parts} ${d > 0 ? "ahead of" : "behind"} this machine`;
}

/** Registers `paycode admin account|merchant|terminal|balance|info`. */
export function registerAdmin(program: Command): void {
  const admin = program
    .command("admin")
    .description(
      "test control: create accounts, merchants and terminals, read balances (needs serve --enable-test-control)",
    )
    .addHelpText(
      "after",
      `
These commands call ConformanceService, which a server offers only with
--enable-test-control (never in production).

Exit status: 0 done; 1 the call failed (no test control, network, ...);
2 the command line is wrong.`,
    );

  // admin account create
  const account = admin.command("account").description("payer accounts");
  const accountCreate = account
    .command("create")
    .description("create a funded payer account and print its id")
    .requiredOption("--balance <decimal>", "opening balance in major units, e.g. 1000.00")
    .addOption(new Option("--currency <code>", "ISO 4217 currency").default("CNY"))
    .addOption(
      new Option(
        "--password <password>",
        "payment password (visible to other users: prefer --password-stdin)",
      ),
    )
    .addOption(
      new Option("--password-stdin", "read the payment password from stdin").conflicts("password"),
    )
    .addOption(
      new Option("--password-file <file>", "read the payment password from a file").conflicts([
        "password",
        "passwordStdin",
      ]),
    )
    .option("--password-free <decimal>", "largest payment without the password")
    .option("--daily-password-free <decimal>", "password-free total per day")
    .addOption(
      new Option("--daily-password-free-count <n>", "password-free payments per day").argParser(
        positiveInt("--daily-password-free-count"),
      ),
    )
    .option("--offline-per-payment <decimal>", "largest offline payment")
    .option("--offline-total <decimal>", "offline total per certificate");
  addOutputOptions(addServerOptions(accountCreate), ["id"]).action(
    run(
      async (
        opts: AdminOptions & {
          balance: string;
          currency: string;
          password?: string;
          passwordStdin?: boolean;
          passwordFile?: string;
          passwordFree?: string;
          dailyPasswordFree?: string;
          dailyPasswordFreeCount?: number;
          offlinePerPayment?: string;
          offlineTotal?: string;
        },
      ) => {
        try {
          assertCurrency(opts.currency);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const amount = (flag: string, v: string | undefined) =>
          v === undefined ? undefined : amountArg(flag, () => opts.currency)(v);
        const balance = {
          currency: opts.currency,
          amountMinor: amount("--balance", opts.balance)!,
        };
        const limits: AccountLimitsInput = {
          passwordFree: amount("--password-free", opts.passwordFree),
          dailyPasswordFree: amount("--daily-password-free", opts.dailyPasswordFree),
          dailyPasswordFreeCount: opts.dailyPasswordFreeCount,
          offlinePerPayment: amount("--offline-per-payment", opts.offlinePerPayment),
          offlineTotal: amount("--offline-total", opts.offlineTotal),
        };
        const password = await readPassword(opts);
        if (password === "") throw new UsageError("the payment password is empty");
        const accountId = await withControl(opts, (tc) =>
          createAccount(tc, { password, balance, ...limits }),
        );
        emit(opts, {
          values: { id: accountId },
          json: { accountId, balance: moneyJson(balance) },
          lines: () => [`account ${accountId} created with ${formatMoney(balance)}`],
        });
      },
    ),
  );

  // admin merchant create
  const merchant = admin.command("merchant").description("merchants");
  addOutputOptions(
    addServerOptions(
      merchant
        .command("create")
        .description("create a merchant and print its id and API key (shown only once)")
        .option("--name <name>", "display name", "shop"),
    ),
    ["id", "api-key"],
  ).action(
    run(async (opts: AdminOptions & { name: string }) => {
      const r = await withControl(opts, (tc) =>
        control(() => tc.createMerchant({ name: opts.name })),
      );
      emit(opts, {
        values: { id: r.merchantId, "api-key": r.apiKey },
        json: { merchantId: r.merchantId, apiKey: r.apiKey },
        lines: () => [
          `merchant ${r.merchantId} created`,
          `API key: ${r.apiKey}  (shown only once)`,
        ],
      });
    }),
  );

  // admin terminal create
  const terminal = admin.command("terminal").description("offline terminals");
  addOutputOptions(
    addServerOptions(
      terminal
        .command("create")
        .description("create an offline terminal of a merchant and print its id and API key")
        .requiredOption("--merchant <id>", "the merchant the terminal collects for"),
    ),
    ["id", "api-key"],
  ).action(
    run(async (opts: AdminOptions & { merchant: string }) => {
      const r = await withControl(opts, (tc) =>
        control(() => tc.createTerminal({ merchantId: opts.merchant })),
      );
      emit(opts, {
        values: { id: r.terminalId, "api-key": r.apiKey },
        json: { terminalId: r.terminalId, apiKey: r.apiKey },
        lines: () => [
          `terminal ${r.terminalId} of merchant ${opts.merchant} created`,
          `API key: ${r.apiKey}  (shown only once)`,
        ],
      });
    }),
  );

  // admin balance
  addOutputOptions(
    addServerOptions(
      admin
        .command("balance")
        .description("the balance of a payer account or of a merchant's settlement account")
        .addOption(new Option("--account <id>", "a payer account"))
        .addOption(new Option("--merchant <id>", "a merchant").conflicts("account")),
    ),
    ["amount", "amount-minor", "currency"],
  ).action(
    run(async (opts: AdminOptions & { account?: string; merchant?: string }) => {
      const owner =
        opts.account !== undefined
          ? { case: "accountId" as const, value: opts.account }
          : opts.merchant !== undefined
            ? { case: "merchantId" as const, value: opts.merchant }
            : undefined;
      if (owner === undefined) throw new UsageError("give --account ID or --merchant ID");
      const r = await withControl(opts, (tc) => control(() => tc.getBalance({ owner })));
      const b = r.balance;
      if (!b) throw new CliError("GetBalance returned no balance");
      const who = owner.case === "accountId" ? "account" : "merchant";
      emit(opts, {
        values: {
          amount: formatAmount(b.amountMinor, b.currency),
          "amount-minor": b.amountMinor.toString(),
          currency: b.currency,
        },
        json: { [owner.case]: owner.value, balance: moneyJson(b) },
        lines: () => [`${who} ${owner.value}: ${formatMoney(b)}`],
      });
    }),
  );

  // admin info
  addOutputOptions(
    addServerOptions(
      admin
        .command("info")
        .description("what the server claims (GetCapabilities) and its clock")
        .addOption(
          new Option(
            "--wait <ms>",
            "wait up to this long for the server to answer (just started in the background)",
          ).argParser(positiveInt("--wait")),
        ),
    ),
    ["implementation", "time", "date"],
  ).action(
    run(async (opts: AdminOptions & { wait?: number }) => {
      const caps = await withControl(opts, (tc) => capabilities(tc, opts.wait ?? 0));
      const issuerMs = caps.now ? timestampMs(caps.now) : Date.now();
      const time = new Date(issuerMs).toISOString();
      emit(opts, {
        values: { implementation: caps.implementation, time, date: time.slice(0, 10) },
        json: { implementation: caps.implementation, features: caps.features, now: time },
        lines: () => [
          `implementation: ${caps.implementation}`,
          `features: ${caps.features.join(", ") || "(none)"}`,
          `issuer clock: ${time} (${describeOffset(issuerMs, Date.now())})`,
        ],
      });
    }),
  );
}

/** GetCapabilities, retried while the server is not up yet, for `waitMs`. */
async function capabilities(tc: TestControl, waitMs: number): Promise<GetCapabilitiesResponse> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await control(() => tc.getCapabilities({}));
    } catch (err) {
      const down = err instanceof ConnectError && err.code === Code.Unavailable;
      if (!down || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
