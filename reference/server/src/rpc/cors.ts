import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { cors } from "@connectrpc/connect";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Preflight results may be cached by the browser this long (seconds). */
export const CORS_MAX_AGE_SECONDS = 7200;

const ALLOW_METHODS = cors.allowedMethods.join(", ");
// Connect's and gRPC-Web's request headers, plus the bearer token.
const ALLOW_HEADERS = [...cors.allowedHeaders, "Authorization"].join(", ");
const EXPOSE_HEADERS = cors.exposedHeaders.join(", ");

/**
 * Checks an origin given to `--cors-origin` / `corsOrigins`: a scheme, a host
 * and an optional port, as browsers send it in the Origin header. Returns it
 * normalised; throws RangeError otherwise ("*" is refused on purpose: a
 * Paycode server takes wallet passwords and merchant keys).
 */
export function parseCorsOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new RangeError(`CORS origin ${JSON.stringify(origin)} is not a URL origin`);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.origin !== origin.replace(/\/$/, "") ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw new RangeError(
      `CORS origin ${JSON.stringify(origin)} must be scheme://host[:port], e.g. http://127.0.0.1:5173`,
    );
  }
  return url.origin;
}

/**
 * CORS for the origins an operator allows, with the method and header
 * lists of `@connectrpc/connect`'s `cors` helpers so Connect and gRPC-Web
 * calls work from a page. Returns a function that adds the response headers
 * for an allowed Origin and answers preflight requests itself (returns true
 * when it did): 204 with the Access-Control-* headers for a listed origin,
 * 403 without any for another. Requests without Origin pass untouched.
 */
export function createCorsHandler(
  origins: readonly string[],
): (req: Request, res: Response) => boolean {
  const allowed = new Set(origins.map(parseCorsOrigin));
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string") return false;
    const ok = allowed.has(origin);
    const preflight =
      req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (preflight) {
      if (!ok) {
        res.writeHead(403, { vary: "Origin", "content-length": "0" });
        res.end();
        return true;
      }
      res.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        "content-length": "0",
      });
      res.end();
      return true;
    }
    res.setHeader("vary", "Origin");
    if (ok) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
    }
    return false;
  };
}
