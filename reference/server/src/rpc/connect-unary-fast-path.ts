import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  type MethodSerializationLookup,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  errorToJsonBytes,
  parseContentType,
} from "@connectrpc/connect/protocol-connect";
import type { Rpc } from "./rpc-table.js";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

export interface FastPathOptions {
  readMaxBytes: number;
  writeMaxBytes: number;
}

interface Entry {
  readonly rpc: Rpc;
  readonly output: DescMessage;
  readonly serialization: MethodSerializationLookup<DescMessage, DescMessage>;
}

/**
 * Serves the plain case of the Connect protocol — a unary POST with an
 * uncompressed `application/proto` or `application/json` body and no
 * timeout header — without connect-node's per-call machinery (three
 * AbortControllers, two DOMExceptions, Headers copies, async iterables),
 * which costs more than the RPC itself for cheap calls such as Ping.
 *
 * It decides from the headers alone and returns false for anything else
 * (gRPC, gRPC-Web, GET, compression, deadlines, unknown paths), which the
 * stock handler then serves. Parsing, serialization and the error body use
 * connect's own functions, and a test compares both paths byte for byte.
 * The only intended difference: responses are never compressed.
 * (Both paths report an unparseable protobuf request as `invalid_argument`.)
 */
export function createConnectUnaryFastPath(
  table: readonly Rpc[],
  opts: FastPathOptions,
): (req: NodeRequest, res: NodeResponse) => boolean {
  const entries = new Map<string, Entry>();
  const limits = { readMaxBytes: opts.readMaxBytes, writeMaxBytes: opts.writeMaxBytes };
  for (const rpc of table) {
    entries.set(rpc.path, {
      rpc,
      output: rpc.method.output,
      serialization: createMethodSerializationLookup(rpc.method, undefined, undefined, limits),
    });
  }
  const readMaxBytes = opts.readMaxBytes;

  return function tryConnectUnary(req, res) {
    if (req.method !== "POST") return false;
    const entry = entries.get(req.url ?? "");
    if (entry === undefined) return false;
    const h = req.headers;
    const ct = h["content-type"];
    let binary: boolean;
    if (ct === "application/proto") binary = true;
    else if (ct === "application/json") binary = false;
    else {
      const parsed = parseContentType(ct ?? null);
      if (parsed === undefined || parsed.stream) return false;
      binary = parsed.binary;
    }
    const enc = h["content-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    if (h["connect-timeout-ms"] !== undefined) return false;

    const declared = h["content-length"];
    if (declared !== undefined && Number(declared) > readMaxBytes) {
      writeError(res, tooLarge(Number(declared), readMaxBytes));
      return true;
    }
    const authorization = h.authorization;
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > readMaxBytes) {
        failed = true;
        writeError(res, tooLarge(size, readMaxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (failed) return;
      const body =
        chunks.length === 0
          ? EMPTY
          : chunks.length === 1
            ? chunks[0]!
            : Buffer.concat(chunks, size);
      dispatch(entry, binary, body, authorization, req.socket?.remoteAddress, res);
    });
    // A reset or broken request has nobody left to answer.
    req.once("error", ignore);
    return true;
  };
}

const EMPTY = new Uint8Array(0);

function ignore(): void {}

// [RPC-9] Too large is the caller's mistake, not a reason to retry.
function tooLarge(size: number, max: number): ConnectError {
  return new ConnectError(
    `message size ${size} is larger than configured readMaxBytes ${max}`,
    Code.InvalidArgument,
  );
}

// A request that is not valid protobuf is the client's fault. connect-es
// says `internal`; the stock path corrects it too (see stock-handler.ts).
function parseError(err: unknown): ConnectError {
  const e = asConnectError(err);
  return e.code === Code.Internal && e.rawMessage.startsWith("parse binary:")
    ? new ConnectError(e.rawMessage, Code.InvalidArgument)
    : e;
}

// As connect does: only a ConnectError says what went wrong.
function asConnectError(err: unknown): ConnectError {
  return err instanceof ConnectError
    ? err
    : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

function dispatch(
  entry: Entry,
  binary: boolean,
  body: Uint8Array,
  authorization: string | undefined,
  peer: string | undefined,
  res: NodeResponse,
): void {
  let out: Message | Promise<Message>;
  let input: Message;
  try {
    input = entry.serialization.getI(binary).parse(body);
  } catch (err) {
    writeError(res, parseError(err));
    return;
  }
  try {
    out = entry.rpc.invoke(input, authorization, peer);
  } catch (err) {
    writeError(res, asConnectError(err));
    return;
  }
  if (out instanceof Promise) {
    out.then(
      (msg) => writeMessage(entry, binary, msg, res),
      (err: unknown) => writeError(res, asConnectError(err)),
    );
  } else {
    writeMessage(entry, binary, out, res);
  }
}

function writeMessage(entry: Entry, binary: boolean, msg: Message, res: NodeResponse): void {
  let body: Uint8Array;
  try {
    // Same normalization as connect: tolerate an init shape from the handler.
    const full = msg.$typeName === entry.output.typeName ? msg : create(entry.output, msg as never);
    body = entry.serialization.getO(binary).serialize(full);
  } catch (err) {
    writeError(res, asConnectError(err));
    return;
  }
  send(
    res,
    200,
    {
      "content-type": binary ? "application/proto" : "application/json",
      "content-length": body.byteLength,
    },
    body,
  );
}

// Writing must never throw: it runs in promise callbacks, where a throw
// would be an unhandled rejection. A response that cannot be written has
// nobody waiting for it.
function send(
  res: NodeResponse,
  status: number,
  headers: Record<string, string | number>,
  body: Uint8Array,
): void {
  if (res.destroyed || res.headersSent) return;
  try {
    (res as ServerResponse).writeHead(status, headers);
    res.end(body);
  } catch {
    res.destroy();
  }
}

function writeError(res: NodeResponse, err: ConnectError): void {
  if (res.destroyed || res.headersSent) return;
  let body: Uint8Array;
  try {
    body = errorToJsonBytes(err, undefined);
  } catch {
    body = errorToJsonBytes(new ConnectError("internal error", Code.Internal), undefined);
  }
  const headers: Record<string, string | number> = {};
  err.metadata.forEach((value, key) => {
    headers[key] = value;
  });
  headers["content-type"] = "application/json";
  headers["content-length"] = body.byteLength;
  send(res, codeToHttpStatus(err.code), headers, body);
}
