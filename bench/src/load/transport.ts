/** A raw HTTP response of one unary call: status and whole body. */
export interface RawResponse {
  status: number;
  body: Buffer;
}

/** A path plus fixed headers, prepared once so the hot loop builds no header objects. */
export interface Endpoint {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The least a load generator needs: POST bytes, get status + body.
 * Implementations keep their connections open between calls; no per-call
 * AbortSignal, no interceptors.
 */
export interface UnaryTransport {
  readonly description: string;
  /** Opens the connections before timing starts. */
  connect(): Promise<void>;
  prepare(path: string, headers?: Record<string, string>): Endpoint;
  send(endpoint: Endpoint, body: Uint8Array): Promise<RawResponse>;
  close(): Promise<void>;
}

export type HttpVersion = "2" | "1.1";

/** Convenience for set-up calls: prepare + send. */
export function post(
  t: UnaryTransport,
  path: string,
  body: Uint8Array,
  headers?: Record<string, string>,
): Promise<RawResponse> {
  return t.send(t.prepare(path, headers), body);
}
