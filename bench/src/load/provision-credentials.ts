import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseAccounts, provisionBenchWallets, writeCredentials } from "./credentials.js";
import { newTransport, type Protocol, resolveClient } from "./load-client.js";
import { createBenchMerchant, createBenchTerminal, fetchTargetInfo } from "./provision.js";
import type { HttpVersion } from "./transport.js";

export interface ProvisionCredentialsOptions {
  target: string;
  out: string;
  wallets: number;
  parallel: number;
  protocol: Protocol;
  http: HttpVersion;
  caFile?: string;
  /** Accounts made by the operator (no test control): "accountId password" lines. */
  accountsFile?: string;
  merchant?: { id: string; apiKey: string };
  terminal?: { id: string; apiKey: string };
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes a credentials file for `bench load --credentials`. With test
 * control: CreateMerchant, CreateTerminal, CreateAccount per wallet. Without:
 * the merchant and terminal keys given, and one wallet per listed account.
 * Wallets: ProvisionSeed with a fresh Ed25519 key each.
 */
export async function provisionCredentials(
  o: ProvisionCredentialsOptions,
): Promise<{ wallets: number; seconds: number }> {
  const ca = o.caFile ? readFileSync(o.caFile) : undefined;
  const client = resolveClient(o.target, o.protocol, o.http);
  const t = newTransport({
    target: o.target,
    protocol: o.protocol,
    http: o.http,
    connections: 1,
    mode: { kind: "closed", concurrency: o.parallel },
    client,
    ...(ca ? { ca } : {}),
  });
  await t.connect();
  try {
    let testControl = true;
    let currency = "CNY";
    try {
      currency = (await fetchTargetInfo(t)).currency;
    } catch {
      testControl = false;
    }
    const accounts = o.accountsFile
      ? parseAccounts(readFileSync(o.accountsFile, "utf8"))
      : undefined;
    if (!testControl && (!accounts || !o.merchant)) {
      throw new Error(
        `${o.target} has no test control: pass --accounts <file> (funded accounts you created) and ` +
          "--merchant-key (and --terminal-key for upload-batch)",
      );
    }
    let merchant = o.merchant;
    if (!merchant) {
      const m = await createBenchMerchant(t, "paycode bench");
      merchant = { id: m.merchantId, apiKey: m.apiKey };
    }
    let terminal = o.terminal;
    if (!terminal && testControl) {
      const x = await createBenchTerminal(t, merchant.id);
      terminal = { id: x.terminalId, apiKey: x.apiKey };
    }
    const t0 = performance.now();
    const r = await provisionBenchWallets(t, {
      count: o.wallets,
      currency,
      parallel: o.parallel,
      ...(accounts ? { accounts } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.profile) throw new Error("no wallet provisioned");
    await writeCredentials(o.out, {
      target: o.target,
      currency: r.profile.currency || currency,
      profile: r.profile,
      merchant,
      ...(terminal ? { terminal } : {}),
      wallets: r.wallets,
    });
    return { wallets: r.wallets.length, seconds };
  } finally {
    await t.close();
  }
}
