/**
 * The audit log over a real server: which events the flows of today
 * produce, with what fields, on the file and in the table, and that no
 * secret of those flows (API keys, wallet tokens, passwords, seeds, wallet
 * private keys, complete payment codes, rejected keys) reaches either, in
 * any usual encoding.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { PaymentStatus, SettlementService, WalletService } from "@paycode/protocol/v1";
import { afterAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../issuer/audit-log.js";
import { cny, HARNESS_T0_MS, type Harness, startHarness } from "../rpc/testing/harness.js";
import { openStore } from "../store/open-store.js";
import type { AuditEventRecord } from "../store/records.js";
import { testTransport } from "../testing/transports.js";
import { AuditPipeline, type AuditSink } from "./audit-pipeline.js";
import { FileAuditLog } from "./file-audit-log.js";
import { StoreAuditLog } from "./store-audit-log.js";

const dir = mkdtempSync(join(tmpdir(), "paycode-audit-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectError) return Code[e.code];
    throw e;
  }
  return "ok";
}

/** The forms a secret could take in a log line. */
function encodings(secret: string | Uint8Array): string[] {
  const b = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  const forms = [b.toString("hex"), b.toString("base64"), b.toString("base64url")];
  if (typeof secret === "string") forms.push(secret, JSON.stringify(secret).slice(1, -1));
  // The SHA-256 the store keeps of a bearer key is not secret, but has no business in the log either.
  if (typeof secret === "string") forms.push(createHash("sha256").update(b).digest("hex"));
  return forms.filter((f) => f.length >= 8);
}

function leaks(text: string, secrets: ReadonlyMap<string, string | Uint8Array>): string[] {
  const found = new Set<string>();
  for (const [name, secret] of secrets) {
    for (const form of encodings(secret)) if (text.includes(form)) found.add(name);
  }
  return [...found];
}

class MemorySink implements AuditSink {
  readonly events: AuditEvent[] = [];
  async write(events: readonly AuditEvent[]): Promise<void> {
    this.events.push(...events);
  }
  async close(): Promise<void> {}
}

describe("audit log end to end", () => {
  it("records failed authentication, revocations and test control, and never a secret", async () => {
    const dbUrl = `sqlite:${join(dir, "issuer.db")}`;
    const filePath = join(dir, "audit.jsonl");
    // The table sink on its own store of the same database, as a second server would.
    const auditStore = await openStore(dbUrl);
    const memory = new MemorySink();
    let h: Harness | undefined;
    // The pipeline reads the harness's clock once it exists.
    const audit = new AuditPipeline({
      sinks: [new FileAuditLog(filePath), new StoreAuditLog(auditStore), memory],
      clock: { now: () => h?.clock.now() ?? HARNESS_T0_MS },
    });
    h = await startHarness(dbUrl, { audit });
    const secrets = new Map<string, string | Uint8Array>();
    try {
      const m = await h.newMerchant();
      secrets.set("merchant key", m.apiKey);
      const t = await h.newTerminal(m.merchantId);
      secrets.set("terminal key", t.apiKey);
      const w = await h.newWallet({ balance: 500_000n, password: "s3cret-pass-word" });
      secrets.set("wallet token", w.token);
      secrets.set("password", w.password);
      secrets.set("seed", w.seed);
      // The raw Ed25519 private key: the last 32 bytes of its PKCS#8 form.
      secrets.set(
        "wallet private key",
        new Uint8Array(w.key.privateKey.export({ format: "der", type: "pkcs8" }).subarray(-32)),
      );

      // Good calls: scans with complete codes (online, offline), a step-up confirmation.
      const code1 = w.onlineCode();
      secrets.set("online code", code1);
      const p1 = await m.merchant.scan({
        outTradeNo: "a-1",
        amount: cny(1_000n),
        code: code1,
        subject: "tea",
      });
      expect(PaymentStatus[p1.payment!.status]).toBe("SUCCEEDED");
      const code2 = w.onlineCode();
      secrets.set("online code 2", code2);
      const p2 = await m.merchant.scan({
        outTradeNo: "a-2",
        amount: cny(150_000n),
        code: code2,
        subject: "tv",
      });
      expect(PaymentStatus[p2.payment!.status]).toBe("PENDING_CONFIRMATION");
      secrets.set("wrong confirm password", "not-the-pass-word");
      expect(
        await codeOf(
          w.wallet.confirmPayment({
            paymentId: p2.payment!.paymentId,
            password: "not-the-pass-word",
          }),
        ),
      ).toBe("PermissionDenied");
      await w.wallet.confirmPayment({ paymentId: p2.payment!.paymentId, password: w.password });
      const keys = await t.settlement.getIssuerKeys({});
      const off = w.offlineCode();
      secrets.set("offline code", off.code);
      await t.settlement.uploadOfflineBatch({
        batchId: "b-1",
        records: [
          {
            recordId: "r-1",
            code: off.code,
            amount: cny(500n),
            acceptedAt: timestampFromMs(h.clock.now()),
            keysSyncedAt: keys.generatedAt!,
          },
        ],
      });

      // Failed authentication, on the Connect fast path and on gRPC (stock handler).
      const badMerchantKey = "pk_merchant_0123456789abcdefBADBADBAD";
      const badWalletToken = "wt_0123456789abcdefBADBADBADTOKEN";
      const badTerminalKey = "pk_terminal_0123456789abcdefNOPENOPE";
      secrets.set("bad merchant key", badMerchantKey);
      secrets.set("bad wallet token", badWalletToken);
      secrets.set("bad terminal key", badTerminalKey);
      const connect = h.transport("connect-h1");
      const grpc = h.transport("grpc-h2");
      for (let i = 0; i < 5; i++) {
        expect(
          await codeOf(
            connect
              .client(SettlementService, badMerchantKey)
              .getSettlementReport({ date: "2026-03-02", currency: "CNY" }),
          ),
        ).toBe("Unauthenticated");
      }
      expect(await codeOf(grpc.client(WalletService, badWalletToken).getWallet({}))).toBe(
        "Unauthenticated",
      );
      expect(await codeOf(connect.client(WalletService).getWallet({}))).toBe("Unauthenticated");
      expect(
        await codeOf(
          connect
            .client(SettlementService, badTerminalKey)
            .uploadOfflineBatch({ batchId: "x", records: [] }),
        ),
      ).toBe("Unauthenticated");
      expect(
        await codeOf(connect.client(SettlementService, badTerminalKey).getIssuerKeys({})),
      ).toBe("Unauthenticated");
      // A raw header that is not `Bearer <token>`, itself holding a secret-looking value.
      const raw = testTransport(h.url, "connect-h1");
      const mangled = createClient(WalletService, raw.transport);
      const mangledHeader = "Basic c2VjcmV0LWJhc2ljLWNyZWRz";
      secrets.set("mangled header", mangledHeader);
      expect(
        await codeOf(mangled.getWallet({}, { headers: { authorization: mangledHeader } })),
      ).toBe("Unauthenticated");
      raw.close();
      // ProvisionSeed with a wrong password, and with the password typed into the account id.
      const wrongPassword = "hunter2-wrong-password";
      secrets.set("wrong password", wrongPassword);
      const walletClient = connect.client(WalletService);
      expect(
        await codeOf(
          walletClient.provisionSeed({
            accountId: w.accountId,
            password: wrongPassword,
            walletPublicKey: w.key.publicKey,
            deviceLabel: "x",
          }),
        ),
      ).toBe("Unauthenticated");
      expect(
        await codeOf(
          walletClient.provisionSeed({
            accountId: w.password,
            password: w.password,
            walletPublicKey: w.key.publicKey,
            deviceLabel: "x",
          }),
        ),
      ).toBe("Unauthenticated");

      // Revocations: re-provisioning, then RevokeSeed twice (one transition).
      const w2 = await h.reprovision(w);
      secrets.set("wallet token 2", w2.token);
      secrets.set("seed 2", w2.seed);
      await w2.wallet.revokeSeed({ reason: "lost phone" });
      await w2.wallet.revokeSeed({ reason: "lost phone again" });
      // A revoked wallet's token still authenticates: no auth.failed for it.
      await w2.wallet.getWallet({});

      h.clock.advance(60_000);
      await audit.tick();
    } finally {
      await h.close();
      await audit.close();
    }

    // Every line on the file is one JSON object, and the file holds what the memory sink saw.
    const fileText = readFileSync(filePath, "utf8");
    const lines = fileText.trimEnd().split("\n");
    const fromFile = lines.map((l) => JSON.parse(l) as AuditEvent & { time: string });
    expect(fromFile.map((e) => e.type)).toEqual(memory.events.map((e) => e.type));
    const rows: AuditEventRecord[] = await auditStore.read((tx) => tx.listAuditEvents({}));
    await auditStore.close();
    expect(rows.map((r) => r.type)).toEqual(memory.events.map((e) => e.type));

    const events = memory.events;
    const ofType = (type: string) => events.filter((e) => e.type === type);
    const failures = ofType("auth.failed").map((e) => e.detail!);
    const local = (peer: unknown) => peer === "127.0.0.1" || peer === "::ffff:127.0.0.1";
    expect(failures.every((d) => local(d.peer))).toBe(true);
    const byRpc = (rpc: string) =>
      failures
        .filter((d) => d.rpc === `paycode.v1.${rpc}`)
        .map((d) => [d.kind, d.credential, d.count]);
    // Five failures from one peer: one line at once, the other four folded at the minute's end.
    expect(byRpc("SettlementService.GetSettlementReport")).toEqual([
      ["merchant", "invalid", 1],
      ["merchant", "invalid", 4],
    ]);
    expect(byRpc("WalletService.GetWallet")).toEqual([
      ["wallet", "invalid", 1],
      ["wallet", "missing", 1],
      ["wallet", "malformed", 1],
    ]);
    expect(byRpc("SettlementService.UploadOfflineBatch")).toEqual([["terminal", "invalid", 1]]);
    expect(byRpc("SettlementService.GetIssuerKeys")).toEqual([["merchant|terminal", "invalid", 1]]);
    expect(byRpc("WalletService.ProvisionSeed")).toEqual([
      ["account", "password", 1],
      ["account", "password", 1],
    ]);
    // No subject for a failed authentication: nobody was authenticated.
    expect(ofType("auth.failed").every((e) => e.subject === undefined)).toBe(true);

    const revoked = ofType("wallet.revoked");
    expect(revoked.map((e) => [e.subject?.id, e.detail?.rpc, e.detail?.reason])).toEqual([
      [expect.any(String), "ProvisionSeed", "re-provisioned"],
      [expect.any(String), "RevokeSeed", "lost phone"],
    ]);
    expect(revoked[0]!.detail?.replacedBy).toBe(revoked[1]!.subject?.id);
    expect(ofType("wallet.provisioned")).toHaveLength(2);
    expect(
      ofType("credential.created").map((e) => [e.subject?.kind, e.detail?.credential]),
    ).toEqual([
      ["merchant", "api-key"],
      ["terminal", "api-key"],
      ["account", "password"],
    ]);
    expect(ofType("server.started").map((e) => e.detail?.testControl)).toEqual([true]);
    expect(ofType("server.test_control_enabled")).toHaveLength(1);
    expect(ofType("server.stopped")).toHaveLength(1);

    // The check itself can fail: a planted secret is found in every encoding.
    for (const [name, secret] of secrets) {
      for (const form of encodings(secret)) {
        expect(leaks(`{"x":"${form}"}`, new Map([[name, secret]]))).toEqual([name]);
      }
    }
    expect(secrets.size).toBe(17);
    expect(leaks(fileText, secrets)).toEqual([]);
    expect(leaks(JSON.stringify(rows), secrets)).toEqual([]);
  });
});
