import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { post, type RawResponse, type UnaryTransport } from "./transport.js";

/** The URL path of a Connect unary method: `/package.Service/Method`. */
export function methodPath(method: { parent: { typeName: string }; name: string }): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** A Connect error answer (non-200), with its Connect code. */
export class ConnectCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

// Connect protocol: HTTP status → code when the body is not a Connect error.
function codeFromHttpStatus(status: number): string {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

/** The Connect code of a non-200 unary answer (`{"code": "...", "message": "..."}`). */
export function connectErrorOf(res: RawResponse): ConnectCallError {
  try {
    const j = JSON.parse(res.body.toString("utf8")) as { code?: unknown; message?: unknown };
    if (typeof j.code === "string") {
      return new ConnectCallError(j.code, typeof j.message === "string" ? j.message : "");
    }
  } catch {
    // not JSON: fall through to the status mapping
  }
  return new ConnectCallError(codeFromHttpStatus(res.status), `HTTP ${res.status}`);
}

/**
 * One Connect unary call with binary protobuf; used for set-up (test
 * control, provisioning), where convenience matters more than CPU.
 */
export async function callUnary<I extends DescMessage, O extends DescMessage>(
  transport: UnaryTransport,
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  headers?: Record<string, string>,
): Promise<MessageShape<O>> {
  const body = toBinary(method.input, create(method.input, request));
  const res = await post(transport, methodPath(method), body, headers);
  if (res.status !== 200) throw connectErrorOf(res);
  return fromBinary(method.output, res.body);
}
