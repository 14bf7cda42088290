import net from "node:net";
import type { Endpoint, RawResponse, UnaryTransport } from "./transport.js";

// HTTP/2 (RFC 9113) frame types and flags used here.
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const MAX_WINDOW = 2 ** 31 - 1;
const DEFAULT_WINDOW = 65_535;

// HPACK static-table indexes (RFC 7541 appendix A) of request fields.
const IDX_AUTHORITY = 1;
const IDX_METHOD_POST = 3;
const IDX_PATH = 4;
const IDX_SCHEME_HTTP = 6;
// An indexed :status of the static table, as an encoder must use for these.
const STATIC_STATUS: Record<number, number> = {
  136: 200,
  137: 204,
  138: 206,
  139: 304,
  140: 400,
  141: 404,
  142: 500,
};
const STATIC_NAME_INDEX: Record<string, number> = {
  "content-type": 31,
  authorization: 23,
  "user-agent": 58,
  accept: 19,
};

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(first: number, prefixBits: number, value: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v & 127) | 128);
    v >>= 7;
  }
  out.push(v);
  return out;
}

/** HPACK string literal without Huffman coding. */
function hpackString(s: string): number[] {
  const bytes = Buffer.from(s, "latin1");
  return [...hpackInt(0, 7, bytes.length), ...bytes];
}

/**
 * A request header block, encoded once per endpoint: indexed :method POST
 * and :scheme http, every other field a literal "without indexing", so the
 * block is the same bytes on every request and never touches the dynamic
 * table.
 */
function encodeRequestBlock(
  authority: string,
  path: string,
  fields: Record<string, string>,
): Buffer {
  const out: number[] = [0x80 | IDX_METHOD_POST, 0x80 | IDX_SCHEME_HTTP];
  out.push(...hpackInt(0, 4, IDX_PATH), ...hpackString(path));
  out.push(...hpackInt(0, 4, IDX_AUTHORITY), ...hpackString(authority));
  for (const [rawName, value] of Object.entries(fields)) {
    const name = rawName.toLowerCase();
    const idx = STATIC_NAME_INDEX[name];
    if (idx !== undefined) out.push(...hpackInt(0, 4, idx));
    else out.push(0, ...hpackString(name));
    out.push(...hpackString(value));
  }
  return Buffer.from(out);
}

/**
 * `:status` from the start of a response header block: an indexed static
 * entry for the usual codes (what any encoder must send for 200); anything
 * else counts as "not 200" and the body says what went wrong (a Connect
 * error is JSON). Leading dynamic-table size updates are skipped.
 */
function statusOf(block: Buffer): number {
  let i = 0;
  while (i < block.length && (block[i]! & 0xe0) === 0x20) {
    // size update: 001xxxxx, 5-bit prefix integer
    if ((block[i]! & 0x1f) === 0x1f) {
      i++;
      while (i < block.length && block[i]! & 0x80) i++;
    }
    i++;
  }
  return STATIC_STATUS[block[i] ?? 0] ?? 0;
}

function frameHeader(
  buf: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  stream: number,
): void {
  buf[at] = (length >>> 16) & 0xff;
  buf[at + 1] = (length >>> 8) & 0xff;
  buf[at + 2] = length & 0xff;
  buf[at + 3] = type;
  buf[at + 4] = flags;
  buf.writeUInt32BE(stream, at + 5);
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  frameHeader(b, 0, payload.length, type, flags, stream);
  payload.copy(b, 9);
  return b;
}

class H2Error extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface Pending {
  status: number;
  chunks: Buffer[];
  /** END_STREAM seen on a HEADERS frame whose block is not finished yet. */
  endAfterHeaders: boolean;
  resolve: (r: RawResponse) => void;
  reject: (e: Error) => void;
}

interface Queued {
  block: Buffer;
  body: Uint8Array;
  resolve: (r: RawResponse) => void;
  reject: (e: Error) => void;
}

/**
 * One h2c connection speaking just enough HTTP/2 for unary calls: it sends
 * HEADERS (+ DATA) per call, answers SETTINGS and PING, keeps both flow
 * control windows, respects the server's stream limit, and reads `:status`
 * plus the DATA of each response. No priority, no push, no HPACK decoder
 * (only the status is needed, see `statusOf`).
 */
class RawH2Connection {
  private readonly socket: net.Socket;
  private readonly streams = new Map<number, Pending>();
  private readonly queue: Queued[] = [];
  private nextStreamId = 1;
  private maxConcurrent = 100;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private sendWindow = DEFAULT_WINDOW;
  private received = 0;
  private leftover: Buffer | undefined;
  private continuationStream = 0;
  private corked = false;
  private failed: Error | undefined;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) =>
      this.fail(new H2Error(`socket:${(e as NodeJS.ErrnoException).code ?? "error"}`)),
    );
    socket.on("close", () => this.fail(new H2Error("closed")));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(MAX_WINDOW, 8);
    const wu = Buffer.alloc(4);
    wu.writeUInt32BE(MAX_WINDOW - DEFAULT_WINDOW, 0);
    socket.write(
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings), frame(WINDOW_UPDATE, 0, 0, wu)]),
    );
  }

  static open(host: string, port: number): Promise<RawH2Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawH2Connection(socket));
      });
    });
  }

  request(block: Buffer, body: Uint8Array): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.queue.push({ block, body, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.streams.size < this.maxConcurrent) {
      const q = this.queue[0]!;
      if (q.body.length > this.sendWindow) return; // wait for WINDOW_UPDATE
      if (q.body.length > this.peerInitialWindow || q.body.length > this.peerMaxFrame) {
        this.queue.shift();
        q.reject(new Error("request body larger than one HTTP/2 frame: not supported here"));
        continue;
      }
      this.queue.shift();
      this.start(q);
    }
  }

  private start(q: Queued): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const hasBody = q.body.length > 0;
    const size = 9 + q.block.length + (hasBody ? 9 + q.body.length : 0);
    const b = Buffer.allocUnsafe(size);
    frameHeader(b, 0, q.block.length, HEADERS, END_HEADERS | (hasBody ? 0 : END_STREAM), id);
    q.block.copy(b, 9);
    if (hasBody) {
      const at = 9 + q.block.length;
      frameHeader(b, at, q.body.length, DATA, END_STREAM, id);
      b.set(q.body, at + 9);
      this.sendWindow -= q.body.length;
    }
    this.streams.set(id, {
      status: 0,
      chunks: [],
      endAfterHeaders: false,
      resolve: q.resolve,
      reject: q.reject,
    });
    this.write(b);
  }

  // Calls started in one tick leave in one writev.
  private write(b: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(b);
  }

  private onData(chunk: Buffer): void {
    let buf = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk;
    this.leftover = undefined;
    let at = 0;
    while (buf.length - at >= 9) {
      const len = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      if (buf.length - at < 9 + len) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const stream = buf.readUInt32BE(at + 5) & 0x7fffffff;
      this.onFrame(type, flags, stream, buf.subarray(at + 9, at + 9 + len));
      at += 9 + len;
    }
    if (at < buf.length) {
      buf = buf.subarray(at);
      this.leftover = Buffer.from(buf); // copy: the chunk may be reused
    }
  }

  private onFrame(type: number, flags: number, stream: number, payload: Buffer): void {
    switch (type) {
      case DATA: {
        this.received += payload.length;
        if (this.received > 2 ** 30) {
          const wu = Buffer.alloc(4);
          wu.writeUInt32BE(this.received, 0);
          this.write(frame(WINDOW_UPDATE, 0, 0, wu));
          this.received = 0;
        }
        const p = this.streams.get(stream);
        if (!p) return;
        const data = flags & PADDED ? payload.subarray(1, payload.length - payload[0]!) : payload;
        if (data.length > 0) p.chunks.push(data);
        if (flags & END_STREAM) this.finish(stream, p);
        return;
      }
      case HEADERS: {
        const p = this.streams.get(stream);
        if (!p) return;
        let block = payload;
        if (flags & PADDED) block = block.subarray(1, block.length - block[0]!);
        if (flags & PRIORITY) block = block.subarray(5);
        if (p.status === 0) p.status = statusOf(block) || -1;
        if (flags & END_HEADERS) {
          if (flags & END_STREAM) this.finish(stream, p);
        } else {
          this.continuationStream = stream;
          p.endAfterHeaders = (flags & END_STREAM) !== 0;
        }
        return;
      }
      case CONTINUATION: {
        if (flags & END_HEADERS && stream === this.continuationStream) {
          this.continuationStream = 0;
          const p = this.streams.get(stream);
          if (p?.endAfterHeaders) this.finish(stream, p);
        }
        return;
      }
      case RST_STREAM: {
        const p = this.streams.get(stream);
        if (!p) return;
        this.streams.delete(stream);
        p.reject(new H2Error(`rst_stream:${payload.readUInt32BE(0)}`));
        this.pump();
        return;
      }
      case SETTINGS: {
        if (flags & ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          const id = payload.readUInt16BE(i);
          const value = payload.readUInt32BE(i + 2);
          if (id === 0x3) this.maxConcurrent = value;
          else if (id === 0x4) this.peerInitialWindow = value;
          else if (id === 0x5) this.peerMaxFrame = value;
        }
        this.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
        this.pump();
        return;
      }
      case PING: {
        if (!(flags & ACK)) this.write(frame(PING, ACK, 0, payload));
        return;
      }
      case WINDOW_UPDATE: {
        if (stream === 0) {
          this.sendWindow += payload.readUInt32BE(0) & 0x7fffffff;
          this.pump();
        }
        return;
      }
      case GOAWAY: {
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        const err = new H2Error(`goaway:${payload.readUInt32BE(4)}`);
        for (const [id, p] of this.streams) {
          if (id > last) {
            this.streams.delete(id);
            p.reject(err);
          }
        }
        this.failed = err;
        for (const q of this.queue.splice(0)) q.reject(err);
        return;
      }
      default:
        return; // PRIORITY, PUSH_PROMISE (disabled), unknown: ignored
    }
  }

  private finish(id: number, p: Pending): void {
    this.streams.delete(id);
    const body = p.chunks.length === 1 ? p.chunks[0]! : Buffer.concat(p.chunks);
    p.resolve({ status: p.status, body });
    if (this.queue.length > 0) this.pump();
  }

  private fail(e: Error): void {
    if (this.failed === undefined) this.failed = e;
    for (const p of this.streams.values()) p.reject(e);
    this.streams.clear();
    for (const q of this.queue.splice(0)) q.reject(e);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      const goaway = Buffer.alloc(8);
      goaway.writeUInt32BE(0, 0);
      goaway.writeUInt32BE(0, 4); // NO_ERROR
      this.failed ??= new H2Error("closed");
      this.socket.end(frame(GOAWAY, 0, 0, goaway), () => resolve());
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}

interface RawH2Endpoint extends Endpoint {
  readonly block: Buffer;
}

/**
 * h2c load client written against the wire instead of `node:http2`: per
 * call it allocates one buffer (HEADERS + DATA frames) and one promise.
 * `node:http2`'s client creates a Duplex stream object and several event
 * listeners per call and, measured here, spends 2–3× the CPU of the
 * server it drives; on two shared cores that caps the measurement.
 */
export class RawH2Transport implements UnaryTransport {
  readonly description: string;
  private readonly conns: RawH2Connection[] = [];
  private next = 0;
  private readonly url: URL;

  constructor(
    origin: string,
    private readonly connections: number,
    private readonly contentType: string,
  ) {
    this.url = new URL(origin);
    if (this.url.protocol !== "http:")
      throw new Error(
        "the raw HTTP/2 client speaks h2c (http://) only: for an https:// target use " +
          "--client sdk (the default there) or --client node",
      );
    this.description = `raw-frame h2c client (bench), ${connections} connection(s), Connect, ${contentType}`;
  }

  async connect(): Promise<void> {
    const port = Number(this.url.port || 80);
    for (let i = 0; i < this.connections; i++) {
      this.conns.push(await RawH2Connection.open(this.url.hostname, port));
    }
  }

  prepare(path: string, headers?: Record<string, string>): RawH2Endpoint {
    return {
      path,
      headers: headers ?? {},
      block: encodeRequestBlock(this.url.host, path, {
        "content-type": this.contentType,
        "connect-protocol-version": "1",
        ...headers,
      }),
    };
  }

  send(endpoint: Endpoint, body: Uint8Array): Promise<RawResponse> {
    const block =
      (endpoint as RawH2Endpoint).block ?? this.prepare(endpoint.path, endpoint.headers).block;
    const conn = this.conns[this.next++ % this.conns.length]!;
    return conn.request(block, body);
  }

  async close(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.close()));
    this.conns.length = 0;
  }
}
