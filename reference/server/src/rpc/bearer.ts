import { Code, ConnectError } from "@connectrpc/connect";

// RFC 6750 b64token plus the characters our keys and tokens use; anything
// else (spaces, control characters) means the header was mangled.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/=:]{1,512})$/i;

const missing = "missing Authorization header: expected `Authorization: Bearer <token>`";
const malformed = "malformed Authorization header: expected `Authorization: Bearer <token>`";

/**
 * The one place where `Authorization: Bearer <token>` is parsed. Throws
 * `unauthenticated` when the header is missing or not a bearer token; the
 * token itself is never part of the message.
 */
export function parseBearer(header: string | null | undefined): string {
  if (header === undefined || header === null || header === "") {
    throw new ConnectError(missing, Code.Unauthenticated);
  }
  const m = BEARER.exec(header);
  if (m === null) throw new ConnectError(malformed, Code.Unauthenticated);
  return m[1]!;
}
