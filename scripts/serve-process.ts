// `paycode serve` as a child process, for tests that use the server as a
// user would: started from a command line, its URL read from what it prints.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";

export interface ServeProcess {
  readonly child: ChildProcess;
  /** The base URL the server printed ("listening on <url>"). */
  readonly url: string;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr interleaved. */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code, or "killed". */
  stop(graceMs?: number): Promise<number | null | "killed">;
}

/** Starts `command args…` and waits until it prints its URL (at most `timeoutMs`). */
export async function startServeProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
  timeoutMs = 30_000,
): Promise<ServeProcess> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 10_000) => {
    if (!running()) return child.exitCode;
    child.kill("SIGTERM");
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
    const outcome = await Promise.race([exited, timeout]);
    if (outcome !== "timeout") return outcome;
    child.kill("SIGKILL");
    return "killed" as const;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no URL in ${timeoutMs / 1000} s:\n${log}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      log += d;
      const m = /listening on (https?:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before listening:\n${log}`));
    });
  });
  return { child, url, exited, log: () => log, stop };
}
