import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  buildOfflineCode,
  type Clock,
  CODES_PER_STEP,
  ed25519FromSeed,
  OnlineCodec,
  stepOf,
  systemClock,
} from "@paycode/protocol";
import type { Payment } from "@paycode/protocol/v1";
import {
  type GetWalletResponse,
  type IssuerProfile,
  IssuerProfileSchema,
  type ProvisionSeedResponse,
  type WalletCertificate,
  type WalletCertificateBody,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
  type WalletLimits,
  WalletLimitsSchema,
  WalletService,
} from "@paycode/protocol/v1";
import {
  PaycodeProtocolError,
  WalletCodesExhaustedError,
  WalletNotProvisionedError,
} from "./errors.js";
import { validatePayment } from "./validate.js";
import type { WalletState, WalletStateStore } from "./wallet-store.js";

const STEP_MS = 60_000;

export interface WalletClientOptions {
  /** Where the seed, keys and counters live. */
  store: WalletStateStore;
  /** The wallet's own clock; the issuer offset learnt at provisioning is added to it. */
  clock?: Clock;
  /** Needed only for the online calls (provision, confirm, getWallet, revoke). */
  transport?: Transport;
  /** Deadline of each online call; default 10000 ms. */
  callTimeoutMs?: number;
}

export interface ProvisionInput {
  accountId: string;
  password: string;
  deviceLabel: string;
  /** Recorded in the state for the user's reference only. */
  serverUrl?: string;
}

/** What provisioning established, for display. */
export interface ProvisionedWallet {
  walletId: string;
  handle: number;
  clockOffsetMs: number;
  profile: IssuerProfile;
  limits: WalletLimits;
  certificate: WalletCertificateBody;
}

/**
 * A phone wallet. `provision` is the only call that needs the issuer; after
 * it, `onlineCode` and `offlineCode` work with no network at all. Every code
 * advances a counter that is made durable in the store before the code is
 * returned, so no (step, counter) or offline counter is ever issued twice,
 * even across crashes and restarts.
 */
export class WalletClient {
  private readonly store: WalletStateStore;
  private readonly clock: Clock;
  private readonly transport: Transport | undefined;
  private readonly callTimeoutMs: number;
  private rpc: Client<typeof WalletService> | undefined;
  private cache: { state: string; codec: OnlineCodec; profile: IssuerProfile } | undefined;

  constructor(options: WalletClientOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
  }

  /** Whether the store holds a provisioned wallet. */
  get isProvisioned(): boolean {
    return this.store.load() !== undefined;
  }

  /** The stored state; throws when not provisioned. */
  state(): WalletState {
    const s = this.store.load();
    if (!s) throw new WalletNotProvisionedError();
    return s;
  }

  get walletId(): string {
    return this.state().walletId;
  }

  get handle(): number {
    return this.state().handle;
  }

  /** Issuer clock minus wallet clock, measured at provisioning and at every GetWallet. */
  get clockOffsetMs(): number {
    return this.state().clockOffsetMs;
  }

  get profile(): IssuerProfile {
    return fromBinary(IssuerProfileSchema, b64(this.state().profile));
  }

  get limits(): WalletLimits {
    return fromBinary(WalletLimitsSchema, b64(this.state().limits));
  }

  get certificate(): WalletCertificate {
    return fromBinary(WalletCertificateSchema, b64(this.state().certificate));
  }

  get certificateBody(): WalletCertificateBody {
    return fromBinary(WalletCertificateBodySchema, this.certificate.body);
  }

  /** The wallet's estimate of the issuer clock, Unix ms. */
  nowMs(): number {
    return this.clock.now() + this.state().clockOffsetMs;
  }

  /**
   * Provisions a new wallet online: a fresh Ed25519 key, ProvisionSeed, and
   * the clock offset (issuer time minus the midpoint of the call). Replaces
   * any wallet already in the store; the issuer revokes the old one.
   */
  async provision(input: ProvisionInput): Promise<ProvisionedWallet> {
    const walletKeySeed = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const keyPair = ed25519FromSeed(walletKeySeed);
    const sentAt = this.clock.now();
    const res = await this.client().provisionSeed(
      {
        accountId: input.accountId,
        password: input.password,
        walletPublicKey: keyPair.publicKey,
        deviceLabel: input.deviceLabel,
      },
      { timeoutMs: this.callTimeoutMs },
    );
    const receivedAt = this.clock.now();
    const checked = checkProvisionResponse(res, keyPair.publicKey);
    const clockOffsetMs = Math.round(checked.serverMs - (sentAt + receivedAt) / 2);
    const state: WalletState = {
      version: 1,
      ...(input.serverUrl !== undefined ? { serverUrl: input.serverUrl } : {}),
      accountId: input.accountId,
      walletId: res.walletId,
      handle: res.handle,
      seed: toB64(res.seed),
      walletKeySeed: toB64(walletKeySeed),
      certificate: toB64(toBinary(WalletCertificateSchema, checked.certificate)),
      profile: toB64(toBinary(IssuerProfileSchema, checked.profile)),
      limits: toB64(toBinary(WalletLimitsSchema, checked.limits)),
      token: res.walletToken,
      clockOffsetMs,
      provisionedAt: checked.serverMs,
      onlineStep: -1,
      onlineNextCounter: 0,
      // Counter 0 is the protobuf default, indistinguishable from "unset"; start at 1.
      offlineNextCounter: "1",
    };
    this.store.update(() => state);
    return {
      walletId: res.walletId,
      handle: res.handle,
      clockOffsetMs,
      profile: checked.profile,
      limits: checked.limits,
      certificate: checked.body,
    };
  }

  /** Online codes still available in the current time step (0..8). */
  get codesLeftThisStep(): number {
    const s = this.state();
    const step = stepOf(Math.floor((this.clock.now() + s.clockOffsetMs) / 1000));
    if (step > s.onlineStep) return CODES_PER_STEP;
    return CODES_PER_STEP - s.onlineNextCounter;
  }

  /**
   * Makes an 18-digit online code, offline. Each call takes the next of the
   * 8 counters of the current one-minute step; when they are used up it
   * throws WalletCodesExhaustedError with the wait until the next step
   * (waiting is the caller's choice; a till cannot use a code that arrives
   * a minute late). If the wallet clock steps backwards, codes continue from
   * the last step used rather than repeat an old (step, counter).
   */
  onlineCode(): string {
    let allocated = { step: 0, counter: 0 };
    const state = this.store.update((cur) => {
      if (!cur) throw new WalletNotProvisionedError();
      const nowMs = this.clock.now() + cur.clockOffsetMs;
      const step = Math.max(stepOf(Math.floor(nowMs / 1000)), cur.onlineStep);
      const counter = step === cur.onlineStep ? cur.onlineNextCounter : 0;
      if (counter >= CODES_PER_STEP) {
        throw new WalletCodesExhaustedError(step, (step + 1) * STEP_MS - nowMs);
      }
      allocated = { step, counter };
      return { ...cur, onlineStep: step, onlineNextCounter: counter + 1 };
    });
    // The counter is durable now; generating the code cannot reuse it.
    return this.codec(state).generate({
      handle: state.handle,
      seed: b64(state.seed),
      step: allocated.step,
      counter: allocated.counter,
    });
  }

  /** Makes a signed offline QR text ("PC1:..."), offline, with the next monotonic counter. */
  offlineCode(): string {
    let counter = 0n;
    const state = this.store.update((cur) => {
      if (!cur) throw new WalletNotProvisionedError();
      counter = BigInt(cur.offlineNextCounter);
      if (counter >= (1n << 64n) - 1n) throw new Error("offline counter exhausted");
      return { ...cur, offlineNextCounter: (counter + 1n).toString() };
    });
    return buildOfflineCode({
      certificate: fromBinary(WalletCertificateSchema, b64(state.certificate)),
      walletId: state.walletId,
      counter,
      issuedAt: Math.floor((this.clock.now() + state.clockOffsetMs) / 1000),
      walletPrivateKey: ed25519FromSeed(b64(state.walletKeySeed)).privateKey,
    });
  }

  /** Confirms a payment waiting for the password (step-up); returns it after confirmation. */
  async confirm(paymentId: string, password: string): Promise<Payment> {
    const sentAt = this.clock.now();
    const res = await this.client().confirmPayment({ paymentId, password }, this.auth());
    this.resync(res.serverTime, sentAt, this.clock.now());
    const payment = validatePayment(res.payment, "ConfirmPayment");
    if (payment.paymentId !== paymentId) {
      throw new PaycodeProtocolError(
        `ConfirmPayment returned payment ${payment.paymentId}, asked for ${paymentId}`,
      );
    }
    return payment;
  }

  /**
   * The wallet's balance, state and pending payments, from the issuer. Its
   * `server_time` re-syncs the clock offset (issuer time minus the midpoint
   * of the call), so a wallet follows an issuer clock that was moved or set.
   */
  async getWallet(): Promise<GetWalletResponse> {
    const sentAt = this.clock.now();
    const res = await this.client().getWallet({}, this.auth());
    const receivedAt = this.clock.now();
    if (res.walletId !== this.walletId) {
      throw new PaycodeProtocolError(`GetWallet returned wallet ${JSON.stringify(res.walletId)}`);
    }
    if (!res.balance) throw new PaycodeProtocolError("GetWallet response has no balance");
    for (const p of res.pendingPayments) validatePayment(p, "GetWallet pending payment");
    this.resync(res.serverTime, sentAt, receivedAt);
    return res;
  }

  /**
   * Keeps the offset to the issuer clock from a response's `server_time`:
   * issuer time minus the midpoint of the call. Codes already made keep
   * their counters: if the issuer clock went back, online codes continue
   * from the last step used (never reusing a step and counter) until the
   * clock catches up.
   */
  private resync(serverTime: Timestamp | undefined, sentAt: number, receivedAt: number): void {
    if (!serverTime) return;
    const clockOffsetMs = Math.round(timestampMs(serverTime) - (sentAt + receivedAt) / 2);
    this.store.update((cur) => {
      if (!cur) throw new WalletNotProvisionedError();
      return cur.clockOffsetMs === clockOffsetMs ? cur : { ...cur, clockOffsetMs };
    });
  }

  /**
   * Re-syncs the clock offset from the issuer (a GetWallet); returns the
   * offset before and after. Online codes then follow the issuer clock even
   * if it was moved since provisioning (a test deployment's clock, say).
   */
  async sync(): Promise<{ previousOffsetMs: number; clockOffsetMs: number; synced: boolean }> {
    const previousOffsetMs = this.clockOffsetMs;
    const res = await this.getWallet();
    return {
      previousOffsetMs,
      clockOffsetMs: this.clockOffsetMs,
      synced: res.serverTime !== undefined,
    };
  }

  /** Revokes this wallet at the issuer; returns when it took effect. */
  async revoke(reason = ""): Promise<Date> {
    const res = await this.client().revokeSeed({ reason }, this.auth());
    if (!res.revokedAt) throw new PaycodeProtocolError("RevokeSeed response has no revoked_at");
    return new Date(timestampMs(res.revokedAt));
  }

  private client(): Client<typeof WalletService> {
    if (!this.transport)
      throw new Error("this wallet client has no transport: online calls need one");
    this.rpc ??= createClient(WalletService, this.transport);
    return this.rpc;
  }

  private auth(): CallOptions {
    return {
      headers: { authorization: `Bearer ${this.state().token}` },
      timeoutMs: this.callTimeoutMs,
    };
  }

  private codec(state: WalletState): OnlineCodec {
    if (this.cache?.state !== state.profile) {
      const profile = fromBinary(IssuerProfileSchema, b64(state.profile));
      const codec = new OnlineCodec({
        prefix: profile.issuerPrefix,
        codeKey: profile.codeKey,
        windowBackSteps: profile.windowBackSteps,
        windowAheadSteps: profile.windowAheadSteps,
        lookbackSteps: profile.lookbackSteps,
      });
      this.cache = { state: state.profile, codec, profile };
    }
    return this.cache.codec;
  }
}

interface CheckedProvision {
  certificate: WalletCertificate;
  body: WalletCertificateBody;
  profile: IssuerProfile;
  limits: WalletLimits;
  serverMs: number;
}

/** Strict checks of a ProvisionSeed response: a wallet built on a bad one would fail later, obscurely. */
export function checkProvisionResponse(
  res: ProvisionSeedResponse,
  walletPublicKey: Uint8Array,
): CheckedProvision {
  const fail = (what: string): never => {
    throw new PaycodeProtocolError(`ProvisionSeed response: ${what}`);
  };
  if (!res.walletId) fail("empty wallet_id");
  if (res.handle >= 2 ** 28) fail(`handle ${res.handle} exceeds 28 bits`);
  if (res.seed.length !== 32) fail(`seed is ${res.seed.length} bytes, expected 32`);
  if (!res.walletToken) fail("empty wallet_token");
  if (!res.serverTime) fail("no server_time");
  const certificate = res.certificate ?? fail("no certificate");
  if (!certificate.issuerKeyId) fail("certificate has no issuer_key_id");
  if (certificate.issuerSignature.length !== 64) fail("certificate signature is not 64 bytes");
  let body: WalletCertificateBody;
  try {
    body = fromBinary(WalletCertificateBodySchema, certificate.body);
  } catch {
    return fail("certificate body does not parse");
  }
  if (body.walletId !== res.walletId) fail("certificate is for another wallet id");
  if (!equalBytes(body.walletPublicKey, walletPublicKey)) {
    fail("certificate does not carry the wallet's public key");
  }
  if (body.notAfter <= body.notBefore) fail("certificate validity is empty");
  const profile = res.profile ?? fail("no profile");
  if (profile.issuerPrefix < 10 || profile.issuerPrefix > 99) {
    fail(`issuer_prefix ${profile.issuerPrefix} is not 10..99`);
  }
  if (profile.codeKey.length !== 32) fail("profile code_key is not 32 bytes");
  if (!/^[A-Z]{3}$/.test(profile.currency)) fail("profile currency is not ISO 4217");
  const limits = res.limits ?? fail("no limits");
  return { certificate, body, profile, limits, serverMs: timestampMs(res.serverTime!) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// Buffer on Node.js; atob/btoa where there is no Buffer (browsers).
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

function b64(s: string): Uint8Array {
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(s, "base64"));
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function toB64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes).toString("base64");
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
