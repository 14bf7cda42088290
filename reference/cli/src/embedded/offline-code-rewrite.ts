import { fromBase45, OFFLINE_CODE_PREFIX, toBase45 } from "@paycode/protocol";
import type { IssuerApi } from "@paycode/server";
import { override } from "./api-override.js";

/**
 * `issuer` seeing every offline code (Scan and settlement) as `rewrite`
 * makes it from the envelope bytes: a mutant's lenient decoder or verifier
 * modelled as the code it lets through to the strict reference.
 * `rewrite` returns undefined to pass the code on unchanged.
 */
export function rewriteOfflineCodes(
  issuer: IssuerApi,
  rewrite: (envelope: Uint8Array) => Uint8Array | undefined,
): IssuerApi {
  const apply = (code: string): string => {
    if (!code.startsWith(OFFLINE_CODE_PREFIX)) return code;
    const bytes = fromBase45(code.slice(OFFLINE_CODE_PREFIX.length));
    if (!bytes) return code;
    let out: Uint8Array | undefined;
    try {
      out = rewrite(bytes);
    } catch {
      out = undefined;
    }
    return out ? OFFLINE_CODE_PREFIX + toBase45(out) : code;
  };
  return override(issuer, {
    scan: (m, req) => {
      req.code = apply(req.code);
      return issuer.scan(m, req);
    },
    uploadOfflineBatch: (t, req) => {
      for (const r of req.records) r.code = apply(r.code);
      return issuer.uploadOfflineBatch(t, req);
    },
  });
}
