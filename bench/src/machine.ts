import os from "node:os";

/** What a benchmark ran on; numbers from different machines are not comparable. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryMiB: number;
  platform: string;
  arch: string;
  kernel: string;
  nodeVersion: string;
  v8Version: string;
  opensslVersion: string;
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    opensslVersion: process.versions.openssl ?? "unknown",
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryMiB} MiB, ${m.platform}/${m.arch}, ` +
    `Node ${m.nodeVersion}, OpenSSL ${m.opensslVersion}, load ${m.loadAverage1m}`
  );
}
