import http2 from "node:http2";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE } =
  http2.constants;

interface H2Endpoint extends Endpoint {
  readonly h2: http2.OutgoingHttpHeaders;
}

/**
 * HTTP/2 cleartext (h2c) client: a few sessions, many concurrent streams,
 * requests spread round-robin. Each call is one stream: request headers,
 * the body in one DATA frame, then the response collected into one Buffer.
 */
export class H2Transport implements UnaryTransport {
  readonly description: string;
  private readonly sessions: http2.ClientHttp2Session[] = [];
  private next = 0;

  constructor(
    private readonly origin: string,
    private readonly connections: number,
    private readonly contentType: string,
    private readonly ca?: string | Buffer,
  ) {
    const tls = origin.startsWith("https:");
    this.description = `node:http2 ${tls ? "h2 (TLS)" : "h2c"}, ${connections} connection(s), Connect, ${contentType}`;
  }

  async connect(): Promise<void> {
    for (let i = 0; i < this.connections; i++) {
      const session = http2.connect(this.origin, {
        // The server's SETTINGS decide the real stream limit; this only
        // covers the moment before they arrive.
        peerMaxConcurrentStreams: 10_000,
        settings: { initialWindowSize: 1 << 20, enablePush: false },
        ...(this.ca !== undefined ? { ca: this.ca } : {}),
      });
      session.on("error", () => {}); // surfaced per stream
      await new Promise<void>((resolve, reject) => {
        session.once("connect", () => resolve());
        session.once("error", reject);
      });
      session.setLocalWindowSize?.(8 << 20);
      this.sessions.push(session);
    }
  }

  prepare(path: string, headers?: Record<string, string>): H2Endpoint {
    return {
      path,
      headers: headers ?? {},
      h2: {
        [HTTP2_HEADER_METHOD]: "POST",
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: this.contentType,
        "connect-protocol-version": "1",
        ...headers,
      },
    };
  }

  send(endpoint: Endpoint, body: Uint8Array): Promise<RawResponse> {
    const h2 = (endpoint as H2Endpoint).h2 ?? this.prepare(endpoint.path, endpoint.headers).h2;
    const session = this.sessions[this.next++ % this.sessions.length]!;
    return new Promise<RawResponse>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(h2, { endStream: false });
      } catch (e) {
        reject(e);
        return;
      }
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[HTTP2_HEADER_STATUS]);
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        resolve({ status, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      });
      stream.on("error", reject);
      stream.end(body);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed || s.destroyed) return resolve();
            s.close(() => resolve());
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
    this.sessions.length = 0;
  }
}
