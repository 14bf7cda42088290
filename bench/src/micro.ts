import { createHmac, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { FF1 as nobleFf1 } from "@noble/ciphers/ff1.js";
import { NodeCryptoPlugin } from "@otplib/plugin-crypto-node";
import {
  buildOfflineCode,
  Ff1,
  generateEd25519,
  issueCertificate,
  OfflineCodeVerifier,
  OnlineCodec,
  stepOf,
} from "@paycode/protocol";
import { generateSync as otplibGenerate, verifySync as otplibVerify } from "otplib";
import speakeasy from "speakeasy";
import { Bench } from "tinybench";
import { formatCount, formatMicros, formatRatio, formatTable } from "./format.js";
import { type MachineInfo, machineInfo } from "./machine.js";
import { adjacentRatio, median, type RoundRun, roundOrder } from "./micro-schedule.js";

/** Which side of a comparison a task stands on. */
export type MicroGroup = "floor" | "peer" | "ours";

interface MicroTaskDef {
  id: string;
  group: MicroGroup;
  description: string;
  /** Task whose ops/s this one is divided by (the cost it cannot go below). */
  floor?: string;
  /** Peer implementation of the same job, for a second ratio. */
  peer?: string;
  fn: () => unknown;
}

export interface MicroTaskResult {
  id: string;
  group: MicroGroup;
  description: string;
  /** Calls per second over the whole measured time (samples / total time). */
  opsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Relative margin of error of the mean latency, percent. */
  rmePercent: number;
  samples: number;
  floor?: string;
  /**
   * Median over rounds of this task's ops/s divided by those of the floor's
   * run right before it (micro-schedule.ts); missing when the floor was not run.
   */
  floorRatio?: number;
  /** The ratio to the floor in each round. */
  floorRatioRounds?: number[];
  peer?: string;
  /** Median over rounds of the ratio to the peer's run right before this one. */
  peerRatio?: number;
  /** The ratio to the peer in each round. */
  peerRatioRounds?: number[];
  /** With several runs: ops/s of each (the row shows the median run). */
  opsPerSecRounds?: number[];
}

export interface MicroReport {
  kind: "paycode-bench-micro";
  version: 1;
  startedAt: string;
  machine: MachineInfo;
  options: { timeMs: number; warmupMs: number; rounds: number; tasks: string[] | null };
  tasks: MicroTaskResult[];
}

export interface MicroOptions {
  /** Measured time per task, milliseconds. */
  timeMs: number;
  /** Warm-up time per task, milliseconds; default min(timeMs / 4, 250). */
  warmupMs?: number;
  /** Run only tasks whose id contains one of these strings. */
  tasks?: string[];
  /** Rounds over every task; the median run (by ops/s) and the median ratios are reported. Default 1. */
  rounds?: number;
  /** Called before each task starts (progress). */
  onTask?: (id: string) => void;
}

const PREFIX = 62;
const NOW_SECONDS = 1_767_225_600; // 2026-01-01T00:00:00Z; fixed so runs are comparable.

/**
 * Builds every task with its inputs, and checks once that each one really
 * takes the path it claims (valid codes verify as valid, and so on): a
 * benchmark of a path that silently fails is worse than none.
 */
export function microTasks(): MicroTaskDef[] {
  const hmacKey = randomBytes(32);
  const hmacMsg = randomBytes(16);

  const ed = generateKeyPairSync("ed25519");
  const edMsg = randomBytes(64);
  const edSig = sign(null, edMsg, ed.privateKey);
  check(verify(null, edMsg, ed.publicKey, edSig), "ed25519 floor signature");

  // TOTP peers: 20-byte key, SHA-1, 6 digits, 30 s period, ±1 step; the
  // code is from the previous step so the window is really searched.
  const totpKey = randomBytes(20);
  const totpHex = totpKey.toString("hex");
  const otpCrypto = new NodeCryptoPlugin();
  const otpNow = NOW_SECONDS;
  const totpToken = otplibGenerate({ secret: totpKey, crypto: otpCrypto, epoch: otpNow - 30 });
  check(
    otplibVerify({
      secret: totpKey,
      crypto: otpCrypto,
      token: totpToken,
      epoch: otpNow,
      epochTolerance: 30,
    }).valid,
    "otplib verify",
  );
  const speakeasyToken = speakeasy.totp({ secret: totpHex, encoding: "hex", time: otpNow - 30 });
  check(
    speakeasy.totp.verify({
      secret: totpHex,
      encoding: "hex",
      token: speakeasyToken,
      window: 1,
      time: otpNow,
    }),
    "speakeasy verify",
  );

  const codeKey = randomBytes(32);
  const codec = new OnlineCodec({
    prefix: PREFIX,
    codeKey,
    windowBackSteps: 2,
    windowAheadSteps: 1,
    lookbackSteps: 60,
  });
  const seed = randomBytes(32);
  const otherSeed = randomBytes(32);
  const handle = 0x0abcdef;
  const nowStep = stepOf(NOW_SECONDS);
  const validCode = codec.generate({ handle, seed, step: nowStep, counter: 3 });
  // Same wallet, wrong MAC: the verifier tries the in-window candidate and
  // then every look-back candidate before answering invalid (worst case).
  const invalidCode = codec.generate({ handle, seed: otherSeed, step: nowStep, counter: 3 });
  const expiredCode = codec.generate({ handle, seed, step: nowStep - 20, counter: 3 });
  const verifyCode = (code: string) => {
    const parsed = codec.parse(code);
    if (parsed === undefined) throw new Error("online code did not parse");
    return codec.verify(parsed, seed, NOW_SECONDS);
  };
  check(verifyCode(validCode).result === "valid", "online valid code");
  check(verifyCode(invalidCode).result === "invalid", "online invalid code");
  check(verifyCode(expiredCode).result === "expired", "online expired code");

  const tweak = new TextEncoder().encode(String(PREFIX));
  const ff1 = new Ff1(codeKey, 10);
  const noble = nobleFf1(10, codeKey, tweak);
  const plainDigits = "0012345678901234";
  const plainArray = [...plainDigits].map(Number);
  const cipherDigits = ff1.encrypt(tweak, plainDigits);
  check(noble.encrypt(plainArray).join("") === cipherDigits, "FF1 ours = noble");
  const cipherArray = [...cipherDigits].map(Number);
  check(ff1.decrypt(tweak, cipherDigits) === plainDigits, "FF1 round trip");

  const issuer = generateEd25519();
  const wallet = generateEd25519();
  const certificate = issueCertificate(
    {
      walletId: "w-bench",
      walletPublicKey: wallet.publicKey,
      currency: "CNY",
      perPaymentLimitMinor: 5000n,
      cumulativeLimitMinor: 20000n,
      notBefore: BigInt(NOW_SECONDS - 300),
      notAfter: BigInt(NOW_SECONDS + 30 * 86400),
    },
    "k1",
    issuer.privateKey,
  );
  const offlineCode = buildOfflineCode({
    certificate,
    walletId: "w-bench",
    counter: 7n,
    issuedAt: NOW_SECONDS - 5,
    walletPrivateKey: wallet.privateKey,
  });
  const offlineVerifier = new OfflineCodeVerifier({
    keys: [
      {
        keyId: "k1",
        publicKey: issuer.publicKey,
        notBefore: NOW_SECONDS - 86400,
        notAfter: NOW_SECONDS + 365 * 86400,
      },
    ],
    validitySeconds: 120,
    clockSkewSeconds: 60,
  });
  const offlineAt = { nowSeconds: NOW_SECONDS, amountMinor: 100n, currency: "CNY" };
  check(offlineVerifier.verify(offlineCode, offlineAt).result === "valid", "offline code");

  return [
    {
      id: "floor.hmac-sha256",
      group: "floor",
      description: "HMAC-SHA256, 16 B message, 32 B key, createHmac per call",
      fn: () => createHmac("sha256", hmacKey).update(hmacMsg).digest(),
    },
    {
      id: "floor.ed25519-verify",
      group: "floor",
      description: "node:crypto Ed25519 verify, 64 B message, KeyObject",
      fn: () => verify(null, edMsg, ed.publicKey, edSig),
    },
    {
      id: "peer.otplib-totp-verify",
      group: "peer",
      description: "otplib 13 verifySync TOTP (node crypto plugin), valid, ±1 step",
      fn: () =>
        otplibVerify({
          secret: totpKey,
          crypto: otpCrypto,
          token: totpToken,
          epoch: otpNow,
          epochTolerance: 30,
        }),
    },
    {
      id: "peer.speakeasy-totp-verify",
      group: "peer",
      description: "speakeasy totp.verify, valid, window 1",
      fn: () =>
        speakeasy.totp.verify({
          secret: totpHex,
          encoding: "hex",
          token: speakeasyToken,
          window: 1,
          time: otpNow,
        }),
    },
    {
      id: "ours.online-generate",
      group: "ours",
      description: "online code generate (HMAC + FF1 encrypt)",
      floor: "floor.hmac-sha256",
      fn: () => codec.generate({ handle, seed, step: nowStep, counter: 3 }),
    },
    {
      id: "ours.online-verify-valid",
      group: "ours",
      description: "online code parse + verify, valid (FF1 decrypt + 1 HMAC)",
      floor: "floor.hmac-sha256",
      peer: "peer.speakeasy-totp-verify",
      fn: () => verifyCode(validCode),
    },
    {
      id: "ours.online-verify-invalid",
      group: "ours",
      description: "online code parse + verify, wrong MAC (all look-back candidates)",
      floor: "floor.hmac-sha256",
      peer: "peer.speakeasy-totp-verify",
      fn: () => verifyCode(invalidCode),
    },
    {
      id: "ours.online-verify-expired",
      group: "ours",
      description: "online code parse + verify, 20 steps old",
      floor: "floor.hmac-sha256",
      peer: "peer.speakeasy-totp-verify",
      fn: () => verifyCode(expiredCode),
    },
    {
      id: "peer.noble-ff1-encrypt",
      group: "peer",
      description: "@noble/ciphers FF1 encrypt, AES-256, radix 10, 16 digits",
      fn: () => noble.encrypt(plainArray),
    },
    {
      id: "ours.ff1-encrypt",
      group: "ours",
      description: "our FF1 encrypt, AES-256, radix 10, 16 digits",
      floor: "peer.noble-ff1-encrypt",
      fn: () => ff1.encrypt(tweak, plainDigits),
    },
    {
      id: "peer.noble-ff1-decrypt",
      group: "peer",
      description: "@noble/ciphers FF1 decrypt, AES-256, radix 10, 16 digits",
      fn: () => noble.decrypt(cipherArray),
    },
    {
      id: "ours.ff1-decrypt",
      group: "ours",
      description: "our FF1 decrypt, AES-256, radix 10, 16 digits",
      floor: "peer.noble-ff1-decrypt",
      fn: () => ff1.decrypt(tweak, cipherDigits),
    },
    {
      id: "ours.offline-verify",
      group: "ours",
      description: "offline code decode + verify, certificate cached (1 Ed25519 verify)",
      floor: "floor.ed25519-verify",
      fn: () => offlineVerifier.verify(offlineCode, offlineAt),
    },
  ];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench setup: ${what} did not give the expected result`);
}

export async function runMicro(options: MicroOptions): Promise<MicroReport> {
  const startedAt = new Date().toISOString();
  const filter = options.tasks?.filter((t) => t.length > 0);
  const all = microTasks();
  const selected =
    filter && filter.length > 0 ? all.filter((t) => filter.some((f) => t.id.includes(f))) : all;
  if (selected.length === 0) {
    throw new Error(`no micro task matches ${filter?.join(",")}; ids: ${all.map((t) => t.id)}`);
  }
  const warmupMs = options.warmupMs ?? Math.min(options.timeMs / 4, 250);
  const rounds = Math.max(1, options.rounds ?? 1);
  const byDef = new Map(selected.map((d) => [d.id, d]));
  const order = roundOrder(selected);
  const runs = new Map<string, MicroTaskResult[]>();
  const floorRatios = new Map<string, number[]>();
  const peerRatios = new Map<string, number[]>();
  // Rounds go over every task in turn, so a burst of noise from elsewhere
  // on the machine hits one round of each task rather than all rounds of
  // one; within a round each task runs right after its floor and peer
  // (micro-schedule.ts). One Bench per run so each run's warm-up sits right
  // before it.
  for (let round = 0; round < rounds; round++) {
    const thisRound: RoundRun[] = [];
    for (const id of order) {
      const def = byDef.get(id)!;
      options.onTask?.(rounds > 1 ? `${def.id} (round ${round + 1}/${rounds})` : def.id);
      const bench = new Bench({ time: options.timeMs, warmupTime: warmupMs, throws: true });
      bench.add(def.id, def.fn);
      await bench.run();
      const r = bench.tasks[0]!.result;
      if (r.state !== "completed") throw new Error(`micro task ${def.id} ended ${r.state}`);
      const samples = r.latency.samplesCount;
      const one: MicroTaskResult = {
        id: def.id,
        group: def.group,
        description: def.description,
        opsPerSec: (samples * 1000) / r.totalTime,
        meanUs: r.latency.mean * 1000,
        p50Us: r.latency.p50 * 1000,
        p99Us: r.latency.p99 * 1000,
        rmePercent: r.latency.rme,
        samples,
        ...(def.floor ? { floor: def.floor } : {}),
        ...(def.peer ? { peer: def.peer } : {}),
      };
      runs.set(def.id, [...(runs.get(def.id) ?? []), one]);
      thisRound.push({ id: def.id, opsPerSec: one.opsPerSec });
    }
    for (const def of selected) {
      for (const [ref, into] of [
        [def.floor, floorRatios],
        [def.peer, peerRatios],
      ] as const) {
        const ratio = ref === undefined ? undefined : adjacentRatio(thisRound, def.id, ref);
        if (ratio !== undefined) into.set(def.id, [...(into.get(def.id) ?? []), ratio]);
      }
    }
  }
  const results = selected.map((def) => {
    const all = runs.get(def.id)!;
    const sorted = [...all].sort((a, b) => a.opsPerSec - b.opsPerSec);
    const result: MicroTaskResult = { ...sorted[Math.floor((sorted.length - 1) / 2)]! };
    if (all.length > 1) result.opsPerSecRounds = all.map((r) => Math.round(r.opsPerSec));
    const floors = floorRatios.get(def.id) ?? [];
    const peers = peerRatios.get(def.id) ?? [];
    if (floors.length > 0) {
      result.floorRatio = median(floors);
      result.floorRatioRounds = floors.map(round3);
    }
    if (peers.length > 0) {
      result.peerRatio = median(peers);
      result.peerRatioRounds = peers.map(round3);
    }
    return result;
  });
  return {
    kind: "paycode-bench-micro",
    version: 1,
    startedAt,
    machine: machineInfo(),
    options: { timeMs: options.timeMs, warmupMs, rounds, tasks: filter ?? null },
    tasks: results,
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const SHORT: Record<string, string> = {
  "floor.hmac-sha256": "hmac",
  "floor.ed25519-verify": "ed25519",
  "peer.speakeasy-totp-verify": "speakeasy",
  "peer.noble-ff1-encrypt": "noble",
  "peer.noble-ff1-decrypt": "noble",
};

export function formatMicroReport(report: MicroReport): string {
  const rows = report.tasks.map((t) => [
    t.id,
    formatCount(t.opsPerSec),
    formatMicros(t.p50Us),
    formatMicros(t.p99Us),
    `±${t.rmePercent.toFixed(1)}%`,
    t.floorRatio !== undefined ? `${formatRatio(t.floorRatio)} ${SHORT[t.floor!] ?? t.floor}` : "",
    t.peerRatio !== undefined ? `${formatRatio(t.peerRatio)} ${SHORT[t.peer!] ?? t.peer}` : "",
  ]);
  return formatTable(["task", "ops/s", "p50 µs", "p99 µs", "rme", "vs floor", "vs peer"], rows, [
    false,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
}
