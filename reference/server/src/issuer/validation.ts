import { Code, ConnectError } from "@connectrpc/connect";
import type { Money } from "@paycode/protocol/v1";

// [RPC-5] Each error condition of the spec maps to the Connect code it names.
export const invalidArgument = (message: string) => new ConnectError(message, Code.InvalidArgument);
export const notFound = (message: string) => new ConnectError(message, Code.NotFound);
export const alreadyExists = (message: string) => new ConnectError(message, Code.AlreadyExists);
export const failedPrecondition = (message: string) =>
  new ConnectError(message, Code.FailedPrecondition);
export const permissionDenied = (message: string) =>
  new ConnectError(message, Code.PermissionDenied);
export const unauthenticated = (message: string) => new ConnectError(message, Code.Unauthenticated);
export const unavailable = (message: string) => new ConnectError(message, Code.Unavailable);

/** Longest code accepted (an offline QR is ~600 characters; this leaves room, and bounds work). */
export const MAX_CODE_LENGTH = 2048;
/** Most records in one offline batch. */
export const MAX_BATCH_RECORDS = 1000;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const CURRENCY = /^[A-Z]{3}$/;

// [SEC-1] The require* checks run before a request reads or writes the store, so a
// malformed request gets its invalid_argument and changes nothing.

/** A merchant reference (out_trade_no, out_refund_no, batch_id): 1 to 64 printable ASCII characters. */
export function requireReference(field: string, value: string): void {
  if (value.length === 0) throw invalidArgument(`${field} is required`);
  if (value.length > 64)
    throw invalidArgument(`${field} must be at most 64 characters, got ${value.length}`);
  if (!PRINTABLE_ASCII.test(value)) throw invalidArgument(`${field} must be printable ASCII`);
}

export function isCurrency(value: string): boolean {
  return CURRENCY.test(value);
}

export function requireCurrency(field: string, value: string): void {
  if (!CURRENCY.test(value)) {
    throw invalidArgument(
      `${field} must be an ISO 4217 code of 3 upper-case letters, got "${value}"`,
    );
  }
}

/** A request amount: present, well-formed currency, strictly positive. */
export function requireAmount(field: string, m: Money | undefined): asserts m is Money {
  if (!m) throw invalidArgument(`${field} is required`);
  requireCurrency(`${field}.currency`, m.currency);
  if (m.amountMinor <= 0n)
    throw invalidArgument(`${field}.amount_minor must be positive, got ${m.amountMinor}`);
}

/** An identifier field: non-empty, bounded. */
export function requireId(field: string, value: string): void {
  if (value.length === 0) throw invalidArgument(`${field} is required`);
  if (value.length > 128) throw invalidArgument(`${field} must be at most 128 characters`);
}

/** Length in characters as the spec counts them: Unicode code points (§1.3). */
export function characterCount(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

export function requireMaxLength(field: string, value: string, max: number): void {
  if (characterCount(value) > max)
    throw invalidArgument(`${field} must be at most ${max} characters`);
}

/**
 * A forbidden character of free text (§7.1): C0 and C1 controls, DEL, and
 * bidirectional formatting characters.
 */
export function isForbiddenInText(cp: number): boolean {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

/**
 * Free text shown to people later ([SCAN-16], [REFUND-12], [WALLET-12],
 * [WALLET-13]): bounded, and refused rather than cleaned when it holds a
 * forbidden character, so what is stored is what was sent.
 */
export function requireFreeText(field: string, value: string, max: number): void {
  requireMaxLength(field, value, max);
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (isForbiddenInText(cp)) {
      throw invalidArgument(
        `${field} must not contain U+${cp.toString(16).toUpperCase().padStart(4, "0")} (control and bidirectional formatting characters are refused)`,
      );
    }
  }
}

export function requireCode(code: string): void {
  if (code.length === 0) throw invalidArgument("code is required");
  if (code.length > MAX_CODE_LENGTH) {
    throw invalidArgument(`code must be at most ${MAX_CODE_LENGTH} characters, got ${code.length}`);
  }
}

export function requirePassword(field: string, value: string): void {
  if (value.length === 0) throw invalidArgument(`${field} is required`);
  if (value.length > 1024) throw invalidArgument(`${field} must be at most 1024 characters`);
}
