import type { Interceptor } from "@connectrpc/connect";

/** Adds `Authorization: Bearer <token>` unless the call already set one. */
export function bearerInterceptor(token: string): Interceptor {
  if (!token || /[\r\n]/.test(token)) throw new RangeError("invalid bearer token");
  return (next) => (req) => {
    if (!req.header.has("authorization")) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
