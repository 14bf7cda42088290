import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { HttpVersion } from "./transport.js";

// The child runs plain JavaScript through `node -e`: no TypeScript loader,
// no framework, nothing but the handler. It reads the body (a real server
// must) and answers 200 with an empty application/proto body, which is
// what a no-op Connect unary call returns.
const CHILD_SOURCE = `
const http = require("node:http");
const http2 = require("node:http2");
const version = process.argv[1];
const handler = (req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/proto" });
    res.end();
  });
};
const server = version === "2" ? http2.createServer(handler) : http.createServer(handler);
if (version !== "2") server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n");
});
process.on("SIGTERM", () => process.exit(0));
`;

/** A trivial node:http (or node:http2 h2c) server in its own process. */
export interface BareServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBareServer(version: HttpVersion): Promise<BareServer> {
  const child: ChildProcess = spawn(process.execPath, ["-e", CHILD_SOURCE, version], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve((JSON.parse(buf.slice(0, nl)) as { port: number }).port);
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
