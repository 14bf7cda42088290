import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { buildOfflineCode, ed25519FromSeed, OnlineCodec, stepOf } from "@paycode/protocol";
import {
  MerchantService,
  RecordOutcome,
  ScanRequestSchema,
  SettlementService,
  UploadOfflineBatchRequestSchema,
  UploadOfflineBatchResponseSchema,
} from "@paycode/protocol/v1";
import { createPaycodeTransport, OfflineTerminal, type PaycodeProtocol } from "@paycode/sdk";
import type { CodeProfile } from "./codes.js";
import { connectErrorOf, methodPath } from "./connect-unary.js";
import type { BenchWallet } from "./credentials.js";
import type { RequestSource } from "./drive.js";
import { scanOutcomeKey } from "./sources.js";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

/** What the work phase drives. */
export const WORK_KINDS = ["scan-online", "scan-offline", "upload-batch", "decline"] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

/** What the report calls one call of each work kind. */
export const WORK_RPC: Record<WorkKind, string> = {
  "scan-online": "MerchantService.Scan (online codes)",
  "scan-offline": "MerchantService.Scan (offline codes, §7.3.1)",
  "upload-batch": "SettlementService.UploadOfflineBatch",
  decline: "MerchantService.Scan (invalid and expired codes: declined)",
};

/** The outcome every call of a work kind should have on a healthy target. */
export const EXPECTED_OUTCOME: Record<WorkKind, (key: string) => boolean> = {
  "scan-online": (k) => k === "SUCCEEDED",
  "scan-offline": (k) => k === "SUCCEEDED",
  "upload-batch": (k) => k === "SETTLED",
  decline: (k) => k === "DECLINED:CODE_INVALID" || k === "DECLINED:CODE_EXPIRED",
};

/**
 * Pre-serialized requests, each sent once, in order; outcomes counted per
 * answer (warm-up included). Decoding of the answer is the only per-call work.
 */
export class OnceSource implements RequestSource {
  private next = 0;
  readonly outcomes: Record<string, number> = {};
  /** Items (scans, records) per call, for the per-item rate. */
  readonly itemsPerCall: number;

  private readonly onResponse = (res: RawResponse): string | undefined => {
    if (res.status !== 200) return connectErrorOf(res).code;
    for (const key of this.classify(res.body)) {
      this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
    }
    return undefined;
  };

  constructor(
    private readonly transport: UnaryTransport,
    private readonly endpoint: Endpoint,
    private readonly bodies: Uint8Array[],
    private readonly classify: (body: Buffer) => string[],
    itemsPerCall = 1,
  ) {
    this.itemsPerCall = itemsPerCall;
  }

  get remaining(): number {
    return this.bodies.length - this.next;
  }

  /** Bodies not sent yet (a calibration run hands them on to the measured run). */
  leftover(): Uint8Array[] {
    return this.bodies.slice(this.next);
  }

  start(): Promise<string | undefined> | null {
    const body = this.bodies[this.next];
    if (body === undefined) return null;
    this.next++;
    return this.transport.send(this.endpoint, body).then(this.onResponse);
  }
}

const scanClassify = (body: Buffer): string[] => [scanOutcomeKey(body)];

function uploadClassify(body: Buffer): string[] {
  const r = fromBinary(UploadOfflineBatchResponseSchema, body);
  return r.results.map((x) => RecordOutcome[x.outcome] ?? String(x.outcome));
}

export interface WorkSetup {
  transport: UnaryTransport;
  profile: CodeProfile;
  currency: string;
  amountMinor: bigint;
  /** Issuer clock minus local clock, ms. */
  clockOffsetMs: number;
  merchantKey: string;
  runTag: string;
}

/** Counters unique across runs: ms since the epoch × 10^6, plus the code's index. */
function counterBase(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Offline codes issued now (issuer clock), round-robin over the wallets. */
export function makeOfflineCodes(
  wallets: BenchWallet[],
  count: number,
  issuerNowMs: number,
): { code: string; wallet: BenchWallet }[] {
  if (wallets.length === 0) throw new Error("offline codes need at least one wallet");
  const keys = wallets.map((w) => ed25519FromSeed(w.privateKey).privateKey);
  const base = counterBase();
  const issuedAt = Math.floor(issuerNowMs / 1000);
  const out: { code: string; wallet: BenchWallet }[] = [];
  for (let k = 0; k < count; k++) {
    const i = k % wallets.length;
    const w = wallets[i]!;
    const code = buildOfflineCode({
      certificate: w.certificate,
      walletId: w.walletId,
      counter: base + BigInt(Math.floor(k / wallets.length)),
      issuedAt,
      walletPrivateKey: keys[i]!,
    });
    out.push({ code, wallet: w });
  }
  return out;
}

function scanBody(s: WorkSetup, n: number, code: string, tag: string): Uint8Array {
  return toBinary(
    ScanRequestSchema,
    create(ScanRequestSchema, {
      outTradeNo: `${s.runTag}-${tag}-${n}`,
      amount: { currency: s.currency, amountMinor: s.amountMinor },
      code,
    }),
  );
}

export function scanEndpoint(s: WorkSetup): Endpoint {
  return s.transport.prepare(methodPath(MerchantService.method.scan), {
    authorization: `Bearer ${s.merchantKey}`,
  });
}

/** scan-offline: Scan requests presenting offline codes (the spec allows it: §7.3.1 step 1). */
export function prepareOfflineScans(
  s: WorkSetup,
  wallets: BenchWallet[],
  count: number,
  tag: string,
): OnceSource {
  const codes = makeOfflineCodes(wallets, count, Date.now() + s.clockOffsetMs);
  const bodies = codes.map((c, n) => scanBody(s, n, c.code, tag));
  return new OnceSource(s.transport, scanEndpoint(s), bodies, scanClassify);
}

/**
 * decline: what an attacker costs the issuer. Alternately an invalid code
 * (well formed, a real wallet's handle, the current step, but made with a
 * wrong seed: the MAC fails for every step) and an expired one (a real code of step T−B−2,
 * within the lookback: CODE_EXPIRED). Neither is burned (§7.3.1), so a few
 * wallets serve any number of calls; each call still records a declined
 * payment under a fresh out_trade_no.
 */
export function prepareDeclines(
  s: WorkSetup,
  wallets: BenchWallet[],
  count: number,
  tag: string,
): OnceSource {
  if (wallets.length === 0) throw new Error("decline needs at least one wallet");
  const codec = new OnlineCodec({ ...s.profile });
  const now = stepOf(Math.floor((Date.now() + s.clockOffsetMs) / 1000));
  const expiredStep = now - s.profile.windowBackSteps - 2;
  const codes: string[] = [];
  for (const w of wallets) {
    const wrongSeed = new Uint8Array(randomBytes(32));
    for (let counter = 0; counter < 8; counter++) {
      codes.push(codec.generate({ handle: w.handle, seed: wrongSeed, step: now, counter }));
      codes.push(codec.generate({ handle: w.handle, seed: w.seed, step: expiredStep, counter }));
    }
  }
  const bodies: Uint8Array[] = [];
  for (let n = 0; n < count; n++) bodies.push(scanBody(s, n, codes[n % codes.length]!, tag));
  return new OnceSource(s.transport, scanEndpoint(s), bodies, scanClassify);
}

export interface UploadSetup {
  baseUrl: string;
  protocol: PaycodeProtocol;
  httpVersion: "1.1" | "2";
  ca?: string | Buffer;
  terminalKey: string;
  batchSize: number;
}

/**
 * upload-batch: offline codes made by the wallets and accepted, one by one,
 * by an @paycode/sdk OfflineTerminal (its checks, its SQLite journal, synced
 * over the same protocol), then cut into UploadOfflineBatch requests of
 * `batchSize` records, each serialized up front.
 */
export async function prepareUploads(
  s: WorkSetup,
  u: UploadSetup,
  wallets: BenchWallet[],
  batches: number,
  tag: string,
): Promise<OnceSource> {
  const dir = mkdtempSync(join(tmpdir(), "paycode-bench-terminal-"));
  const pt = createPaycodeTransport({
    baseUrl: u.baseUrl,
    protocol: u.protocol,
    httpVersion: u.httpVersion,
    bearer: u.terminalKey,
    ...(u.ca !== undefined ? { ca: u.ca } : {}),
  });
  const terminal = OfflineTerminal.open({
    journalPath: join(dir, "journal.db"),
    transport: pt.transport,
    clock: { now: () => Date.now() + s.clockOffsetMs },
  });
  const bodies: Uint8Array[] = [];
  try {
    await terminal.sync();
    const codes = makeOfflineCodes(wallets, batches * u.batchSize, Date.now() + s.clockOffsetMs);
    const money = { currency: s.currency, amountMinor: s.amountMinor };
    let records: ReturnType<typeof recordOf>[] = [];
    for (const c of codes) {
      const r = terminal.accept(c.code, money);
      if (!r.accepted) {
        throw new Error(`the OfflineTerminal refused a bench code: ${r.reason} (${r.message})`);
      }
      records.push(recordOf(r.record));
      if (records.length === u.batchSize) {
        bodies.push(
          toBinary(
            UploadOfflineBatchRequestSchema,
            create(UploadOfflineBatchRequestSchema, {
              batchId: `${s.runTag}-${tag}-${bodies.length}`,
              records,
            }),
          ),
        );
        records = [];
      }
    }
  } finally {
    terminal.close();
    pt.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const endpoint = s.transport.prepare(methodPath(SettlementService.method.uploadOfflineBatch), {
    authorization: `Bearer ${u.terminalKey}`,
  });
  return new OnceSource(s.transport, endpoint, bodies, uploadClassify, u.batchSize);
}

function recordOf(r: {
  recordId: string;
  code: string;
  currency: string;
  amountMinor: bigint;
  acceptedAtMs: number;
  keysSyncedAtMs: number;
}) {
  return {
    recordId: r.recordId,
    code: r.code,
    amount: { currency: r.currency, amountMinor: r.amountMinor },
    acceptedAt: timestampFromMs(r.acceptedAtMs),
    keysSyncedAt: timestampFromMs(r.keysSyncedAtMs),
  };
}
