import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AdvanceClockResponseSchema,
  CreateMerchantRequestSchema,
  type Payment,
  RecordOutcome,
  type UploadOfflineBatchResponse,
} from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";
import { mapPayment, override } from "./api-override.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): what `getEncoded()` gives in Java. */
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

/** The issuer clock, read through test control (Unix ms). */
async function issuerNowMs(issuer: IssuerApi): Promise<number> {
  const caps = await issuer.control.getCapabilities();
  return caps.now ? timestampMs(caps.now) : 0;
}

/**
 * Wrapper mutants for the requirements of the settle area. Each violates the
 * requirement IDs in `breaks` in its main failure mode: the way a careful
 * vendor in another language could still get that rule wrong.
 */
export const SETTLE_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  "issuer-key-spki": {
    breaks: ["SETTLE-1"],
    summary:
      "GetIssuerKeys publishes each issuer public key DER-encoded (44-byte SubjectPublicKeyInfo) instead of its 32 raw bytes.",
    wrap: (issuer) =>
      override(issuer, {
        getIssuerKeys: async (c) => {
          const r = await issuer.getIssuerKeys(c);
          for (const k of r.keys) {
            const der = new Uint8Array(ED25519_SPKI_PREFIX.length + k.publicKey.length);
            der.set(ED25519_SPKI_PREFIX);
            der.set(k.publicKey, ED25519_SPKI_PREFIX.length);
            k.publicKey = der;
          }
          return r;
        },
      }),
  },
  "issuer-key-validity-in-ms": {
    breaks: ["SETTLE-1"],
    summary:
      "GetIssuerKeys reports each key's validity interval in Unix milliseconds where the protocol has seconds.",
    wrap: (issuer) =>
      override(issuer, {
        getIssuerKeys: async (c) => {
          const r = await issuer.getIssuerKeys(c);
          for (const k of r.keys) {
            k.notBefore *= 1000n;
            k.notAfter *= 1000n;
          }
          return r;
        },
      }),
  },
  "revocation-list-cached": {
    breaks: ["SETTLE-2"],
    summary:
      "GetIssuerKeys serves the revocation list from a cache refreshed once a minute, under a fresh generated_at.",
    wrap: (issuer) => {
      let cache: { atMs: number; ids: string[]; version: bigint } | undefined;
      return override(issuer, {
        getIssuerKeys: async (c) => {
          const r = await issuer.getIssuerKeys(c);
          const at = r.generatedAt ? timestampMs(r.generatedAt) : 0;
          if (cache && at - cache.atMs < 60_000) {
            r.revokedWalletIds = [...cache.ids];
            r.revocationListVersion = cache.version;
          } else {
            cache = { atMs: at, ids: [...r.revokedWalletIds], version: r.revocationListVersion };
          }
          return r;
        },
      });
    },
  },
  "revocation-list-strictly-before": {
    breaks: ["SETTLE-2"],
    summary:
      "GetIssuerKeys lists the revocations made strictly before generated_at, leaving out one made at that very millisecond.",
    wrap: (issuer) => filterRevocations(issuer, (at, now) => at < now),
  },
  "revocations-pruned-at-key-age": {
    breaks: ["WALLET-7"],
    summary:
      "GetIssuerKeys drops a revoked wallet max_key_age_seconds after its revocation, while its certificate is still valid.",
    wrap: (issuer) => filterRevocations(issuer, (at, now, maxKeyAgeMs) => now - at <= maxKeyAgeMs),
  },
  "results-grouped-by-outcome": {
    breaks: ["SETTLE-4"],
    summary:
      "UploadOfflineBatch returns the SETTLED results first, then the others, instead of in request order.",
    wrap: (issuer) =>
      override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const r = await issuer.uploadOfflineBatch(t, req);
          const settled = (o: RecordOutcome) => (o === RecordOutcome.SETTLED ? 0 : 1);
          r.results = [...r.results].sort((a, b) => settled(a.outcome) - settled(b.outcome));
          return r;
        },
      }),
  },
  "record-id-by-code": {
    breaks: ["SETTLE-4"],
    summary:
      "Results take their record_id from a map keyed by code, so two records of one code both carry the first one's record_id.",
    wrap: (issuer) =>
      override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const r = await issuer.uploadOfflineBatch(t, req);
          const idOfCode = new Map<string, string>();
          for (const rec of req.records) {
            if (!idOfCode.has(rec.code)) idOfCode.set(rec.code, rec.recordId);
          }
          r.results.forEach((x, i) => {
            const code = req.records[i]?.code;
            if (code !== undefined) x.recordId = idOfCode.get(code) ?? x.recordId;
          });
          return r;
        },
      }),
  },
  "batch-conflict-as-retry": {
    breaks: ["SETTLE-6"],
    summary:
      "A batch_id reused with different records is answered as a retry, with the first upload's results.",
    wrap: (issuer) => {
      const first = new Map<string, UploadOfflineBatchResponse>();
      return override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const key = `${t.terminalId}\u0000${req.batchId}`;
          try {
            const r = await issuer.uploadOfflineBatch(t, req);
            if (!first.has(key)) first.set(key, r);
            return r;
          } catch (e) {
            const prior = first.get(key);
            if (prior && e instanceof ConnectError && e.code === Code.AlreadyExists) return prior;
            throw e;
          }
        },
      });
    },
  },
  "clearing-merchant": {
    breaks: ["AUTH-4"],
    summary:
      "Offline settlements are booked to one clearing merchant of the issuer instead of the merchant the terminal was created for.",
    wrap: (issuer) => {
      let clearing: Promise<string> | undefined;
      return override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          clearing ??= issuer.control
            .createMerchant(create(CreateMerchantRequestSchema, { name: "offline clearing" }))
            .then((m) => m.merchantId);
          return issuer.uploadOfflineBatch({ ...t, merchantId: await clearing }, req);
        },
      });
    },
  },
  "capabilities-machine-clock": {
    breaks: ["RPC-2"],
    summary:
      "GetCapabilities.now is read from the machine clock, not from the issuer clock the rules use.",
    wrap: (issuer) =>
      override(issuer, {
        control: {
          getCapabilities: async () => {
            const r = await issuer.control.getCapabilities();
            r.now = timestampFromMs(Date.now());
            return r;
          },
        },
      }),
  },
  "issuer-keys-machine-clock": {
    breaks: ["RPC-2"],
    summary:
      "GetIssuerKeys.generated_at is read from the machine clock, not from the issuer clock the rules use.",
    wrap: (issuer) =>
      override(issuer, {
        getIssuerKeys: async (c) => {
          const r = await issuer.getIssuerKeys(c);
          r.generatedAt = timestampFromMs(Date.now());
          return r;
        },
      }),
  },
  "payment-times-machine-clock": {
    breaks: ["RPC-2"],
    summary:
      "Payments report created_at and updated_at from the machine clock (the database's now()), not from the issuer clock.",
    wrap: (issuer) => {
      const machine = (p: Payment) => {
        const t = timestampFromMs(Date.now());
        p.createdAt = t;
        p.updatedAt = t;
      };
      return override(issuer, {
        scan: async (m, req) => {
          const r = await issuer.scan(m, req);
          mapPayment(r.payment, machine);
          return r;
        },
        getPayment: async (m, req) => {
          const r = await issuer.getPayment(m, req);
          mapPayment(r.payment, machine);
          return r;
        },
      });
    },
  },
  "advance-clock-reports-only": {
    breaks: ["CTRL-6"],
    summary:
      "AdvanceClock moves only the time test control reports; every rule keeps the unmoved issuer clock.",
    wrap: (issuer) => {
      let offsetMs = 0;
      const shifted = async () => timestampFromMs((await issuerNowMs(issuer)) + offsetMs);
      return override(issuer, {
        control: {
          advanceClock: async (req) => {
            if (req.seconds <= 0) return issuer.control.advanceClock(req);
            offsetMs += req.seconds * 1000;
            return create(AdvanceClockResponseSchema, { now: await shifted() });
          },
          getCapabilities: async () => {
            const r = await issuer.control.getCapabilities();
            r.now = await shifted();
            return r;
          },
        },
      });
    },
  },
  "advance-clock-unclaimed": {
    breaks: ["CTRL-6"],
    summary:
      "GetCapabilities leaves out controllable-clock while AdvanceClock still moves the clock instead of failing unimplemented.",
    wrap: (issuer) =>
      override(issuer, {
        control: {
          getCapabilities: async () => {
            const r = await issuer.control.getCapabilities();
            r.features = r.features.filter((f) => f !== "controllable-clock");
            return r;
          },
        },
      }),
  },
  "expired-as-invalid": {
    breaks: ["VERIFY-9"],
    summary:
      "Settlement reports every offline code the verifier refuses as REJECTED_INVALID, expired ones included.",
    wrap: (issuer) =>
      override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const r = await issuer.uploadOfflineBatch(t, req);
          for (const x of r.results) {
            if (x.outcome === RecordOutcome.REJECTED_EXPIRED)
              x.outcome = RecordOutcome.REJECTED_INVALID;
          }
          return r;
        },
      }),
  },
};

/**
 * `issuer` whose GetIssuerKeys lists only the revoked wallets `keep`
 * accepts, given when each was revoked (remembered from RevokeSeed), the
 * response's generated_at and max_key_age_seconds, all in milliseconds.
 */
function filterRevocations(
  issuer: IssuerApi,
  keep: (revokedAtMs: number, generatedAtMs: number, maxKeyAgeMs: number) => boolean,
): IssuerApi {
  const revokedAt = new Map<string, number>();
  return override(issuer, {
    revokeSeed: async (w, req) => {
      const r = await issuer.revokeSeed(w, req);
      revokedAt.set(w.walletId, r.revokedAt ? timestampMs(r.revokedAt) : 0);
      return r;
    },
    getIssuerKeys: async (c) => {
      const r = await issuer.getIssuerKeys(c);
      const now = r.generatedAt ? timestampMs(r.generatedAt) : 0;
      const maxKeyAgeMs = (r.profile?.maxKeyAgeSeconds ?? 0) * 1000;
      r.revokedWalletIds = r.revokedWalletIds.filter((id) => {
        const at = revokedAt.get(id);
        return at === undefined || keep(at, now, maxKeyAgeMs);
      });
      return r;
    },
  });
}
