import { Code, ConnectError } from "@connectrpc/connect";
import { override } from "./api-override.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

/** The forbidden characters of free text (§7.1), which these mutants clean away instead of refusing. */
const FORBIDDEN = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const clean = (s: string) => s.replace(FORBIDDEN, "");

function tooLong(field: string, max: number): ConnectError {
  return new ConnectError(`${field} must be at most ${max} characters`, Code.InvalidArgument);
}

/**
 * Free-text mutants: a vendor that sanitizes a field instead of refusing it
 * (one field forgotten at a time), or counts its length in the units its
 * language's strings happen to use.
 */
export const FREE_TEXT_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  "subject-cleaned-not-refused": {
    breaks: ["SCAN-16"],
    summary: "Control and bidi characters are stripped from a Scan subject and the Scan proceeds.",
    wrap: (issuer) =>
      override(issuer, {
        scan: (m, req) => issuer.scan(m, { ...req, subject: clean(req.subject) }),
      }),
  },
  "refund-reason-cleaned-not-refused": {
    breaks: ["REFUND-12"],
    summary:
      "Control and bidi characters are stripped from a refund reason and the refund proceeds.",
    wrap: (issuer) =>
      override(issuer, {
        refundPayment: (m, req) => issuer.refundPayment(m, { ...req, reason: clean(req.reason) }),
      }),
  },
  "device-label-cleaned-not-refused": {
    breaks: ["WALLET-12"],
    summary:
      "Control and bidi characters are stripped from a device label and provisioning proceeds.",
    wrap: (issuer) =>
      override(issuer, {
        provisionSeed: (req) =>
          issuer.provisionSeed({ ...req, deviceLabel: clean(req.deviceLabel) }),
      }),
  },
  "revoke-reason-cleaned-not-refused": {
    breaks: ["WALLET-13"],
    summary:
      "Control and bidi characters are stripped from a revocation reason and the wallet is revoked.",
    wrap: (issuer) =>
      override(issuer, {
        revokeSeed: (w, req) => issuer.revokeSeed(w, { ...req, reason: clean(req.reason) }),
      }),
  },
  "text-length-in-utf8-bytes": {
    breaks: ["SCAN-1"],
    summary:
      "A subject's length is counted in UTF-8 bytes (as Go's len does), refusing valid subjects.",
    wrap: (issuer) =>
      override(issuer, {
        scan: async (m, req) => {
          if (Buffer.byteLength(req.subject, "utf8") > 256) throw tooLong("subject", 256);
          return issuer.scan(m, req);
        },
      }),
  },
  "text-length-in-utf16-units": {
    breaks: ["SCAN-1"],
    summary: "A subject's length is counted in UTF-16 code units (as JavaScript's length does).",
    wrap: (issuer) =>
      override(issuer, {
        scan: async (m, req) => {
          if (req.subject.length > 256) throw tooLong("subject", 256);
          return issuer.scan(m, req);
        },
      }),
  },
};
