import { type MutantProxy, passThrough, startMutantProxy } from "./mutant-proxy.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/**
 * A Connect-over-HTTP/1.1 proxy that reads each request body and refuses
 * it with `code` (and HTTP `status`) when it is longer than `maxBytes`;
 * other requests pass through. Stands in for a server's own body limit.
 */
function bodyLimitProxy(maxBytes: number, status: number, code: string) {
  return (upstream: string): Promise<MutantProxy> =>
    startMutantProxy(upstream, (req, res, forward) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (body.length > maxBytes) {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify({ code, message: `request of ${body.length} bytes` }));
          return;
        }
        const headers = { ...req.headers, "content-length": String(body.length) };
        delete headers["transfer-encoding"];
        forward(req, { headers, body }, passThrough(res));
      });
    });
}

/** Message-size mutants ([RPC-9]): the stock library answer, and a bound set too low. */
export const MESSAGE_SIZE_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  "oversized-resource-exhausted": {
    breaks: ["RPC-9"],
    summary:
      "A message over 1 MiB is refused resource_exhausted (429), as an RPC library does by default, so clients retry it.",
    wrap: (issuer) => issuer,
    proxy: bodyLimitProxy(1024 * 1024, 429, "resource_exhausted"),
  },
  "message-bound-64-kib": {
    breaks: ["RPC-9"],
    summary: "Request messages are bounded at 64 KiB, so a full offline batch is refused.",
    wrap: (issuer) => issuer,
    proxy: bodyLimitProxy(64 * 1024, 400, "invalid_argument"),
  },
};
