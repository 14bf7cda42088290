import type { Server as HttpServer } from "node:http";
import type { Http2Server } from "node:http2";
import type { Socket } from "node:net";

// Every HTTP/2 prior-knowledge (h2c) connection starts with this preface;
// no HTTP/1.x request line does, and three bytes tell them apart.
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const DECIDE_AT = 3;

/**
 * Node's plaintext `http2.createServer` ignores `allowHTTP1` (only the TLS
 * server negotiates via ALPN), so HTTP/1.1 and h2c on one port need a look
 * at the first bytes. The socket is handed to the HTTP/1.1 or the HTTP/2
 * server with those bytes pushed back; the HTTP/2 session picks buffered
 * bytes up when it adopts the socket, so it must stay paused here.
 */
export function sniffHttpVersion(
  socket: Socket,
  h1: HttpServer,
  h2: Http2Server,
  firstByteTimeoutMs: number,
): void {
  let buffered: Buffer | undefined;
  const onError = () => {};
  const onTimeout = () => socket.destroy();
  const onData = (chunk: Buffer) => {
    buffered = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
    if (buffered.length < DECIDE_AT) return;
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(buffered);
    const n = Math.min(buffered.length, PREFACE.length);
    if (buffered.subarray(0, n).equals(PREFACE.subarray(0, n))) {
      h2.emit("connection", socket);
    } else {
      h1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("error", onError);
  socket.setTimeout(firstByteTimeoutMs);
  socket.once("timeout", onTimeout);
  socket.on("data", onData);
}
