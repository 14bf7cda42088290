// Test helper, not exported from index.ts: a TCP proxy on loopback that can
// break chosen connections, to exercise real transport failures.
import net from "node:net";

/**
 * What the proxy does with one new client connection:
 * - "forward": relay both ways;
 * - "reset": reset the client connection before the request reaches the server;
 * - "drop-response": relay the request, then reset the client connection as
 *   the server's answer arrives (the server did the work, the client never hears).
 */
export type ConnectionFate = "forward" | "reset" | "drop-response";

export class LoopbackProxy {
  /** Fates for the next new connections, in order; afterwards connections are forwarded. */
  readonly plan: ConnectionFate[] = [];
  /** Number of upcoming server answers to swallow, on any connection (keep-alive ones included). */
  dropResponses = 0;
  connections = 0;
  private isDown = false;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly url: string,
  ) {}

  static async start(targetUrl: string): Promise<LoopbackProxy> {
    const target = new URL(targetUrl);
    let proxy!: LoopbackProxy;
    const server = net.createServer((client) => proxy.handle(client, target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    proxy = new LoopbackProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** While down, existing connections are cut and new ones reset, like a server that is unreachable. */
  get down(): boolean {
    return this.isDown;
  }

  set down(value: boolean) {
    this.isDown = value;
    if (value) for (const s of this.sockets) s.resetAndDestroy();
  }

  private handle(client: net.Socket, target: URL): void {
    this.connections++;
    this.track(client);
    const fate: ConnectionFate = this.isDown ? "reset" : (this.plan.shift() ?? "forward");
    if (fate === "reset") {
      client.resetAndDestroy();
      return;
    }
    let dropThis = fate === "drop-response";
    const upstream = net.connect(Number(target.port), target.hostname);
    this.track(upstream);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!dropThis && this.dropResponses > 0) {
        this.dropResponses--;
        dropThis = true;
      }
      if (dropThis) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once("drain", () => upstream.resume());
      }
    });
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
