import { readFileSync } from "node:fs";

/** CPU time used so far, µs: this process, and the server when its pid is known (Linux /proc). */
export interface CpuSnapshot {
  atMs: number;
  clientUs: number;
  serverUs?: number;
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** utime + stime of a process from /proc/<pid>/stat, µs; undefined when unreadable. */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name, which may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(serverPid?: number): CpuSnapshot {
  const u = process.cpuUsage();
  const serverUs = serverPid !== undefined ? processCpuUs(serverPid) : undefined;
  return {
    atMs: performance.now(),
    clientUs: u.user + u.system,
    ...(serverUs !== undefined ? { serverUs } : {}),
  };
}

/** CPU use between two snapshots: percent of one core, and µs per call. */
export interface CpuUse {
  clientPercent: number;
  clientUsPerCall: number;
  serverPercent?: number;
  serverUsPerCall?: number;
}

export function cpuUse(a: CpuSnapshot, b: CpuSnapshot, calls: number): CpuUse {
  const wallUs = (b.atMs - a.atMs) * 1000;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const client = b.clientUs - a.clientUs;
  const out: CpuUse = {
    clientPercent: r1((100 * client) / wallUs),
    clientUsPerCall: r1(calls > 0 ? client / calls : 0),
  };
  if (a.serverUs !== undefined && b.serverUs !== undefined) {
    const server = b.serverUs - a.serverUs;
    out.serverPercent = r1((100 * server) / wallUs);
    out.serverUsPerCall = r1(calls > 0 ? server / calls : 0);
  }
  return out;
}
