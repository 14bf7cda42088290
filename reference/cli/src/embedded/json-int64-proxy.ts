import { type MutantProxy, passThrough, startMutantProxy } from "./mutant-proxy.js";

/** JSON names of the int64 and uint64 fields of proto/paycode/v1. */
const INT64_FIELDS = new Set([
  "amountMinor",
  "transferCount",
  "counter",
  "issuedAt",
  "perPaymentLimitMinor",
  "cumulativeLimitMinor",
  "notBefore",
  "notAfter",
  "revocationListVersion",
  "paymentCount",
  "refundCount",
  "offlineCount",
]);

/** Every int64 string under an int64 field name made a JSON number, as a stock JSON library writes it. */
function int64AsNumbers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(int64AsNumbers);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] =
      INT64_FIELDS.has(k) && typeof x === "string" && /^-?\d+$/.test(x)
        ? Number(x)
        : int64AsNumbers(x);
  }
  return out;
}

/**
 * A proxy in front of the server whose Connect JSON responses carry int64
 * fields as JSON numbers instead of the strings of the proto3 JSON mapping:
 * a JSON codec written with the language's stock JSON library. Binary
 * responses pass unchanged. HTTP/1.1 only.
 */
export function startJsonInt64Proxy(upstream: string): Promise<MutantProxy> {
  return startMutantProxy(upstream, (req, res, forward) =>
    forward(req, {}, (upRes) => {
      const json = (upRes.headers["content-type"] ?? "").startsWith("application/json");
      if (!json || upRes.headers["content-encoding"]) {
        passThrough(res)(upRes);
        return;
      }
      const chunks: Buffer[] = [];
      upRes.on("data", (c: Buffer) => chunks.push(c));
      upRes.on("end", () => {
        let body = Buffer.concat(chunks);
        try {
          body = Buffer.from(JSON.stringify(int64AsNumbers(JSON.parse(body.toString("utf8")))));
        } catch {
          // Not JSON after all: pass it on as it came.
        }
        const headers = { ...upRes.headers, "content-length": String(body.length) };
        delete headers["transfer-encoding"];
        res.writeHead(upRes.statusCode ?? 502, headers);
        res.end(body);
      });
    }),
  );
}
