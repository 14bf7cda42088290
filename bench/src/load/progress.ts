import { formatCount, formatLatency } from "../format.js";

export interface ProgressSample {
  phase: string;
  warm: boolean;
  elapsedS: number;
  totalS: number;
  /** Answers per second since the previous sample, warm-up included. */
  intervalRate: number;
  intervalErrors: number;
  measuredOk: number;
  p50Us: number;
  p99Us: number;
}

/** Receives a sample every 500 ms while a phase runs. */
export interface ProgressSink {
  tick(sample: ProgressSample): void;
  done(phase: string): void;
  /** A one-off message (set-up steps). */
  note(message: string): void;
}

/** Discards everything (tests, --quiet). */
export const silentProgress: ProgressSink = { tick() {}, done() {}, note() {} };

function line(p: ProgressSample): string {
  const stage = p.warm ? "warm-up" : "measure";
  const pct =
    p.measuredOk > 0 ? `p50 ${formatLatency(p.p50Us)}  p99 ${formatLatency(p.p99Us)}  ` : "";
  return (
    `[${p.phase}] ${stage} ${p.elapsedS.toFixed(1)}/${p.totalS.toFixed(0)} s  ` +
    `${formatCount(p.intervalRate)} req/s  ok ${formatCount(p.measuredOk)}  ` +
    `${pct}errors ${p.intervalErrors}`
  );
}

/**
 * On a TTY one line is rewritten on every sample; otherwise (CI logs,
 * pipes) a full line is printed every `everyS` seconds so logs stay short.
 */
export function streamProgress(
  stream: NodeJS.WriteStream = process.stderr,
  everyS = 5,
): ProgressSink {
  const tty = stream.isTTY === true;
  let lastPrinted = -Infinity;
  let dirty = false;
  return {
    tick(p) {
      if (tty) {
        stream.write(`\r\x1b[2K${line(p)}`);
        dirty = true;
      } else if (p.elapsedS - lastPrinted >= everyS) {
        stream.write(`${line(p)}\n`);
        lastPrinted = p.elapsedS;
      }
    },
    done() {
      if (tty && dirty) stream.write("\r\x1b[2K");
      dirty = false;
      lastPrinted = -Infinity;
    },
    note(message) {
      if (tty && dirty) stream.write("\r\x1b[2K");
      dirty = false;
      stream.write(`${message}\n`);
    },
  };
}
