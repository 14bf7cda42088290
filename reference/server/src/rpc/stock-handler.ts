import type { IncomingMessage, ServerResponse } from "node:http";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
} from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { NodeRequest, NodeResponse } from "./connect-unary-fast-path.js";
import type { ServerLogger } from "./logger.js";
import { PEER_ADDRESS } from "./peer-address.js";

/**
 * connect-node's request handler (the same steps as `connectNodeAdapter`)
 * with two fixes:
 * - a request connect-node cannot even read (HTTP/1.0 without Host) gets a
 *   400 instead of a synchronous throw out of the request listener;
 * - [SEC-1] a request message that is not valid protobuf is `invalid_argument`, as
 *   in connect-go and grpc-go. connect-es reports it as `internal` (its
 *   binary parser shares the error path with response parsing), and it
 *   happens before any interceptor runs, so the status is corrected on the
 *   way out, per protocol;
 * - [RPC-9] a request message over `readMaxBytes` is `invalid_argument`:
 *   connect-es says `resource_exhausted`, which clients retry, before any
 *   interceptor runs; corrected the same way.
 */
export function createStockHandler(
  routes: (router: ConnectRouter) => void,
  options: ConnectRouterOptions,
  logger: ServerLogger,
): (req: NodeRequest, res: NodeResponse) => void {
  const router = createConnectRouter(options);
  routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);

  return function stockHandler(req, res) {
    const nodeRes = res as ServerResponse;
    const path = req.url === undefined ? "" : req.url.split("?", 1)[0]!;
    const handler = paths.get(path);
    if (handler === undefined) {
      nodeRes.writeHead(404);
      res.end();
      return;
    }
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      uReq = universalRequestFromNodeRequest(
        req as IncomingMessage,
        nodeRes,
        undefined,
        createContextValues().set(PEER_ADDRESS, req.socket?.remoteAddress),
      );
    } catch {
      nodeRes.writeHead(400);
      res.end();
      return;
    }
    handler(uReq)
      .then(fixRequestErrors)
      .then((uRes) => universalResponseToNodeResponse(uRes, nodeRes))
      .catch((reason: unknown) => {
        // The client went away: nothing to report.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        logger.error(
          `writing the response of ${handler.service.typeName}.${handler.method.name} failed`,
          reason,
        );
      });
  };
}

const PARSE_BINARY = "parse binary:";
/** The start of connect-es's message when a request exceeds readMaxBytes. */
const TOO_LARGE = "message size ";

/**
 * Errors connect-es raises while reading the request, before any
 * interceptor, that Paycode answers as `invalid_argument`: the message of
 * each names its kind, the code is the one connect-es gives it.
 */
const MISCODED: readonly { code: Code; connect: string; prefix: string }[] = [
  { code: Code.Internal, connect: "internal", prefix: PARSE_BINARY },
  { code: Code.ResourceExhausted, connect: "resource_exhausted", prefix: TOO_LARGE },
];

function miscodedGrpc(status: string | null, message: string | null | undefined): boolean {
  return MISCODED.some(
    (m) => status === String(m.code) && message?.startsWith(encodeURIComponent(m.prefix)) === true,
  );
}

async function fixRequestErrors(uRes: UniversalServerResponse): Promise<UniversalServerResponse> {
  const ct = uRes.header?.get("content-type") ?? "";
  if ((uRes.status === 500 || uRes.status === 429) && ct.startsWith("application/json")) {
    return fixConnectUnary(uRes);
  }
  if (ct.startsWith("application/grpc-web")) {
    return uRes.body === undefined ? uRes : { ...uRes, body: fixGrpcWebTrailer(uRes.body) };
  }
  if (ct.startsWith("application/grpc")) {
    // Unary: the call has finished when the handler resolves, so the status
    // is already in the trailer (or, trailers-only, in the header).
    for (const t of [uRes.trailer, uRes.header]) {
      if (t && miscodedGrpc(t.get("grpc-status"), t.get("grpc-message"))) {
        t.set("grpc-status", String(Code.InvalidArgument));
      }
    }
  }
  return uRes;
}

async function fixConnectUnary(uRes: UniversalServerResponse): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  if (uRes.body !== undefined) for await (const c of uRes.body) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  const replay = { ...uRes, body: oneChunk(bytes) };
  let err: { code?: unknown; message?: unknown };
  try {
    err = JSON.parse(bytes.toString("utf8")) as typeof err;
  } catch {
    return replay;
  }
  const message = typeof err.message === "string" ? err.message : "";
  if (!MISCODED.some((m) => err.code === m.connect && message.startsWith(m.prefix))) return replay;
  const body = Buffer.from(JSON.stringify({ ...err, code: "invalid_argument" }), "utf8");
  const header = new Headers(uRes.header);
  header.set("content-length", String(body.byteLength));
  return { ...uRes, status: 400, header, body: oneChunk(body) };
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

// gRPC-Web carries the status in a final frame with flag 0x80 and an
// HTTP/1-style header block as payload.
async function* fixGrpcWebTrailer(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) yield rewriteTrailerFrame(chunk);
}

function rewriteTrailerFrame(chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength < 5 || (chunk[0]! & 0x80) === 0) return chunk;
  const len = Buffer.from(chunk.buffer, chunk.byteOffset + 1, 4).readUInt32BE(0);
  if (len !== chunk.byteLength - 5) return chunk;
  const text = Buffer.from(chunk.buffer, chunk.byteOffset + 5, len).toString("latin1");
  const status = /^grpc-status: ?(\d+)\r$/m.exec(text)?.[1] ?? null;
  const message = /^grpc-message: ?([^\r]*)\r$/m.exec(text)?.[1];
  if (!miscodedGrpc(status, message)) return chunk;
  const fixed = Buffer.from(
    text.replace(/^grpc-status: ?\d+\r$/m, `grpc-status: ${Code.InvalidArgument}\r`),
    "latin1",
  );
  const out = Buffer.allocUnsafe(5 + fixed.byteLength);
  out[0] = chunk[0]!;
  out.writeUInt32BE(fixed.byteLength, 1);
  fixed.copy(out, 5);
  return out;
}
