import http from "node:http";
import https from "node:https";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

/**
 * HTTP/1.1 keep-alive client over an `http.Agent` with one socket per
 * in-flight request (HTTP/1.1 has no multiplexing).
 */
export class H1Transport implements UnaryTransport {
  readonly description: string;
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly request: typeof http.request;

  constructor(
    origin: string,
    sockets: number,
    private readonly contentType: string,
    ca?: string | Buffer,
  ) {
    this.url = new URL(origin);
    const tls = this.url.protocol === "https:";
    const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.agent = tls
      ? new https.Agent({ ...options, ...(ca !== undefined ? { ca } : {}) })
      : new http.Agent(options);
    this.request = tls ? https.request : http.request;
    this.description = `node:http${tls ? "s" : ""} HTTP/1.1 keep-alive, up to ${sockets} socket(s), Connect, ${contentType}`;
  }

  async connect(): Promise<void> {}

  prepare(path: string, headers?: Record<string, string>): Endpoint {
    return { path, headers: headers ?? {} };
  }

  send(endpoint: Endpoint, body: Uint8Array): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = this.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: "POST",
          path: endpoint.path,
          headers: {
            "content-type": this.contentType,
            "content-length": body.byteLength,
            "connect-protocol-version": "1",
            ...endpoint.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
