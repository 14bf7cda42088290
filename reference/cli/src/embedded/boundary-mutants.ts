import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ProfileOverrides } from "@paycode/protocol";
import { OnlineCodec } from "@paycode/protocol";
import type { WalletLimits } from "@paycode/protocol/v1";
import {
  CancelAction,
  CodeKind,
  DeclineReason,
  MoneySchema,
  type Payment,
  PaymentStatus,
  RecordOutcome,
} from "@paycode/protocol/v1";
import type { IssuerApi, MutantDescription } from "@paycode/server";
import { mapPayment, override } from "./api-override.js";
import { type MutantProxy, passThrough, startMutantProxy } from "./mutant-proxy.js";
import { publishProfile } from "./published-profile.js";

/**
 * Mutants made outside the issuer core, at its API boundary (a wrapper of
 * `IssuerApi`) or in front of the server (an HTTP proxy). They complement
 * the issuer's own MUTANT_NAMES with bug classes that live around the core:
 * validation, authentication middleware, status and reason mapping,
 * idempotency keys, published-versus-enforced parameters. Each breaks one
 * kind of rule; the mutant matrix requires every case to catch at least
 * one mutant, so a case that cannot fail is found.
 */
export const BOUNDARY_MUTANTS = {
  "swap-code-kind": {
    breaks: ["SCAN-13"],
    summary: "code_kind of payments reported the wrong way round.",
  },
  "narrow-window": {
    breaks: ["VERIFY-5", "VERIFY-3"],
    summary: "The verifier enforces B=1, F=0, L=120 while publishing the default 2, 1, 60.",
  },
  "decline-reason-mixup": {
    breaks: ["VERIFY-9"],
    summary:
      "CODE_INVALID reported as CODE_EXPIRED, CODE_MALFORMED as CODE_INVALID, REJECTED_MALFORMED as REJECTED_INVALID.",
  },
  "counter-not-in-usage-key": {
    breaks: ["SCAN-11", "WALLET-5"],
    summary: "The online usage key is (wallet, step) without the counter: one code per minute.",
  },
  "step-up-at-limit": {
    breaks: ["LIMIT-1"],
    summary: "Step-up triggers at amount ≥ per_payment_password_free instead of >.",
  },
  "hide-debt": {
    breaks: ["CTRL-4"],
    summary: "GetWallet reports a negative balance (offline debt) as zero.",
  },
  "trust-upload-time": {
    breaks: ["SETTLE-10", "SETTLE-11"],
    summary: "Settlement uses the upload time for accepted_at and keys_synced_at.",
  },
  "batch-handling": {
    breaks: ["SETTLE-4", "SETTLE-5"],
    summary: "Batch ids are not idempotency keys, and results come back in reverse order.",
  },
  "burn-rejected-records": {
    breaks: ["SETTLE-9"],
    summary: "Records rejected at settlement burn their code.",
  },
  "global-out-trade-no": {
    breaks: ["AUTH-3"],
    summary: "out_trade_no is one namespace for all merchants.",
  },
  "refund-bookkeeping": {
    breaks: ["REFUND-6", "REFUND-8", "RPC-7"],
    summary:
      "Partial refunds report REFUNDED, GetPayment forgets refunds, out_refund_no is no idempotency key.",
  },
  "report-wrong-scope": {
    breaks: ["SETTLE-7"],
    summary: "The settlement report ignores its date and sums every merchant.",
  },
  "validation-off": {
    breaks: ["SCAN-1", "SETTLE-3", "SETTLE-8", "REFUND-11", "WALLET-2", "SEC-1"],
    summary: "Request validation is off: bad fields are patched up and processed.",
  },
  "reveal-existence": {
    breaks: ["AUTH-2", "WALLET-1", "REFUND-4", "REFUND-10"],
    summary:
      "Lookups of other merchants' objects say permission_denied; ProvisionSeed says not_found for unknown accounts.",
  },
  "lenient-merchant-auth": {
    breaks: ["AUTH-1"],
    summary: "A terminal key or an unknown key authenticates as the last merchant seen.",
  },
  "auth-middleware": {
    breaks: ["AUTH-1", "RPC-8"],
    summary:
      "Auth middleware: a request without credentials borrows the last credential its route accepted; Ping demands one.",
  },
  "broken-test-control": {
    breaks: ["CTRL-2", "CTRL-3", "CTRL-5"],
    summary:
      "Test control overclaims a feature, accepts AdvanceClock(0) and reads unknown accounts as zero.",
  },
  "leak-code-key": {
    breaks: ["RPC-1"],
    summary: "GetIssuerKeys hands K_code to merchants and terminals.",
  },
  // Multi-step mutants: only the model-based cases kill them.
  "report-cancel-after-partial": {
    breaks: ["SETTLE-7"],
    summary:
      "After a partial refund, the CancelPayment refund of the rest counts in refund_total as the whole amount.",
  },
  "stale-lookup-after-refund": {
    breaks: ["RPC-7", "REFUND-6", "SCAN-12"],
    summary: "GetPayment by out_trade_no answers from a cache a RefundPayment does not update.",
  },
} as const satisfies Record<string, MutantDescription>;

export type BoundaryMutantName = keyof typeof BOUNDARY_MUTANTS;

export const BOUNDARY_MUTANT_NAMES = Object.keys(BOUNDARY_MUTANTS) as readonly BoundaryMutantName[];

export function isBoundaryMutant(name: string): name is BoundaryMutantName {
  return Object.hasOwn(BOUNDARY_MUTANTS, name);
}

export function boundaryProfile(name: BoundaryMutantName): ProfileOverrides {
  return name === "narrow-window"
    ? { windowBackSteps: 1, windowAheadSteps: 0, lookbackSteps: 120 }
    : {};
}

const PRINTABLE = /^[\x20-\x7e]{1,64}$/;
const fixRef = (s: string) =>
  PRINTABLE.test(s) ? s : `fixed-${Buffer.from(s).toString("hex").slice(0, 40)}`;

/** Wraps the issuer with the named boundary mutant (proxy-level mutants return it unchanged). */
export function wrapIssuer(issuer: IssuerApi, name: BoundaryMutantName): IssuerApi {
  switch (name) {
    case "swap-code-kind": {
      const swap = (p: Payment) => {
        p.codeKind = p.codeKind === CodeKind.ONLINE ? CodeKind.OFFLINE : CodeKind.ONLINE;
      };
      return override(issuer, {
        scan: async (m, req) => {
          const r = await issuer.scan(m, req);
          mapPayment(r.payment, swap);
          return r;
        },
        getPayment: async (m, req) => {
          const r = await issuer.getPayment(m, req);
          mapPayment(r.payment, swap);
          return r;
        },
      });
    }
    case "narrow-window":
      // Published as the default profile; enforced narrower (see boundaryProfile).
      return publishProfile(issuer, (p) => {
        p.windowBackSteps = 2;
        p.windowAheadSteps = 1;
        p.lookbackSteps = 60;
      });
    case "decline-reason-mixup":
      return override(issuer, {
        scan: async (m, req) => {
          const r = await issuer.scan(m, req);
          mapPayment(r.payment, (p) => {
            if (p.declineReason === DeclineReason.CODE_INVALID)
              p.declineReason = DeclineReason.CODE_EXPIRED;
            else if (p.declineReason === DeclineReason.CODE_MALFORMED)
              p.declineReason = DeclineReason.CODE_INVALID;
          });
          return r;
        },
        uploadOfflineBatch: async (t, req) => {
          const r = await issuer.uploadOfflineBatch(t, req);
          for (const x of r.results) {
            if (x.outcome === RecordOutcome.REJECTED_MALFORMED)
              x.outcome = RecordOutcome.REJECTED_INVALID;
          }
          return r;
        },
      });
    case "counter-not-in-usage-key": {
      // The first code seen per (handle, step4) stands for every later code
      // of that minute, so the issuer sees the later ones as reused.
      let codec: OnlineCodec | undefined;
      const first = new Map<string, string>();
      return override(issuer, {
        scan: async (m, req) => {
          if (/^\d{18}$/.test(req.code)) {
            if (!codec) {
              const p = (await issuer.control.getCapabilities()).profile!;
              codec = new OnlineCodec({
                prefix: p.issuerPrefix,
                codeKey: p.codeKey,
                windowBackSteps: p.windowBackSteps,
                windowAheadSteps: p.windowAheadSteps,
                lookbackSteps: p.lookbackSteps,
              });
            }
            const parsed = codec.parse(req.code);
            if (parsed) {
              const key = `${parsed.handle}/${parsed.step4}`;
              const seen = first.get(key);
              if (seen === undefined) first.set(key, req.code);
              else req.code = seen;
            }
          }
          return issuer.scan(m, req);
        },
      });
    }
    case "step-up-at-limit": {
      // Limits by wallet handle, learnt at provisioning.
      let codec: OnlineCodec | undefined;
      const limits = new Map<number, WalletLimits>();
      return override(issuer, {
        provisionSeed: async (req) => {
          const r = await issuer.provisionSeed(req);
          if (r.limits) limits.set(r.handle, r.limits);
          if (!codec && r.profile) {
            const p = r.profile;
            codec = new OnlineCodec({
              prefix: p.issuerPrefix,
              codeKey: p.codeKey,
              windowBackSteps: p.windowBackSteps,
              windowAheadSteps: p.windowAheadSteps,
              lookbackSteps: p.lookbackSteps,
            });
          }
          return r;
        },
        scan: async (m, req) => {
          const parsed = codec?.parse(req.code);
          const limit = parsed
            ? limits.get(parsed.handle)?.perPaymentPasswordFree?.amountMinor
            : undefined;
          if (req.amount && limit !== undefined && req.amount.amountMinor === limit) {
            // At the limit: behave as if it were above it.
            req.amount = create(MoneySchema, { ...req.amount, amountMinor: limit + 1n });
          }
          return issuer.scan(m, req);
        },
      });
    }
    case "hide-debt":
      return override(issuer, {
        getWallet: async (w) => {
          const r = await issuer.getWallet(w);
          if (r.balance && r.balance.amountMinor < 0n) r.balance.amountMinor = 0n;
          return r;
        },
      });
    case "trust-upload-time":
      return override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const now = (await issuer.control.getCapabilities()).now;
          for (const r of req.records) {
            if (r.acceptedAt) r.acceptedAt = now;
            if (r.keysSyncedAt) r.keysSyncedAt = now;
          }
          return issuer.uploadOfflineBatch(t, req);
        },
      });
    case "batch-handling":
      return override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          req.batchId = `${req.batchId.slice(0, 40)}-${randomBytes(6).toString("hex")}`;
          const r = await issuer.uploadOfflineBatch(t, req);
          r.results.reverse();
          return r;
        },
      });
    case "burn-rejected-records": {
      const burned = new Set<string>();
      return override(issuer, {
        uploadOfflineBatch: async (t, req) => {
          const r = await issuer.uploadOfflineBatch(t, req);
          r.results.forEach((x, i) => {
            const code = req.records[i]?.code ?? "";
            if (burned.has(code)) x.outcome = RecordOutcome.DUPLICATE;
            else if (x.outcome >= RecordOutcome.REJECTED_INVALID) burned.add(code);
          });
          return r;
        },
      });
    }
    case "global-out-trade-no": {
      const owner = new Map<string, string>();
      return override(issuer, {
        scan: async (m, req) => {
          const o = owner.get(req.outTradeNo);
          if (o !== undefined && o !== m.merchantId) {
            throw new ConnectError("out_trade_no already used", Code.AlreadyExists);
          }
          owner.set(req.outTradeNo, m.merchantId);
          return issuer.scan(m, req);
        },
      });
    }
    case "refund-bookkeeping":
      return override(issuer, {
        refundPayment: async (m, req) => {
          req.outRefundNo = `${req.outRefundNo.slice(0, 40)}-${randomBytes(6).toString("hex")}`;
          const r = await issuer.refundPayment(m, req);
          mapPayment(r.payment, (p) => {
            p.status = PaymentStatus.REFUNDED;
          });
          return r;
        },
        getPayment: async (m, req) => {
          const r = await issuer.getPayment(m, req);
          mapPayment(r.payment, (p) => {
            if (p.status === PaymentStatus.REFUNDED) p.status = PaymentStatus.SUCCEEDED;
            if (p.refunded) p.refunded.amountMinor = 0n;
          });
          return r;
        },
      });
    case "report-wrong-scope": {
      const merchants = new Map<string, Awaited<ReturnType<IssuerApi["authenticateMerchant"]>>>();
      return override(issuer, {
        authenticateMerchant: async (key) => {
          const p = await issuer.authenticateMerchant(key);
          merchants.set(p.merchantId, p);
          return p;
        },
        getSettlementReport: async (m, req) => {
          const now = (await issuer.control.getCapabilities()).now!;
          req.date = new Date(Number(now.seconds) * 1000).toISOString().slice(0, 10);
          const all = await Promise.all(
            [...merchants.values()].map((x) => issuer.getSettlementReport(x, req)),
          );
          const r = await issuer.getSettlementReport(m, req);
          for (const f of ["paymentTotal", "refundTotal", "offlineTotal", "netTotal"] as const) {
            if (r[f]) r[f].amountMinor = all.reduce((s, x) => s + (x[f]?.amountMinor ?? 0n), 0n);
          }
          for (const f of ["paymentCount", "refundCount", "offlineCount"] as const) {
            r[f] = all.reduce((s, x) => s + x[f], 0n);
          }
          return r;
        },
      });
    }
    case "validation-off": {
      let currency = "CNY";
      const fixMoney = <
        T extends { amount?: { currency: string; amountMinor: bigint } | undefined },
      >(
        req: T,
      ) => {
        const a = req.amount;
        req.amount = create(MoneySchema, {
          currency: a && /^[A-Z]{3}$/.test(a.currency) ? a.currency : currency,
          amountMinor: a && a.amountMinor > 0n ? a.amountMinor : 1n,
        });
      };
      return override(issuer, {
        scan: async (m, req) => {
          req.outTradeNo = fixRef(req.outTradeNo);
          fixMoney(req);
          if (req.code === "") req.code = "0";
          req.code = req.code.slice(0, 2048);
          req.subject = req.subject.slice(0, 256);
          return issuer.scan(m, req);
        },
        refundPayment: async (m, req) => {
          req.outRefundNo = fixRef(req.outRefundNo);
          fixMoney(req);
          if (req.amount) req.amount.currency = currency;
          return issuer.refundPayment(m, req);
        },
        getPayment: async (m, req) => {
          if (!req.lookup.case || req.lookup.value === "")
            req.lookup = { case: "paymentId", value: "none" };
          return issuer.getPayment(m, req);
        },
        cancelPayment: async (m, req) => {
          if (!req.lookup.case || req.lookup.value === "")
            req.lookup = { case: "paymentId", value: "none" };
          return issuer.cancelPayment(m, req);
        },
        uploadOfflineBatch: async (t, req) => {
          req.batchId = fixRef(req.batchId);
          req.records = req.records.slice(0, 1000);
          const seen = new Set<string>();
          req.records.forEach((r, i) => {
            if (!PRINTABLE.test(r.recordId) || seen.has(r.recordId)) r.recordId = `fixed-${i}`;
            seen.add(r.recordId);
          });
          return issuer.uploadOfflineBatch(t, req);
        },
        provisionSeed: async (req) => {
          if (req.walletPublicKey.length !== 32) {
            const k = new Uint8Array(32);
            k.set(req.walletPublicKey.slice(0, 32));
            k[0] = 1;
            req.walletPublicKey = k;
          }
          return issuer.provisionSeed(req);
        },
        getSettlementReport: async (m, req) => {
          if (!/^[A-Z]{3}$/.test(req.currency)) req.currency = currency;
          const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(req.date);
          const valid = d && new Date(`${req.date}T00:00:00Z`).toISOString().startsWith(req.date);
          if (!valid) req.date = "2030-01-01";
          return issuer.getSettlementReport(m, req);
        },
        control: {
          getCapabilities: async () => {
            const r = await issuer.control.getCapabilities();
            currency = r.profile?.currency ?? currency;
            return r;
          },
        },
      });
    }
    case "reveal-existence": {
      const reveal = async <T>(call: Promise<T>): Promise<T> => {
        try {
          return await call;
        } catch (e) {
          const err = ConnectError.from(e);
          if (err.code === Code.NotFound)
            throw new ConnectError("not yours", Code.PermissionDenied);
          throw e;
        }
      };
      return override(issuer, {
        getPayment: (m, req) => reveal(issuer.getPayment(m, req)),
        cancelPayment: (m, req) => reveal(issuer.cancelPayment(m, req)),
        refundPayment: (m, req) => reveal(issuer.refundPayment(m, req)),
        provisionSeed: async (req) => {
          try {
            await issuer.control.getBalance(
              // biome-ignore lint/suspicious/noExplicitAny: a test-only probe of the account
              { owner: { case: "accountId", value: req.accountId } } as any,
            );
          } catch {
            throw new ConnectError("no such account", Code.NotFound);
          }
          return issuer.provisionSeed(req);
        },
      });
    }
    case "lenient-merchant-auth": {
      let last: Awaited<ReturnType<IssuerApi["authenticateMerchant"]>> | undefined;
      return override(issuer, {
        authenticateMerchant: async (key) => {
          try {
            last = await issuer.authenticateMerchant(key);
            return last;
          } catch (e) {
            try {
              const t = await issuer.authenticateTerminal(key);
              return { kind: "merchant", merchantId: t.merchantId };
            } catch {
              if (last) return last;
              throw e;
            }
          }
        },
      });
    }
    case "auth-middleware":
      return issuer;
    case "leak-code-key":
      return override(issuer, {
        getIssuerKeys: async (c) => {
          const r = await issuer.getIssuerKeys(c);
          const full = (await issuer.control.getCapabilities()).profile;
          if (r.profile && full) r.profile.codeKey = full.codeKey;
          return r;
        },
      });
    // --- Multi-step mutants.
    case "report-cancel-after-partial": {
      // Refunded amounts of payments that had a partial refund, and the
      // report error each later cancel leaves, by merchant and UTC day.
      const partial = new Map<string, bigint>();
      const extra = new Map<string, bigint>();
      const dayNow = async () => {
        const now = (await issuer.control.getCapabilities()).now!;
        return new Date(Number(now.seconds) * 1000).toISOString().slice(0, 10);
      };
      return override(issuer, {
        refundPayment: async (m, req) => {
          const r = await issuer.refundPayment(m, req);
          const p = r.payment;
          if (p && p.status === PaymentStatus.SUCCEEDED && p.refunded) {
            partial.set(p.paymentId, p.refunded.amountMinor);
          }
          return r;
        },
        cancelPayment: async (m, req) => {
          const r = await issuer.cancelPayment(m, req);
          const before = r.payment && partial.get(r.payment.paymentId);
          if (r.action === CancelAction.REFUNDED && before !== undefined) {
            partial.delete(r.payment!.paymentId);
            const key = `${m.merchantId}/${await dayNow()}`;
            extra.set(key, (extra.get(key) ?? 0n) + before);
          }
          return r;
        },
        getSettlementReport: async (m, req) => {
          const r = await issuer.getSettlementReport(m, req);
          const add = extra.get(`${m.merchantId}/${req.date}`);
          if (add !== undefined && r.refundTotal) r.refundTotal.amountMinor += add;
          return r;
        },
      });
    }
    case "stale-lookup-after-refund": {
      // The last GetPayment/CancelPayment/Scan answer per (merchant, out_trade_no);
      // a refund changes the payment but not this cache.
      const cache = new Map<string, Payment>();
      const remember = (m: { merchantId: string }, p: Payment | undefined) => {
        if (p) cache.set(`${m.merchantId}/${p.outTradeNo}`, p);
      };
      return override(issuer, {
        scan: async (m, req) => {
          const r = await issuer.scan(m, req);
          remember(m, r.payment);
          return r;
        },
        cancelPayment: async (m, req) => {
          const r = await issuer.cancelPayment(m, req);
          remember(m, r.payment);
          return r;
        },
        getPayment: async (m, req) => {
          const r = await issuer.getPayment(m, req);
          const cached =
            req.lookup.case === "outTradeNo"
              ? cache.get(`${m.merchantId}/${req.lookup.value}`)
              : undefined;
          // Only the refund bookkeeping comes from the cache: status moves still show.
          if (cached && r.payment && cached.status === r.payment.status) {
            r.payment.refunded = cached.refunded;
          } else remember(m, r.payment);
          return r;
        },
      });
    }
    // --- end of multi-step mutants.
    case "broken-test-control":
      return override(issuer, {
        control: {
          getCapabilities: async () => {
            const r = await issuer.control.getCapabilities();
            r.features.push("time-travel");
            return r;
          },
          advanceClock: async (req) => {
            if (req.seconds === 0) {
              const now = (await issuer.control.getCapabilities()).now;
              return { $typeName: "paycode.v1.AdvanceClockResponse", now };
            }
            return issuer.control.advanceClock(req);
          },
          getBalance: async (req) => {
            try {
              return await issuer.control.getBalance(req);
            } catch {
              return {
                $typeName: "paycode.v1.GetBalanceResponse",
                balance: create(MoneySchema, { currency: "CNY", amountMinor: 0n }),
              };
            }
          },
        },
      });
  }
}

/** Names the mutant in GetCapabilities.implementation, as the issuer does for its own. */
export function tagImplementation(issuer: IssuerApi, name: string): IssuerApi {
  return override(issuer, {
    control: {
      getCapabilities: async () => {
        const r = await issuer.control.getCapabilities();
        r.implementation = `${r.implementation} (mutant ${name})`;
        return r;
      },
    },
  });
}

/** An HTTP proxy in front of the server, for mutants of the auth middleware. */
/**
 * `auth-middleware`: a request without Authorization borrows the last
 * credential its route accepted, and Ping demands a credential.
 * HTTP/1.1 only, which is what the harness uses for Connect by default.
 */
export function startAuthMiddlewareProxy(upstream: string): Promise<MutantProxy> {
  const lastAuth = new Map<string, string>();
  return startMutantProxy(upstream, (req, res, forward) => {
    const service = (req.url ?? "").split("/")[1] ?? "";
    const headers = { ...req.headers };
    if (service.endsWith("HealthService") && !headers.authorization) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "unauthenticated", message: "credential required" }));
      return;
    }
    // A credential cache keyed by route: a request without credentials
    // borrows the last one that route accepted.
    const route = req.url ?? "";
    const given = headers.authorization;
    if (!given) {
      const reuse = lastAuth.get(route);
      if (reuse) headers.authorization = reuse;
    }
    forward(req, { headers }, (upRes) => {
      if (given && upRes.statusCode === 200) lastAuth.set(route, given);
      passThrough(res)(upRes);
    });
  });
}
