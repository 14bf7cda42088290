import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import {
  machineInfo,
  readWalletFile,
  type ScanLayerResult,
  type ScanLayersReport,
  type WalletSecret,
} from "@paycode/bench";
import { OnlineCodec, stepOf, systemClock } from "@paycode/protocol";
import {
  CreateMerchantRequestSchema,
  DeclineReason,
  PaymentStatus,
  ScanRequestSchema,
} from "@paycode/protocol/v1";
import type { LimitsRecord, OneCallScan, Store } from "@paycode/server";
import {
  Issuer,
  newScanPayment,
  newTimeOrderedId,
  onlineUsageKey,
  openStore,
  parseStoreUrl,
  resolveMasterKey,
} from "@paycode/server";
import { seedWallets } from "./seed-wallets.js";

/**
 * `paycode bench scan-layers`: a Scan in this process, without HTTP, through
 * two layers of the reference server, by how many Scans are submitted
 * together:
 *
 * - `store`: `Store.scanOnce` alone, the decision and its writes (on SQLite
 *   one commit group and one WAL flush per round; on PostgreSQL the batches
 *   of the pool);
 * - `issuer`: `Issuer.scan` with a real online code and the merchant's API
 *   key, i.e. authentication, code decoding, the wallet's seed (cache or
 *   store, then its envelope opened), the store call, the audit of the
 *   outcome and the response message.
 *
 * The issuer layer minus the store layer is what the issuer and the codec
 * cost. A load run's server CPU per Scan minus the issuer layer's at the
 * group size the load forms is what HTTP/2 and Connect cost; under load the
 * groups are smaller than the calls in flight (docs/benchmarks.md, fifth
 * round). Each round submits `group` Scans at once and awaits them all.
 */
export interface ScanLayersOptions {
  /** A new store, as `paycode serve --store` takes it; its wallets are made here. */
  store: string;
  /** Funded wallets the Scans are spread over (round robin). */
  wallets: number;
  /** Measured Scans per layer and group size (rounded down to whole groups). */
  scans: number;
  /** Group sizes to measure, in order. */
  groups: readonly number[];
  masterKeyFile?: string;
  onProgress?: (line: string) => void;
}

const AMOUNT = 100n;
/** Unmeasured Scans before each measured run: prepared statements, JIT, caches. */
const WARMUP_SCANS = 400;
/**
 * The step of the store layer's usage keys: far in the past, so they never
 * collide with the usage key of a real code the issuer layer burns.
 */
const STORE_LAYER_STEP = 1;

export async function scanLayersBench(o: ScanLayersOptions): Promise<ScanLayersReport> {
  if (o.groups.length === 0) throw new Error("no group sizes given");
  const startedAt = new Date().toISOString();
  const location = parseStoreUrl(o.store);
  const dir = await mkdtemp(join(tmpdir(), "paycode-scan-layers-"));
  let secrets: WalletSecret[];
  try {
    const list = join(dir, "wallets");
    await seedWallets({
      store: o.store,
      count: o.wallets,
      out: list,
      batch: 2000,
      ...(o.masterKeyFile ? { masterKeyFile: o.masterKeyFile } : {}),
    });
    secrets = await readWalletFile(list);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  o.onProgress?.(`seeded ${secrets.length} wallets`);
  const master = resolveMasterKey({
    file: o.masterKeyFile,
    env: process.env["PAYCODE_MASTER_KEY"],
    sqliteFile: location.kind === "sqlite" ? location.file : undefined,
  });
  const store = await openStore(location.url);
  try {
    const issuer = await Issuer.open({ store, clock: systemClock, masterKey: master.key });
    try {
      const world = await makeWorld(store, issuer, secrets);
      const results: ScanLayerResult[] = [];
      for (const layer of ["store", "issuer"] as const) {
        for (const group of o.groups) {
          const run = (count: number) =>
            layer === "store"
              ? storeRound(store, world, group, count)
              : issuerRound(issuer, world, group, count);
          await (await run(Math.max(group, WARMUP_SCANS - (WARMUP_SCANS % group))))();
          const scans = Math.max(group, o.scans - (o.scans % group));
          // Inputs (codes, records) are made before the clock starts.
          const measured = await run(scans);
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          await measured();
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          results.push({
            layer,
            group,
            scans,
            seconds,
            scansPerSec: scans / seconds,
            cpuUsPerScan: (cpu.user + cpu.system) / scans,
          });
          o.onProgress?.(`${layer}, groups of ${group}: ${scans} Scans in ${seconds.toFixed(2)} s`);
        }
      }
      return {
        kind: "paycode-bench-scan-layers",
        version: 1,
        startedAt,
        machine: machineInfo(),
        store: store.kind,
        options: { wallets: o.wallets, scans: o.scans, groups: [...o.groups] },
        results,
      };
    } finally {
      await issuer.close();
    }
  } finally {
    await store.close().catch(() => {});
  }
}

interface World {
  readonly merchantId: string;
  readonly merchantAccount: string;
  readonly merchantApiKey: string;
  readonly wallets: readonly { id: string; secret: WalletSecret }[];
  readonly currency: string;
  readonly defaultLimits: LimitsRecord;
  readonly confirmationTimeoutMs: number;
  readonly codec: OnlineCodec;
  /** Scans made so far: picks the next wallet and keeps order numbers and usage keys new. */
  next: number;
  /** Codes handed out, as `handle:step:counter`: none is made twice. */
  readonly usedCodes: Set<string>;
}

/** A merchant made through the issuer, and the seeded wallets with their ids. */
async function makeWorld(store: Store, issuer: Issuer, secrets: WalletSecret[]): Promise<World> {
  const p = issuer.profile;
  const m = await issuer.control.createMerchant(
    create(CreateMerchantRequestSchema, { name: "bench scan-layers" }),
  );
  const merchant = await store.read((tx) => tx.getMerchant(m.merchantId));
  if (!merchant) throw new Error(`merchant ${m.merchantId} was not stored`);
  const wallets: { id: string; secret: WalletSecret }[] = [];
  for (const secret of secrets) {
    const w = await store.walletSeed(secret.handle);
    if (!w) throw new Error(`seeded wallet with handle ${secret.handle} is missing`);
    wallets.push({ id: w.id, secret });
  }
  const caps = await issuer.control.getCapabilities();
  // seed-wallets checked its work with one Scan of the first wallet (counter
  // 7, the step ahead of its clock, which may have been a minute earlier).
  const ahead = stepOf(Math.floor(systemClock.now() / 1000)) + p.windowAheadSteps;
  const usedCodes = new Set([ahead, ahead - 1].map((step) => `${secrets[0]!.handle}:${step}:7`));
  return {
    merchantId: m.merchantId,
    merchantAccount: merchant.accountId,
    merchantApiKey: m.apiKey,
    wallets,
    currency: p.currency,
    defaultLimits: p.defaultLimits,
    confirmationTimeoutMs: p.confirmationTimeoutSeconds * 1000,
    codec: new OnlineCodec({
      prefix: p.issuerPrefix,
      codeKey: caps.profile!.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    }),
    next: 0,
    usedCodes,
  };
}

/** A Scan of `count` rounds of `group`, run when the returned function is called. */
type Round = () => Promise<void>;

/**
 * `Store.scanOnce` as `ScanService` calls it for a valid online code:
 * time-ordered payment and transfer ids, a code's usage key, the merchant
 * throttle's window (so its lookup runs as in the server).
 */
async function storeRound(store: Store, w: World, group: number, count: number): Promise<Round> {
  const rounds: OneCallScan[][] = [];
  for (let done = 0; done < count; done += group) {
    const now = systemClock.now();
    rounds.push(Array.from({ length: group }, () => storeScan(w, now)));
  }
  return async () => {
    for (const round of rounds) {
      const results = await Promise.all(round.map((s) => store.scanOnce(s)));
      for (const r of results) {
        expectSucceeded(
          r === undefined
            ? "replayed"
            : "throttled" in r
              ? "throttled"
              : `${r.payment.status}${r.payment.declineReason ? ` ${r.payment.declineReason}` : ""}`,
        );
      }
    }
  };
}

function storeScan(w: World, now: number): OneCallScan {
  const n = w.next++;
  const walletId = w.wallets[n % w.wallets.length]!.id;
  const payment = newScanPayment(
    {
      merchantId: w.merchantId,
      outTradeNo: `bench-store-${n}-${now}`,
      amount: AMOUNT,
      currency: w.currency,
      codeKind: "ONLINE",
      codeDigest: new Uint8Array(randomBytes(32)),
      subject: "bench",
    },
    now,
  );
  return {
    payment,
    declined: null,
    walletId,
    usageKey: onlineUsageKey(walletId, STORE_LAYER_STEP, n),
    offlineRefusal: null,
    merchantAccountId: w.merchantAccount,
    transferId: newTimeOrderedId("tr", now),
    day: new Date(now).toISOString().slice(0, 10),
    defaultLimits: w.defaultLimits,
    confirmDeadline: now + w.confirmationTimeoutMs,
    throttle: {
      windowStart: now - (now % 60_000),
      merchantLimit: 2 ** 31,
      macFailureWalletId: null,
      stepUpAt: 2 ** 31,
      stepUpUntil: now,
      blockAt: 2 ** 31,
      revokeReason: "bench",
    },
  };
}

/**
 * `Issuer.scan` as the RPC layer calls it: the merchant authenticated by its
 * API key on every call, then the Scan of a fresh online code of the next
 * wallet (a step in the acceptance window, a counter not used before).
 */
async function issuerRound(issuer: Issuer, w: World, group: number, count: number): Promise<Round> {
  const now = Math.floor(systemClock.now() / 1000);
  const steps = [stepOf(now), stepOf(now) + 1, stepOf(now) - 1];
  const requests: ReturnType<typeof create<typeof ScanRequestSchema>>[] = [];
  for (let made = 0; made < count; made++) {
    const n = w.next++;
    const { secret } = w.wallets[n % w.wallets.length]!;
    let code: string | undefined;
    for (const step of steps) {
      for (let counter = 0; counter < 8 && code === undefined; counter++) {
        const key = `${secret.handle}:${step}:${counter}`;
        if (w.usedCodes.has(key)) continue;
        w.usedCodes.add(key);
        code = w.codec.generate({ handle: secret.handle, seed: secret.seed, step, counter });
      }
      if (code !== undefined) break;
    }
    if (code === undefined) {
      throw new Error("bench scan-layers: out of codes; give more --wallets or fewer --scans");
    }
    requests.push(
      create(ScanRequestSchema, {
        outTradeNo: `bench-issuer-${n}-${now}`,
        amount: { currency: w.currency, amountMinor: AMOUNT },
        code,
      }),
    );
  }
  return async () => {
    for (let i = 0; i < requests.length; i += group) {
      const round = requests.slice(i, i + group);
      const responses = await Promise.all(
        round.map(async (req) =>
          issuer.scan(await issuer.authenticateMerchant(w.merchantApiKey), req),
        ),
      );
      for (const r of responses) {
        const status = PaymentStatus[r.payment?.status ?? 0];
        const reason = r.payment?.declineReason ? ` ${DeclineReason[r.payment.declineReason]}` : "";
        expectSucceeded(`${status}${reason}`);
      }
    }
  };
}

/** A benchmark of a path that silently declines is worse than none. */
function expectSucceeded(outcome: string): void {
  if (outcome !== "SUCCEEDED") {
    throw new Error(`bench scan-layers: a Scan ended ${outcome}, not SUCCEEDED`);
  }
}

export async function writeScanLayersJson(file: string, r: ScanLayersReport): Promise<void> {
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
}
