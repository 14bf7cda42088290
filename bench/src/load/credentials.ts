import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { ed25519FromSeed } from "@paycode/protocol";
import {
  ConformanceService,
  type IssuerProfile,
  IssuerProfileSchema,
  type WalletCertificate,
  WalletCertificateSchema,
  WalletService,
} from "@paycode/protocol/v1";
import type { WalletSecret } from "./codes.js";
import { callUnary } from "./connect-unary.js";
import { benchAccountInit, PASSWORD } from "./provision.js";
import type { UnaryTransport } from "./transport.js";

export const CREDENTIALS_KIND = "paycode-bench-credentials";

/** A provisioned wallet with what online and offline codes need. */
export interface BenchWallet extends WalletSecret {
  walletId: string;
  /** The issuer-signed certificate of ProvisionSeed (offline codes). */
  certificate: WalletCertificate;
  /** RFC 8032 32-byte private seed of the key the certificate names. */
  privateKey: Uint8Array;
  /**
   * Online codes of steps ≤ this were (or may have been) used by an earlier
   * run: a later run makes online codes of later steps only.
   */
  usedThroughStep?: number;
}

export interface ApiKeyHolder {
  id: string;
  apiKey: string;
}

/** The operator-provisioned material a run without test control needs. */
export interface Credentials {
  target?: string;
  currency: string;
  /** The issuer profile as ProvisionSeed returned it (code key included). */
  profile: IssuerProfile;
  merchant?: ApiKeyHolder;
  terminal?: ApiKeyHolder;
  wallets: BenchWallet[];
}

interface WalletJson {
  walletId: string;
  handle: number;
  seed: string;
  certificate: string;
  privateKey: string;
  usedThroughStep?: number;
}

interface CredentialsJson {
  kind: string;
  version: number;
  target?: string;
  createdAt?: string;
  currency: string;
  profile: JsonValue;
  merchant?: { merchantId: string; apiKey: string };
  terminal?: { terminalId: string; apiKey: string };
  wallets: WalletJson[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string, what: string, len?: number) => {
  const b = Buffer.from(s, "hex");
  if (!/^[0-9a-f]*$/i.test(s) || (len !== undefined && b.length !== len)) {
    throw new Error(`credentials: ${what} is not ${len ?? "some"}-byte hex`);
  }
  return new Uint8Array(b);
};

export function credentialsToJson(c: Credentials): string {
  const j: CredentialsJson = {
    kind: CREDENTIALS_KIND,
    version: 1,
    ...(c.target ? { target: c.target } : {}),
    createdAt: new Date().toISOString(),
    currency: c.currency,
    profile: toJson(IssuerProfileSchema, c.profile),
    ...(c.merchant ? { merchant: { merchantId: c.merchant.id, apiKey: c.merchant.apiKey } } : {}),
    ...(c.terminal ? { terminal: { terminalId: c.terminal.id, apiKey: c.terminal.apiKey } } : {}),
    wallets: c.wallets.map((w) => ({
      walletId: w.walletId,
      handle: w.handle,
      seed: hex(w.seed),
      certificate: Buffer.from(toBinary(WalletCertificateSchema, w.certificate)).toString("base64"),
      privateKey: hex(w.privateKey),
      ...(w.usedThroughStep !== undefined ? { usedThroughStep: w.usedThroughStep } : {}),
    })),
  };
  return `${JSON.stringify(j, null, 1)}\n`;
}

export function credentialsFromJson(text: string, path = "credentials"): Credentials {
  const j = JSON.parse(text) as CredentialsJson;
  if (j.kind !== CREDENTIALS_KIND || j.version !== 1) {
    throw new Error(`${path} is not a ${CREDENTIALS_KIND} v1 file`);
  }
  if (typeof j.currency !== "string" || !Array.isArray(j.wallets)) {
    throw new Error(`${path}: currency and wallets are required`);
  }
  return {
    ...(j.target ? { target: j.target } : {}),
    currency: j.currency,
    profile: fromJson(IssuerProfileSchema, j.profile),
    ...(j.merchant ? { merchant: { id: j.merchant.merchantId, apiKey: j.merchant.apiKey } } : {}),
    ...(j.terminal ? { terminal: { id: j.terminal.terminalId, apiKey: j.terminal.apiKey } } : {}),
    wallets: j.wallets.map((w, i) => {
      if (!Number.isInteger(w.handle)) throw new Error(`${path}: wallets[${i}].handle`);
      return {
        walletId: w.walletId,
        handle: w.handle,
        seed: unhex(w.seed, `wallets[${i}].seed`, 32),
        certificate: fromBinary(
          WalletCertificateSchema,
          new Uint8Array(Buffer.from(w.certificate, "base64")),
        ),
        privateKey: unhex(w.privateKey, `wallets[${i}].privateKey`, 32),
        ...(w.usedThroughStep !== undefined ? { usedThroughStep: w.usedThroughStep } : {}),
      };
    }),
  };
}

export async function readCredentials(path: string): Promise<Credentials> {
  return credentialsFromJson(await readFile(path, "utf8"), path);
}

/** Writes atomically (temp file + rename), mode 0600: the file holds secrets. */
export async function writeCredentials(path: string, c: Credentials): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, credentialsToJson(c), { mode: 0o600 });
  await rename(tmp, path);
}

/** An account the operator made, to provision one wallet on (ProvisionSeed revokes its previous one). */
export interface AccountLogin {
  accountId: string;
  password: string;
}

/**
 * "accountId password" lines (or a JSON array of {accountId, password}):
 * accounts the operator created on a target without test control.
 */
export function parseAccounts(text: string): AccountLogin[] {
  const t = text.trim();
  if (t.startsWith("[")) return JSON.parse(t) as AccountLogin[];
  return t
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const sp = l.search(/\s/);
      if (sp < 0) throw new Error(`accounts: line "${l.slice(0, 40)}" has no password`);
      return { accountId: l.slice(0, sp), password: l.slice(sp).trim() };
    });
}

export type ProvisionProgress = (done: number, total: number) => void;

/**
 * Provisions `count` wallets, `parallel` at a time: CreateAccount (test
 * control) unless `accounts` are given, then WalletService.ProvisionSeed with
 * a fresh Ed25519 key per wallet. ProvisionSeed revokes the account's
 * previous wallet, so every wallet needs its own account: two scrypt hashes
 * per wallet on the server (CreateAccount, ProvisionSeed), which bound the
 * rate whatever the client does.
 */
export async function provisionBenchWallets(
  t: UnaryTransport,
  o: {
    count: number;
    currency: string;
    parallel: number;
    accounts?: AccountLogin[];
    onProgress?: ProvisionProgress;
  },
): Promise<{ wallets: BenchWallet[]; profile: IssuerProfile | undefined }> {
  const count = o.accounts ? Math.min(o.count, o.accounts.length) : o.count;
  const init = benchAccountInit(o.currency);
  const out: BenchWallet[] = new Array(count);
  let profile: IssuerProfile | undefined;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const login = o.accounts
        ? o.accounts[i]!
        : {
            accountId: (await callUnary(t, ConformanceService.method.createAccount, init))
              .accountId,
            password: PASSWORD,
          };
      const privateKey = new Uint8Array(randomBytes(32));
      const r = await callUnary(t, WalletService.method.provisionSeed, {
        accountId: login.accountId,
        password: login.password,
        walletPublicKey: ed25519FromSeed(privateKey).publicKey,
        deviceLabel: "paycode-bench",
      });
      if (!r.certificate) throw new Error("ProvisionSeed returned no certificate");
      profile ??= r.profile;
      out[i] = {
        walletId: r.walletId,
        handle: r.handle,
        seed: r.seed,
        certificate: r.certificate,
        privateKey,
      };
      done++;
      if (done % 50 === 0 || done === count) o.onProgress?.(done, count);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, count)) }, worker));
  return { wallets: out, profile };
}
