import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** An HTTP/1.1 proxy in front of the reference server, for mutants of the transport. */
export interface MutantProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** Sends a request on to the server behind the proxy. */
export type Forward = (
  req: http.IncomingMessage,
  o: { headers?: http.OutgoingHttpHeaders; body?: Buffer },
  onResponse: (upRes: http.IncomingMessage) => void,
) => void;

/**
 * Listens on a free loopback port and hands each request to `handle`, with
 * `forward` to reach `upstream`; the response of a forwarded request is
 * `onResponse`'s to write. Without a `body`, the request streams through.
 */
export async function startMutantProxy(
  upstream: string,
  handle: (req: http.IncomingMessage, res: http.ServerResponse, forward: Forward) => void,
): Promise<MutantProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const forward: Forward = (req, o, onResponse) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: o.headers ?? req.headers,
        agent,
      },
      onResponse,
    );
    up.on("error", () => req.socket.destroy());
    if (o.body === undefined) req.pipe(up);
    else up.end(o.body);
  };
  const server = http.createServer((req, res) => handle(req, res, forward));
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
}

/** Writes the server's response through unchanged. */
export function passThrough(res: http.ServerResponse) {
  return (upRes: http.IncomingMessage): void => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  };
}
