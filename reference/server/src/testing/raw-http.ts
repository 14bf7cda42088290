import http from "node:http";

export interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true });

/** One HTTP/1.1 POST with exactly the given headers and body; for byte-level checks. */
export function rawPost(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers["content-type"],
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Closes the pooled sockets of `rawPost`. */
export function closeRawAgent(): void {
  agent.destroy();
}
