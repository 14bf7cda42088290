import { Command } from "commander";
import { vi } from "vitest";
import { registerAccount } from "../commands/account.js";
import { registerAdmin } from "../commands/admin.js";
import { registerPayment } from "../commands/payment.js";
import { registerReport } from "../commands/report.js";
import { registerScan } from "../commands/scan.js";
import { registerTerminal } from "../commands/terminal.js";
import { registerWallet } from "../commands/wallet.js";

/**
 * Runs `paycode <args>` in-process with the client commands (wallet, scan,
 * terminal, report, admin, payment, account) registered; returns stdout, stderr and the exit status.
 * Restores every vitest mock and resets `process.exitCode` before returning.
 */
export async function paycodeInProcess(...args: string[]) {
  const program = new Command("paycode").exitOverride();
  registerWallet(program);
  registerScan(program);
  registerTerminal(program);
  registerReport(program);
  registerAdmin(program);
  registerPayment(program);
  registerAccount(program);
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(args, { from: "user" });
  } finally {
    vi.restoreAllMocks();
  }
  const status = process.exitCode ?? 0;
  process.exitCode = undefined;
  return { stdout: out.join("\n"), stderr: err.join(""), status };
}
