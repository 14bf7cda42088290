import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { MutantProxy } from "./boundary-mutants.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/**
 * A Connect-over-HTTP/1.1 proxy that reads each request body and refuses
 * it with `code` (and HTTP `status`) when it is longer than `maxBytes`;
 * other requests pass through. Stands in for a server's own body limit.
 */
function bodyLimitProxy(maxBytes: number, status: number, code: string) {
  return async (upstream: string): Promise<MutantProxy> => {
    const target = new URL(upstream);
    const agent = new http.Agent({ keepAlive: true });
    const sockets = new Set<Socket>();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (body.length > maxBytes) {
          const error = JSON.stringify({ code, message: `request of ${body.length} bytes` });
          res.writeHead(status, { "content-type": "application/json" });
          res.end(error);
          return;
        }
        const headers = { ...req.headers, "content-length": String(body.length) };
        delete headers["transfer-encoding"];
        const up = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers,
            agent,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on("error", () => res.destroy());
        up.end(body);
      });
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          agent.destroy();
          server.close(() => resolve());
        }),
    };
  };
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
