import { closeSync, fdatasyncSync, fstatSync, openSync, writeSync } from "node:fs";
import type { Writable } from "node:stream";
import type { AuditEvent } from "../issuer/audit-log.js";
import { auditJson } from "./audit-line.js";
import type { AuditSink } from "./audit-pipeline.js";

export interface FileAuditLogOptions {
  /** fdatasync after every line: survives power loss, costs a disk flush per event. Default false. */
  fsync?: boolean;
}

/**
 * JSON lines appended to a file, created with mode 0600 (an existing file
 * keeps its mode). Each line is one `write(2)` on an `O_APPEND` descriptor,
 * done before `record` resolves: once an event is recorded it is in the
 * kernel and survives a crash of the server process; with `fsync` it is
 * also on disk before `record` resolves, so it survives power loss.
 * `reopen` (on SIGHUP in `paycode serve`) lets logrotate move the file.
 */
export class FileAuditLog implements AuditSink {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    private readonly options: FileAuditLogOptions = {},
  ) {
    this.fd = FileAuditLog.open(path);
  }

  private static open(path: string): number {
    const fd = openSync(path, "a", 0o600);
    if (!fstatSync(fd).isFile()) {
      // A FIFO or device would block or vanish; the stream sink is for those.
      closeSync(fd);
      throw new Error(`${path} is not a regular file`);
    }
    return fd;
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    if (this.fd === undefined) throw new Error(`audit log ${this.path} is closed`);
    const text = events.map((e) => `${auditJson(e)}\n`).join("");
    const buf = Buffer.from(text, "utf8");
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    if (this.options.fsync) fdatasyncSync(this.fd);
  }

  /** Opens the path again (after logrotate moved the file away). */
  reopen(): void {
    const next = FileAuditLog.open(this.path);
    const old = this.fd;
    this.fd = next;
    if (old !== undefined) closeSync(old);
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      if (this.options.fsync) fdatasyncSync(fd);
      closeSync(fd);
    }
  }
}

/**
 * JSON lines on a stream (`--audit-log -`: standard output). `record`
 * resolves once the stream has taken the line (for a pipe or terminal:
 * written; Node writes stdout synchronously to files and pipes on Linux).
 */
export class StreamAuditLog implements AuditSink {
  constructor(private readonly stream: Writable) {}

  write(events: readonly AuditEvent[]): Promise<void> {
    const text = events.map((e) => `${auditJson(e)}\n`).join("");
    return new Promise((resolve, reject) => {
      this.stream.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
