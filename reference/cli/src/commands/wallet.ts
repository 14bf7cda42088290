// `paycode wallet ...`: provision a wallet, then make codes offline.
import { homedir } from "node:os";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  formatMoney,
  JsonFileWalletStateStore,
  renderCode128,
  statusName,
  WalletClient,
  WalletCodesExhaustedError,
} from "@paycode/sdk";
import { CliError, UsageError } from "@paycode/sdk/cli";
import { type Command, Option } from "commander";
import QRCode from "qrcode";
import {
  addServerOptions,
  EXIT_CODES_HELP,
  openTransport,
  readStdin,
  run,
  type ServerOptions,
} from "./client-common.js";

const DEFAULT_STATE = join(homedir(), ".paycode", "wallet.json");

function stateOption(): Option {
  return new Option("--state <file>", "wallet state file (holds secrets; mode 0600)")
    .env("PAYCODE_WALLET_STATE")
    .default(DEFAULT_STATE);
}

function passwordOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--password <password>",
        "payment password (visible to other users: prefer --password-stdin)",
      ),
    )
    .addOption(
      new Option("--password-stdin", "read the payment password from stdin").conflicts("password"),
    );
}

/**
 * A call that checks the payment password, with the throttle's answers of
 * §9.2 ([SEC-15], [SEC-16]) told in words: a delay says when to try again,
 * a lock that only the issuer can lift it. Other errors pass unchanged.
 */
export async function withPasswordThrottle<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted) {
      const after = /retry after (\d+) s/.exec(err.rawMessage)?.[1];
      throw new CliError(
        `too many wrong payment passwords: the issuer refuses further attempts${
          after ? ` for ${after} s` : " for a while"
        } without checking them; wait, then try again (${err.rawMessage})`,
      );
    }
    if (
      err instanceof ConnectError &&
      err.code === Code.FailedPrecondition &&
      /locked/.test(err.rawMessage)
    ) {
      throw new CliError(
        `the account is locked after too many wrong payment passwords; only the issuer's operator can unlock it (paycode account unlock) (${err.rawMessage})`,
      );
    }
    throw err;
  }
}

async function password(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (opts.passwordStdin) return readStdin();
  if (opts.password !== undefined) return opts.password;
  throw new UsageError("give the payment password with --password-stdin or --password");
}

function openWallet(opts: ServerOptions & { state: string }, online: boolean) {
  const store = new JsonFileWalletStateStore(opts.state);
  if (!online) return { wallet: new WalletClient({ store }), close: () => {} };
  const saved = store.load();
  const transport = openTransport(opts, undefined, opts.server ?? saved?.serverUrl);
  return {
    wallet: new WalletClient({ store, transport: transport.transport }),
    close: () => transport.close(),
  };
}

/** Registers `paycode wallet provision|code|info|confirm|revoke`. */
export function registerWallet(program: Command): void {
  const wallet = program
    .command("wallet")
    .description("a phone wallet: provision online, then make payment codes offline")
    .addHelpText("after", EXIT_CODES_HELP);

  passwordOptions(
    addServerOptions(
      wallet
        .command("provision")
        .description(
          "provision a new wallet for an account (revokes the account's previous wallet)",
        )
        .requiredOption("--account <id>", "account id")
        .option("--device <label>", "device label", "paycode-cli")
        .addOption(stateOption()),
    ),
  ).action(
    run(
      async (
        opts: ServerOptions & {
          account: string;
          device: string;
          state: string;
          password?: string;
          passwordStdin?: boolean;
        },
      ) => {
        const pw = await password(opts);
        const { wallet: client, close } = openWallet(opts, true);
        try {
          const w = await withPasswordThrottle(() =>
            client.provision({
              accountId: opts.account,
              password: pw,
              deviceLabel: opts.device,
              ...(opts.server !== undefined ? { serverUrl: opts.server } : {}),
            }),
          );
          const cert = w.certificate;
          const limits = w.limits;
          console.log(`wallet ${w.walletId} provisioned (handle ${w.handle})`);
          console.log(`clock offset: ${w.clockOffsetMs} ms (issuer minus this machine)`);
          console.log(
            `offline certificate: ${formatMoney({ currency: cert.currency, amountMinor: cert.perPaymentLimitMinor })} per payment, ` +
              `${formatMoney({ currency: cert.currency, amountMinor: cert.cumulativeLimitMinor })} in total, ` +
              `valid until ${new Date(Number(cert.notAfter) * 1000).toISOString()}`,
          );
          console.log(
            `password-free: ${formatMoney(limits.perPaymentPasswordFree)} per payment, ` +
              `${formatMoney(limits.dailyPasswordFreeAmount)} and ${limits.dailyPasswordFreeCount} payments per day`,
          );
          console.log(`state saved to ${opts.state}`);
        } finally {
          close();
        }
      },
    ),
  );

  wallet
    .command("code")
    .description(
      "make a payment code with no network: an 18-digit online code, or a signed offline QR code",
    )
    .option("--offline", "make a signed offline (double-offline) QR code")
    .option("--plain", "print only the code, no barcode or QR rendering")
    .option("--wait", "when the 8 online codes of this minute are used, wait for the next minute")
    .option("--light", "render for a terminal with a light background")
    .addOption(stateOption())
    .action(
      run(
        async (opts: {
          offline?: boolean;
          plain?: boolean;
          wait?: boolean;
          light?: boolean;
          state: string;
        }) => {
          const client = new WalletClient({ store: new JsonFileWalletStateStore(opts.state) });
          let code: string;
          if (opts.offline) code = client.offlineCode();
          else {
            for (;;) {
              try {
                code = client.onlineCode();
                break;
              } catch (err) {
                if (!(err instanceof WalletCodesExhaustedError) || !opts.wait) throw err;
                process.stderr.write(
                  `all 8 codes of this minute used; waiting ${Math.ceil(err.retryAfterMs / 1000)} s\n`,
                );
                await new Promise((r) => setTimeout(r, err.retryAfterMs + 50));
              }
            }
          }
          console.log(code);
          if (opts.plain) return;
          const qr = await QRCode.toString(code, { type: "terminal", small: true });
          if (opts.offline) {
            console.log(qr);
            console.log(`offline code, valid for ${client.profile.offlineCodeValiditySeconds} s`);
          } else {
            console.log();
            console.log(renderCode128(code, { lightBackground: opts.light ?? false }));
            console.log();
            console.log(qr);
            console.log(`online code; ${client.codesLeftThisStep} more this minute`);
          }
        },
      ),
    );

  addServerOptions(
    wallet
      .command("info")
      .description("show the wallet's balance, state and pending payments")
      .addOption(stateOption()),
    false,
  ).action(
    run(async (opts: ServerOptions & { state: string }) => {
      const { wallet: client, close } = openWallet(opts, true);
      try {
        const w = await client.getWallet();
        console.log(
          `wallet ${w.walletId} of account ${w.accountId}${w.revoked ? " (REVOKED)" : ""}`,
        );
        console.log(`balance: ${formatMoney(w.balance)}`);
        for (const p of w.pendingPayments) {
          const deadline = p.confirmDeadline
            ? new Date(timestampMs(p.confirmDeadline)).toISOString()
            : "?";
          console.log(
            `pending: ${p.paymentId} ${formatMoney(p.amount)} "${p.subject}" confirm by ${deadline}`,
          );
        }
        if (w.pendingPayments.length === 0) console.log("no pending payments");
      } finally {
        close();
      }
    }),
  );

  addServerOptions(
    wallet
      .command("sync")
      .description(
        "re-read the issuer clock and keep the wallet's offset to it (info and confirm do it too)",
      )
      .addOption(stateOption()),
    false,
  ).action(
    run(async (opts: ServerOptions & { state: string }) => {
      const { wallet: client, close } = openWallet(opts, true);
      try {
        const r = await client.sync();
        if (!r.synced) {
          console.log(
            `the issuer sent no server_time; clock offset stays ${r.clockOffsetMs} ms (from provisioning)`,
          );
          return;
        }
        console.log(
          `clock offset: ${r.clockOffsetMs} ms (issuer minus this machine; was ${r.previousOffsetMs} ms)`,
        );
      } finally {
        close();
      }
    }),
  );

  passwordOptions(
    addServerOptions(
      wallet
        .command("confirm")
        .description("confirm a payment that waits for the payment password")
        .argument("<payment-id>", "the pending payment")
        .addOption(stateOption()),
      false,
    ),
  ).action(
    run(
      async (
        paymentId: string,
        opts: ServerOptions & { state: string; password?: string; passwordStdin?: boolean },
      ) => {
        const pw = await password(opts);
        const { wallet: client, close } = openWallet(opts, true);
        try {
          const p = await withPasswordThrottle(() => client.confirm(paymentId, pw));
          console.log(`${statusName(p.status)} payment ${p.paymentId} ${formatMoney(p.amount)}`);
        } finally {
          close();
        }
      },
    ),
  );

  addServerOptions(
    wallet
      .command("revoke")
      .description("revoke this wallet at the issuer; its codes are declined from now on")
      .option("--reason <text>", "why", "revoked from the CLI")
      .addOption(stateOption()),
    false,
  ).action(
    run(async (opts: ServerOptions & { state: string; reason: string }) => {
      const { wallet: client, close } = openWallet(opts, true);
      try {
        const at = await client.revoke(opts.reason);
        console.log(`wallet ${client.walletId} revoked at ${at.toISOString()}`);
      } finally {
        close();
      }
    }),
  );
}
