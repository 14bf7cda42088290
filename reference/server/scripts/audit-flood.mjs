// The audit log under a failed-authentication flood: 10 minutes of issuer time at
// 1000 failures a second from 10,000 IPv6 peers, through AuditPipeline into a
// FileAuditLog. Prints lines written, bytes, the longest line, the sum of the
// counts (must equal the failures) and the time taken. Run after `npx tsc -b`:
//   node reference/server/scripts/audit-flood.mjs

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditPipeline, FileAuditLog } from "../dist/index.js";

const dir = mkdtempSync(join(tmpdir(), "flood-"));
const path = join(dir, "a.jsonl");
let now = Date.UTC(2030, 0, 1);
const clock = { now: () => now };
const audit = new AuditPipeline({ sinks: [new FileAuditLog(path)], clock });
const N = 600_000; // 10 minutes at 1000 failures/s from 10,000 distinct IPv6 peers
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  now += 1; // 1000/s
  await audit.record({
    type: "auth.failed",
    at: now,
    detail: {
      kind: i % 3 ? "merchant" : "wallet",
      rpc: "paycode.v1.MerchantService.Scan",
      peer: `2001:db8:ffff:ffff:ffff:ffff:ffff:${(i % 10000).toString(16)}`,
      credential: "invalid",
    },
  });
}
await audit.close();
const t1 = process.hrtime.bigint();
const text = readFileSync(path, "utf8");
const lines = text.trimEnd().split("\n");
const total = lines.reduce((n, l) => n + JSON.parse(l).detail.count, 0);
console.log(
  JSON.stringify({
    failures: N,
    minutes: N / 60000,
    lines: lines.length,
    bytes: statSync(path).size,
    maxLine: Math.max(...lines.map((l) => l.length)),
    sumOfCounts: total,
    ms: Number(t1 - t0) / 1e6,
  }),
);
rmSync(dir, { recursive: true, force: true });
