import { performance } from "node:perf_hooks";
import {
  type ApiKeyHolder,
  type BenchWallet,
  type Credentials,
  provisionBenchWallets,
  writeCredentials,
} from "./credentials.js";
import type { LoadReport } from "./load-report.js";
import type { LoadRun } from "./load-run.js";
import type { ProbedTarget } from "./load-target.js";
import { readWalletFile, sample } from "./wallet-file.js";

/**
 * Wallets for the run: a wallet file, a credentials file (topped up over RPC
 * when the target has test control, and written back so later runs reuse
 * them), or RPC provisioning. Wallets handed out are never handed out again.
 */
export class WalletPool {
  private readonly free: BenchWallet[];
  provisioned = 0;
  provisionSeconds = 0;

  constructor(
    wallets: BenchWallet[],
    private readonly provisionFn: ((n: number) => Promise<BenchWallet[]>) | undefined,
    public creds: { path: string; data: Credentials } | undefined,
  ) {
    this.free = wallets;
  }

  get population(): number {
    return this.free.length + this.handedOut.length;
  }

  private readonly handedOut: BenchWallet[] = [];

  /**
   * Up to `want` wallets, freshest first (none of their online steps from
   * `fromStep` on used); provisions what is missing (when it can) so that
   * at least `atLeast` fresh ones come back.
   */
  async take(want: number, atLeast: number, fromStep: number): Promise<BenchWallet[]> {
    const fresh = (w: BenchWallet) => (w.usedThroughStep ?? -1) < fromStep;
    this.free.sort((a, b) => (a.usedThroughStep ?? -1) - (b.usedThroughStep ?? -1));
    const nFresh = this.free.filter(fresh).length;
    if (nFresh < atLeast && this.provisionFn) {
      const t0 = performance.now();
      const more = await this.provisionFn(atLeast - nFresh);
      this.provisionSeconds += (performance.now() - t0) / 1000;
      this.provisioned += more.length;
      for (let i = more.length - 1; i >= 0; i--) this.free.unshift(more[i]!);
      if (this.creds) {
        for (const w of more) this.creds.data.wallets.push(w);
        await writeCredentials(this.creds.path, this.creds.data);
      }
    }
    const out = this.free.splice(0, Math.min(want, this.free.length));
    for (const w of out) this.handedOut.push(w);
    return out;
  }

  /** Records which online steps the wallets used; written back to a credentials file. */
  async markUsed(wallets: BenchWallet[], throughStep: number): Promise<void> {
    for (const w of wallets) w.usedThroughStep = Math.max(w.usedThroughStep ?? -1, throughStep);
    if (this.creds) await writeCredentials(this.creds.path, this.creds.data);
  }
}

/** Where the run's wallets come from, as the report names it. */
export type WalletSource = LoadReport["setup"]["walletSource"];

/**
 * The run's wallet pool: the wallet file's wallets, else the credentials
 * file's; provisioned over RPC (when the target has test control) unless
 * they come from a wallet file.
 */
export async function openWalletPool(
  run: LoadRun,
  target: ProbedTarget,
  merchant: ApiKeyHolder,
): Promise<{ pool: WalletPool; walletSource: WalletSource }> {
  const { o, progress, info, testControl } = run;
  const { credsPath } = target;
  let creds = target.creds;
  const provisionFn = testControl
    ? async (count: number) => {
        progress.note(
          `provisioning ${count} wallets over RPC (CreateAccount + ProvisionSeed, ${o.provisionParallel} in parallel)...`,
        );
        const r = await provisionBenchWallets(run.transport, {
          count,
          currency: info.currency,
          parallel: o.provisionParallel,
          onProgress: (done, total) => progress.note(`  provisioned ${done}/${total}`),
        });
        if (creds === undefined && credsPath) {
          creds = {
            target: o.target,
            currency: info.currency,
            profile: r.profile!,
            merchant,
            wallets: [],
          };
          pool.creds = { path: credsPath, data: creds };
        }
        return r.wallets;
      }
    : undefined;
  let initial: BenchWallet[] = [];
  let walletSource: WalletSource = "rpc";
  if (o.walletFile) {
    const all = await readWalletFile(o.walletFile);
    const pop = o.wallets !== undefined ? all.slice(0, o.wallets) : all;
    progress.note(`wallet file: ${all.length} wallets, population ${pop.length}`);
    initial = sample(pop, pop.length) as BenchWallet[];
    walletSource = "file";
  } else if (creds) {
    initial = sample(creds.wallets, creds.wallets.length);
    walletSource = "credentials";
  }
  // The credentials file, if any, is created by the first provisioning when missing.
  const pool: WalletPool = new WalletPool(
    initial,
    o.walletFile ? undefined : provisionFn,
    creds && credsPath ? { path: credsPath, data: creds } : undefined,
  );
  if (o.wallets !== undefined && !o.walletFile && !creds) {
    await pool.take(0, o.wallets, 0); // provision the asked population up front
  }
  if (walletSource === "credentials" && testControl) walletSource = "credentials+rpc";
  return { pool, walletSource };
}
