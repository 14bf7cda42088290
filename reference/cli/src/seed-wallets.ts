import { randomBytes, randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import { create, toBinary } from "@bufbuild/protobuf";
import type { WalletSecret } from "@paycode/bench";
import { writeWalletFile } from "@paycode/bench";
import {
  generateEd25519,
  issueCertificate,
  MAX_HANDLE,
  OnlineCodec,
  stepOf,
  systemClock,
} from "@paycode/protocol";
import {
  CreateMerchantRequestSchema,
  PaymentStatus,
  ScanRequestSchema,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import type { LimitsRecord, Store, WalletRecord } from "@paycode/server";
import {
  hashBearerKey,
  hashPassword,
  Issuer,
  issuerAccountId,
  loadOrCreateIssuerKeys,
  newBearerKey,
  newId,
  openStore,
  parseStoreUrl,
  resolveMasterKey,
  SeedVault,
} from "@paycode/server";

export interface SeedWalletsOptions {
  /** Store URL as `paycode serve --store` takes it. */
  store: string;
  count: number;
  /** Where the (handle, seed) list goes. */
  out: string;
  /** Wallets per store transaction. */
  batch: number;
  masterKeyFile?: string;
  onProgress?: (done: number) => void;
}

export interface SeedWalletsResult {
  count: number;
  seconds: number;
}

const HANDLE_SPACE = MAX_HANDLE + 1;
const BALANCE = 1_000_000_000_000n;
const MAX_U32 = 4_294_967_295;

/**
 * Writes `count` funded payer accounts, each with one active wallet,
 * straight into a store: the rows ProvisionSeed would write (scrypt
 * password hash, seed sealed under the master key with the issuer's own
 * SeedVault, certificate signed by the issuer key, random unused 28-bit
 * handle), without two scrypt hashes and an RPC per wallet. One password
 * hash is shared by all bench accounts. Then checks the result end to end:
 * one Scan through the issuer with a code of the first wallet must succeed.
 */
export async function seedWallets(o: SeedWalletsOptions): Promise<SeedWalletsResult> {
  const t0 = performance.now();
  const location = parseStoreUrl(o.store);
  const master = resolveMasterKey({
    file: o.masterKeyFile,
    env: process.env["PAYCODE_MASTER_KEY"],
    sqliteFile: location.kind === "sqlite" ? location.file : undefined,
  });
  if (master.source === "ephemeral") {
    throw new Error(
      "seed-wallets needs a persistent store; an in-memory one dies with this process",
    );
  }
  const store = await openStore(location.url);
  try {
    // Opening the issuer creates the issuer account and signing key when the
    // store is new, and checks the master key against the stored key.
    const issuer = await Issuer.open({ store, clock: systemClock, masterKey: master.key });
    try {
      const wallets = await seed(store, issuer, master.key, o);
      await selfCheck(issuer, wallets[0]!);
      await writeWalletFile(
        o.out,
        wallets,
        `${wallets.length} wallets seeded ${new Date().toISOString()} into ${location.kind} store`,
      );
      return { count: wallets.length, seconds: (performance.now() - t0) / 1000 };
    } finally {
      await issuer.close();
    }
  } finally {
    await store.close().catch(() => {});
  }
}

async function seed(
  store: Store,
  issuer: Issuer,
  masterKey: Uint8Array,
  o: SeedWalletsOptions,
): Promise<WalletSecret[]> {
  const vault = new SeedVault(masterKey);
  const profile = issuer.profile;
  const currency = profile.currency;
  const { signing } = await loadOrCreateIssuerKeys(store, vault, systemClock.now());
  const passwordHash = await hashPassword("bench-password");
  const walletKey = generateEd25519();
  const limits: LimitsRecord = {
    perPaymentPasswordFree: 1_000_000_000n,
    dailyPasswordFreeAmount: 1_000_000_000_000n,
    dailyPasswordFreeCount: MAX_U32,
    perPaymentOffline: profile.defaultLimits.perPaymentOffline,
    cumulativeOffline: profile.defaultLimits.cumulativeOffline,
  };
  const out: WalletSecret[] = [];
  while (out.length < o.count) {
    const n = Math.min(o.batch, o.count - out.length);
    const batch = await store.transaction(async (tx) => {
      const made: WalletSecret[] = [];
      const now = systemClock.now();
      const nowSec = Math.floor(now / 1000);
      for (let i = 0; i < n; i++) {
        const accountId = newId("acc");
        await tx.insertAccount({
          id: accountId,
          kind: "payer",
          currency,
          passwordHash,
          limits,
          createdAt: now,
        });
        await tx.transfer({
          id: newId("tr"),
          debitAccountId: issuerAccountId(currency),
          creditAccountId: accountId,
          amount: BALANCE,
          currency,
          kind: "funding",
          paymentId: null,
          refundId: null,
          createdAt: now,
        });
        const walletId = newId("w");
        const seed = new Uint8Array(randomBytes(32));
        const notAfter = nowSec + profile.certificateValiditySeconds;
        const certificate = issueCertificate(
          {
            walletId,
            walletPublicKey: walletKey.publicKey,
            currency,
            perPaymentLimitMinor: limits.perPaymentOffline,
            cumulativeLimitMinor: limits.cumulativeOffline,
            notBefore: BigInt(nowSec - profile.certificateBackdateSeconds),
            notAfter: BigInt(notAfter),
          },
          signing.keyId,
          signing.privateKey,
        );
        const record: WalletRecord = {
          id: walletId,
          accountId,
          handle: 0,
          tokenHash: hashBearerKey(newBearerKey("wallet")),
          // Same context string as Issuer.provisionSeed, or the issuer cannot open it.
          seedEnvelope: vault.seal(seed, `wallet-seed:${walletId}`),
          publicKey: walletKey.publicKey,
          certificate: toBinary(WalletCertificateSchema, certificate),
          certNotAfter: notAfter * 1000,
          deviceLabel: "bench-seeded",
          createdAt: now,
          revokedAt: null,
          revokeReason: null,
        };
        for (let attempt = 0; ; attempt++) {
          record.handle = randomInt(0, HANDLE_SPACE);
          if (await tx.insertWallet(record)) break;
          if (attempt >= 32) throw new Error("no free wallet handle found");
        }
        made.push({ handle: record.handle, seed });
      }
      return made;
    });
    out.push(...batch);
    o.onProgress?.(out.length);
  }
  return out;
}

/** One real Scan through the issuer with the first seeded wallet: proves the rows are usable. */
async function selfCheck(issuer: Issuer, w: WalletSecret): Promise<void> {
  const p = issuer.profile;
  const caps = await issuer.control.getCapabilities();
  const codec = new OnlineCodec({
    prefix: p.issuerPrefix,
    codeKey: caps.profile!.codeKey,
    windowBackSteps: p.windowBackSteps,
    windowAheadSteps: p.windowAheadSteps,
    lookbackSteps: p.lookbackSteps,
  });
  const m = await issuer.control.createMerchant(
    create(CreateMerchantRequestSchema, { name: "bench seed check" }),
  );
  const merchant = await issuer.authenticateMerchant(m.apiKey);
  // A step just ahead of now (accepted with F ≥ 1) so the check does not burn
  // a code a load run starting now would use first.
  const step = stepOf(Math.floor(systemClock.now() / 1000)) + p.windowAheadSteps;
  const code = codec.generate({ handle: w.handle, seed: w.seed, step, counter: 7 });
  const r = await issuer.scan(
    merchant,
    create(ScanRequestSchema, {
      outTradeNo: `seed-check-${randomBytes(4).toString("hex")}`,
      amount: { currency: p.currency, amountMinor: 1n },
      code,
    }),
  );
  if (r.payment?.status !== PaymentStatus.SUCCEEDED) {
    throw new Error(
      `seeded wallets are not usable: a test Scan ended ${PaymentStatus[r.payment?.status ?? 0]} ` +
        `(decline reason ${r.payment?.declineReason})`,
    );
  }
}
