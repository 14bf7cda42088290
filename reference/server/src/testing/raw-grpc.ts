import http2 from "node:http2";

/** A gRPC or gRPC-Web length-prefixed message frame. */
export function envelope(payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = flags;
  out.writeUInt32BE(payload.byteLength, 1);
  Buffer.from(payload).copy(out, 5);
  return out;
}

/** Status of a gRPC-Web response body: the trailer frame's grpc-status. */
export function grpcWebStatus(body: Buffer): number | undefined {
  let off = 0;
  while (off + 5 <= body.length) {
    const flags = body[off]!;
    const len = body.readUInt32BE(off + 1);
    const data = body.subarray(off + 5, off + 5 + len);
    if (flags & 0x80) {
      const m = /grpc-status: ?(\d+)/.exec(data.toString("latin1"));
      return m ? Number(m[1]) : undefined;
    }
    off += 5 + len;
  }
  return undefined;
}

/** One raw gRPC call over h2c; resolves to the grpc-status from headers or trailers. */
export function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Uint8Array,
): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
    });
    let status: number | undefined;
    stream.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = Number(h["grpc-status"]);
    });
    stream.on("trailers", (h) => {
      if (h["grpc-status"] !== undefined) status = Number(h["grpc-status"]);
    });
    stream.on("data", () => {});
    stream.on("end", () => {
      session.close();
      resolve(status);
    });
    stream.on("error", reject);
    stream.end(body);
  });
}
