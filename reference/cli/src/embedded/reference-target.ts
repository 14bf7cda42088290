import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MutantSpec } from "@paycode/conformance";
import { OffsetClock } from "@paycode/protocol";
import {
  ISSUER_MUTANTS,
  Issuer,
  isMutantName,
  MUTANT_NAMES,
  type MutantName,
  silentLogger,
  startServer,
} from "@paycode/server";
import {
  BOUNDARY_MUTANT_NAMES,
  BOUNDARY_MUTANTS,
  type BoundaryMutantName,
  boundaryProfile,
  isBoundaryMutant,
  startAuthMiddlewareProxy,
  tagImplementation,
  wrapIssuer,
} from "./boundary-mutants.js";
import type { MutantProxy } from "./mutant-proxy.js";
import { FREE_TEXT_MUTANTS } from "./mutants-free-text.js";
import { MESSAGE_SIZE_MUTANTS } from "./mutants-message-size.js";
import { PAYMENT_MUTANTS } from "./mutants-payment.js";
import { SCAN_MUTANTS } from "./mutants-scan.js";
import { SETTLE_MUTANTS } from "./mutants-settle.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/** Wrapper mutants of the per-area catalogue files, by name. */
const WRAPPER_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  ...SCAN_MUTANTS,
  ...PAYMENT_MUTANTS,
  ...SETTLE_MUTANTS,
  ...FREE_TEXT_MUTANTS,
  ...MESSAGE_SIZE_MUTANTS,
};

/** Every mutant the embedded target can run: the issuer's own, then the boundary ones. */
export const ALL_MUTANT_NAMES: readonly AnyMutantName[] = [
  ...MUTANT_NAMES,
  ...BOUNDARY_MUTANT_NAMES,
  ...Object.keys(WRAPPER_MUTANTS),
];

/** A mutant name of the reference; wrapper mutants are named by string. */
export type AnyMutantName = MutantName | BoundaryMutantName | (string & {});

/** The mutant catalogue of the reference: every mutant with the requirements it breaks. */
export const ALL_MUTANTS: readonly MutantSpec[] = Object.entries({
  ...ISSUER_MUTANTS,
  ...BOUNDARY_MUTANTS,
  ...WRAPPER_MUTANTS,
}).map(([name, m]) => ({
  name,
  breaks: m.breaks,
  summary: m.summary,
  ...("provenBy" in m && m.provenBy !== undefined ? { provenBy: m.provenBy } : {}),
}));

export function isAnyMutantName(name: string): name is AnyMutantName {
  return (ALL_MUTANT_NAMES as readonly string[]).includes(name);
}

/** The reference server started in this process for a self-certification or a mutant run. */
export interface EmbeddedTarget {
  readonly url: string;
  readonly mutant: AnyMutantName | undefined;
  close(): Promise<void>;
}

export interface EmbeddedTargetOptions {
  /** Break one rule (see MUTANT_NAMES and BOUNDARY_MUTANT_NAMES). */
  mutant?: AnyMutantName;
  /** Lower the scrypt cost of payment passwords: mutant runs make hundreds of accounts. */
  fastPasswords?: boolean;
  /** "2" (default) serves HTTP/2 and HTTP/1.1 on one port. */
  http?: "1.1" | "2";
  /** Unix milliseconds the issuer clock starts at (default: now); it runs on from there. */
  clockStartMs?: number;
}

export { BOUNDARY_MUTANT_NAMES, type BoundaryMutantName, MUTANT_NAMES, type MutantName };

/**
 * Starts the reference issuer on a fresh temporary SQLite file with test
 * control and a clock it may advance, set and freeze, listening on a free loopback port.
 * `close()` stops it and deletes the file.
 */
export async function startEmbeddedTarget(o: EmbeddedTargetOptions = {}): Promise<EmbeddedTarget> {
  const dir = mkdtempSync(join(tmpdir(), "paycode-conformance-"));
  const clock = new OffsetClock(undefined, o.clockStartMs);
  if (o.mutant !== undefined && !isAnyMutantName(o.mutant)) {
    throw new Error(`unknown mutant ${o.mutant}`);
  }
  const boundary = o.mutant !== undefined && isBoundaryMutant(o.mutant) ? o.mutant : undefined;
  const wrapper = o.mutant !== undefined ? WRAPPER_MUTANTS[o.mutant] : undefined;
  const core = o.mutant !== undefined && isMutantName(o.mutant) ? o.mutant : undefined;
  let issuer: Issuer | undefined;
  let proxy: MutantProxy | undefined;
  try {
    issuer = await Issuer.open({
      store: `sqlite:${join(dir, "paycode.db")}`,
      clock,
      masterKey: randomBytes(32),
      advanceClock: (ms) => clock.advance(ms),
      settableClock: clock,
      ...(core ? { mutant: core } : {}),
      ...(boundary ? { profile: boundaryProfile(boundary) } : {}),
      ...(wrapper?.profile ? { profile: wrapper.profile } : {}),
      ...(o.fastPasswords ? { passwordCostN: 2 ** 10 } : {}),
    });
    const server = await startServer({
      issuer: boundary
        ? tagImplementation(wrapIssuer(issuer, boundary), boundary)
        : wrapper && o.mutant !== undefined
          ? tagImplementation(wrapper.wrap(issuer), o.mutant)
          : issuer,
      host: "127.0.0.1",
      port: 0,
      http: o.http ?? "2",
      enableTestControl: true,
      logger: silentLogger,
      closeGraceMs: 500,
    });
    if (boundary === "auth-middleware") proxy = await startAuthMiddlewareProxy(server.url);
    else if (wrapper?.proxy) proxy = await wrapper.proxy(server.url);
    let closed = false;
    return {
      url: proxy?.url ?? server.url,
      mutant: o.mutant,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await proxy?.close();
          await server.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await issuer?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
