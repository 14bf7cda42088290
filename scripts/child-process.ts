// Commands as child processes, for tests that use the tools as a user
// would: run to completion, or `paycode serve` started and its URL read from
// what it prints.
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

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args…` to completion, collecting its output; killed after `timeoutMs`. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
