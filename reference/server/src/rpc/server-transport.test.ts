import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ConformanceService,
  HealthService,
  MerchantService,
  ScanRequestSchema,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope, grpcWebStatus, rawGrpcCall } from "../testing/raw-grpc.js";
import { closeRawAgent, rawPost } from "../testing/raw-http.js";
import { makeSelfSignedCert } from "../testing/tls.js";
import { type TestTransport, testTransport, WIRE_VARIANTS } from "../testing/transports.js";
import type { ServerLogger } from "./logger.js";
import { type PaycodeServer, startServer } from "./start-server.js";
import { FAKE_KEYS, FakeIssuer, LEAKY_SECRET } from "./testing/fake-issuer.js";

class CapturingLogger implements ServerLogger {
  readonly errors: { message: string; err: unknown }[] = [];
  error(message: string, err?: unknown) {
    this.errors.push({ message, err });
  }
  info() {}
}

const scanReq = (outTradeNo: string) => ({
  outTradeNo,
  amount: { currency: "CNY", amountMinor: 100n },
  code: "621234567890123456",
});

async function expectCode(
  p: Promise<unknown>,
  code: Code,
  message?: RegExp,
): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected the call to fail").toBeInstanceOf(ConnectError);
  const ce = err as ConnectError;
  expect(Code[ce.code]).toBe(Code[code]);
  if (message !== undefined) expect(ce.rawMessage).toMatch(message);
  return ce;
}

describe("server transport (fake issuer)", () => {
  let issuer: FakeIssuer;
  let logger: CapturingLogger;
  let server: PaycodeServer;
  const transports: TestTransport[] = [];
  const open = (variant: (typeof WIRE_VARIANTS)[number] = "connect-h1", url = server.url) => {
    const t = testTransport(url, variant);
    transports.push(t);
    return t;
  };

  beforeAll(async () => {
    issuer = new FakeIssuer();
    logger = new CapturingLogger();
    server = await startServer({ issuer, port: 0, enableTestControl: false, logger });
  });
  afterAll(async () => {
    for (const t of transports) t.close();
    closeRawAgent();
    await server.close();
  });

  it.each(WIRE_VARIANTS)("answers Ping over %s on one port", async (variant) => {
    const health = open(variant).client(HealthService);
    await expect(health.ping({})).resolves.toBeDefined();
  });

  it.each(WIRE_VARIANTS)("runs an authenticated unary call over %s", async (variant) => {
    const merchant = open(variant).client(MerchantService, FAKE_KEYS.merchant);
    const res = await merchant.scan(scanReq(`order-${variant}`));
    expect(res.payment?.outTradeNo).toBe(`order-${variant}`);
  });

  describe("authentication", () => {
    it("rejects a missing Authorization header with a clear message", async () => {
      for (const variant of ["connect-h1", "grpc-h2", "grpc-web-h1"] as const) {
        const merchant = open(variant).client(MerchantService);
        await expectCode(
          merchant.scan(scanReq("o")),
          Code.Unauthenticated,
          /missing Authorization/,
        );
      }
    });

    it("rejects a non-bearer or mangled header", async () => {
      for (const header of [
        "Basic abc",
        "Bearer",
        "Bearer  ",
        "Bearer a b",
        "bearer\tx",
        "Token x",
      ]) {
        const r = await rawPost(
          server.url,
          "/paycode.v1.MerchantService/Scan",
          { "content-type": "application/json", authorization: header },
          "{}",
        );
        expect(r.status, header).toBe(401);
        expect(JSON.parse(r.body.toString()).message).toMatch(/Authorization/);
      }
    });

    it("accepts the scheme case-insensitively", async () => {
      const r = await rawPost(
        server.url,
        "/paycode.v1.MerchantService/GetPayment",
        { "content-type": "application/json", authorization: `bearer ${FAKE_KEYS.merchant}` },
        '{"paymentId":"p1"}',
      );
      expect(r.status).toBe(200);
    });

    it("rejects a wrong key, and keys of the wrong role", async () => {
      const t = open();
      await expectCode(
        t.client(MerchantService, "pcm_wrong").scan(scanReq("o")),
        Code.Unauthenticated,
      );
      await expectCode(
        t.client(MerchantService, FAKE_KEYS.terminal).scan(scanReq("o")),
        Code.Unauthenticated,
      );
      await expectCode(
        t.client(MerchantService, FAKE_KEYS.wallet).scan(scanReq("o")),
        Code.Unauthenticated,
      );
    });

    it("lets GetIssuerKeys use a merchant or a terminal key, nothing else", async () => {
      const t = open();
      issuer.calls.length = 0;
      await t.client(SettlementService, FAKE_KEYS.merchant).getIssuerKeys({});
      await t.client(SettlementService, FAKE_KEYS.terminal).getIssuerKeys({});
      expect(issuer.calls).toEqual(["getIssuerKeys:merchant", "getIssuerKeys:terminal"]);
      await expectCode(
        t.client(SettlementService, FAKE_KEYS.wallet).getIssuerKeys({}),
        Code.Unauthenticated,
      );
      await expectCode(t.client(SettlementService).getIssuerKeys({}), Code.Unauthenticated);
    });

    it("lets only a terminal upload and only a merchant read its report", async () => {
      const t = open();
      const batch = { batchId: "b1", records: [{ recordId: "r1" }] };
      await expectCode(
        t.client(SettlementService, FAKE_KEYS.merchant).uploadOfflineBatch(batch),
        Code.Unauthenticated,
      );
      const up = await t.client(SettlementService, FAKE_KEYS.terminal).uploadOfflineBatch(batch);
      expect(up.results).toHaveLength(1);
      await expectCode(
        t.client(SettlementService, FAKE_KEYS.terminal).getSettlementReport({ date: "2024-01-01" }),
        Code.Unauthenticated,
      );
      const rep = await t
        .client(SettlementService, FAKE_KEYS.merchant)
        .getSettlementReport({ date: "2024-01-01", currency: "CNY" });
      expect(rep.date).toBe("2024-01-01");
    });

    it("needs the wallet token for wallet calls except ProvisionSeed", async () => {
      const t = open();
      await expect(
        t.client(WalletService).provisionSeed({ accountId: "a1" }),
      ).resolves.toBeDefined();
      await expectCode(t.client(WalletService).getWallet({}), Code.Unauthenticated);
      await expectCode(
        t.client(WalletService, FAKE_KEYS.merchant).getWallet({}),
        Code.Unauthenticated,
      );
      await expectCode(
        t.client(WalletService, FAKE_KEYS.merchant).confirmPayment({ paymentId: "p1" }),
        Code.Unauthenticated,
      );
      await expectCode(t.client(WalletService).revokeSeed({}), Code.Unauthenticated);
      const w = t.client(WalletService, FAKE_KEYS.wallet);
      expect((await w.getWallet({})).walletId).toBe("w1");
      await w.confirmPayment({ paymentId: "p1", password: "x" });
      await w.revokeSeed({ reason: "lost" });
    });

    it("never needs credentials for Ping", async () => {
      const r = await rawPost(
        server.url,
        "/paycode.v1.HealthService/Ping",
        { "content-type": "application/proto" },
        "",
      );
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
    });
  });

  describe("unexpected failures", () => {
    it.each(["connect-h1", "grpc-h2", "grpc-web-h2"] as const)(
      "become a generic internal error over %s, logged once, and the server keeps serving",
      async (variant) => {
        const before = logger.errors.length;
        const t = open(variant);
        const err = await expectCode(
          t.client(MerchantService, FAKE_KEYS.merchant).scan(scanReq("explode")),
          Code.Internal,
        );
        expect(err.rawMessage).toBe("internal error");
        expect(JSON.stringify(err)).not.toContain(LEAKY_SECRET);
        expect(err.message).not.toContain(LEAKY_SECRET);
        expect(logger.errors.length - before).toBe(1);
        const logged = logger.errors.at(-1)!;
        expect(logged.message).toContain("paycode.v1.MerchantService.Scan");
        await expect(t.client(HealthService).ping({})).resolves.toBeDefined();
      },
    );

    it("survives an HTTP/1.0 request without Host and raw garbage on a socket", async () => {
      const port = server.port;
      const send = (text: string) =>
        new Promise<string>((resolve) => {
          const s = net.connect(port, "127.0.0.1", () => s.end(text));
          let out = "";
          s.on("data", (d) => {
            out += d.toString("latin1");
          });
          s.on("close", () => resolve(out));
          s.on("error", () => resolve(out));
        });
      const noHost = await send(
        "POST /paycode.v1.HealthService/Ping HTTP/1.0\r\ncontent-type: application/grpc-web+proto\r\ncontent-length: 5\r\n\r\n\0\0\0\0\0",
      );
      expect(noHost).toMatch(/^HTTP\/1\.[01] (400|200)/);
      await send("\x16\x03\x01garbage that is not HTTP at all\r\n\r\n");
      await send("PR");
      await send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x09\x00\x00\x00\x00\x00garbage");
      const health = open().client(HealthService);
      await expect(health.ping({})).resolves.toBeDefined();
    });
  });

  describe("test control", () => {
    it("is not served unless enabled", async () => {
      for (const variant of ["connect-h1", "grpc-h2", "grpc-web-h1"] as const) {
        const control = open(variant).client(ConformanceService);
        await expectCode(control.getCapabilities({}), Code.Unimplemented);
        await expectCode(control.createMerchant({ name: "x" }), Code.Unimplemented);
      }
      const r = await rawPost(
        server.url,
        "/paycode.v1.ConformanceService/CreateAccount",
        { "content-type": "application/json" },
        "{}",
      );
      expect(r.status).toBe(404);
    });

    it("is served when enabled", async () => {
      const s = await startServer({
        issuer: new FakeIssuer(),
        port: 0,
        enableTestControl: true,
        logger,
      });
      try {
        const t = open("connect-h1", s.url);
        expect((await t.client(ConformanceService).getCapabilities({})).implementation).toBe(
          "fake",
        );
        const t2 = open("grpc-h2", s.url);
        expect((await t2.client(ConformanceService).createMerchant({ name: "x" })).merchantId).toBe(
          "m1",
        );
      } finally {
        await s.close();
      }
    });
  });

  describe("limits and malformed input", () => {
    it("refuses a request body over readMaxBytes as invalid_argument, on every protocol [RPC-9]", async () => {
      const big = JSON.stringify({ outTradeNo: "o", code: "x".repeat(1024 * 1024 + 10) });
      const r = await rawPost(
        server.url,
        "/paycode.v1.MerchantService/Scan",
        { "content-type": "application/json", authorization: `Bearer ${FAKE_KEYS.merchant}` },
        big,
      );
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body.toString()).code).toBe("invalid_argument");
      for (const kind of ["grpc-h2", "grpc-web-h1", "connect-h2"] as const) {
        const client = open(kind).client(MerchantService, FAKE_KEYS.merchant);
        await expectCode(
          client.scan({ ...scanReq("o"), code: "x".repeat(1024 * 1024 + 10) }),
          Code.InvalidArgument,
        );
      }
    });

    it("answers random bytes and random JSON with invalid_argument or a result, never internal", async () => {
      const paths = [
        "/paycode.v1.HealthService/Ping",
        "/paycode.v1.MerchantService/Scan",
        "/paycode.v1.SettlementService/UploadOfflineBatch",
        "/paycode.v1.WalletService/ProvisionSeed",
      ];
      const auth = { authorization: `Bearer ${FAKE_KEYS.merchant}` };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...paths),
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((b) => ({ ct: "application/proto", body: b })),
            fc.string({ maxLength: 200 }).map((s) => ({ ct: "application/json", body: s })),
            fc.json().map((s) => ({ ct: "application/json", body: s })),
          ),
          async (path, { ct, body }) => {
            const r = await rawPost(server.url, path, { "content-type": ct, ...auth }, body);
            expect(r.status).not.toBe(500);
            if (r.status !== 200) {
              const code = JSON.parse(r.body.toString()).code;
              expect(["invalid_argument", "unauthenticated"]).toContain(code);
            }
          },
        ),
        { numRuns: 300 },
      );
      await expect(open().client(HealthService).ping({})).resolves.toBeDefined();
    });

    it("reports garbage protobuf as invalid_argument over every protocol", async () => {
      const garbage = Uint8Array.from([0x0a, 0x05, 0x01]);
      const path = "/paycode.v1.HealthService/Ping";
      // Connect, through the fast path and (with a deadline header) the stock path.
      for (const extra of [{}, { "connect-timeout-ms": "5000" }] as Record<string, string>[]) {
        const r = await rawPost(
          server.url,
          path,
          { "content-type": "application/proto", ...extra },
          garbage,
        );
        expect(r.status).toBe(400);
        expect(JSON.parse(r.body.toString()).code).toBe("invalid_argument");
      }
      const web = await rawPost(
        server.url,
        path,
        { "content-type": "application/grpc-web+proto" },
        envelope(garbage),
      );
      expect(grpcWebStatus(web.body)).toBe(Code.InvalidArgument);
      expect(await rawGrpcCall(server.url, path, envelope(garbage))).toBe(Code.InvalidArgument);
      // A well-formed call still succeeds on both.
      expect(
        grpcWebStatus(
          (
            await rawPost(
              server.url,
              path,
              { "content-type": "application/grpc-web+proto" },
              envelope(new Uint8Array(0)),
            )
          ).body,
        ),
      ).toBe(0);
      expect(await rawGrpcCall(server.url, path, envelope(new Uint8Array(0)))).toBe(0);
    });
  });
});

describe("Connect unary fast path", () => {
  let fast: PaycodeServer;
  let stock: PaycodeServer;
  beforeAll(async () => {
    const logger = { error() {}, info() {} };
    fast = await startServer({
      issuer: new FakeIssuer(),
      port: 0,
      enableTestControl: true,
      logger,
    });
    stock = await startServer({
      issuer: new FakeIssuer(),
      port: 0,
      enableTestControl: true,
      logger,
      fastPath: false,
    });
  });
  afterAll(async () => {
    closeRawAgent();
    await Promise.all([fast.close(), stock.close()]);
  });

  const m = `Bearer ${FAKE_KEYS.merchant}`;
  const proto = "application/proto";
  const json = "application/json";
  const cases: [string, string, Record<string, string>, Uint8Array | string][] = [
    ["ping proto", "/paycode.v1.HealthService/Ping", { "content-type": proto }, ""],
    ["ping json", "/paycode.v1.HealthService/Ping", { "content-type": json }, "{}"],
    [
      "ping json charset",
      "/paycode.v1.HealthService/Ping",
      { "content-type": "application/json; charset=utf-8" },
      "{}",
    ],
    ["ping bad json", "/paycode.v1.HealthService/Ping", { "content-type": json }, "{"],
    [
      "ping unknown json field",
      "/paycode.v1.HealthService/Ping",
      { "content-type": json },
      '{"x":1}',
    ],
    [
      "ping garbage proto",
      "/paycode.v1.HealthService/Ping",
      { "content-type": proto },
      "\xff\xff\xff",
    ],
    [
      "scan proto",
      "/paycode.v1.MerchantService/Scan",
      { "content-type": proto, authorization: m },
      toBinary(ScanRequestSchema, create(ScanRequestSchema, scanReq("o1"))),
    ],
    [
      "scan json",
      "/paycode.v1.MerchantService/Scan",
      { "content-type": json, authorization: m },
      JSON.stringify({ outTradeNo: "o2", amount: { currency: "CNY", amountMinor: "5" } }),
    ],
    ["scan no auth", "/paycode.v1.MerchantService/Scan", { "content-type": json }, "{}"],
    [
      "scan internal",
      "/paycode.v1.MerchantService/Scan",
      { "content-type": json, authorization: m },
      '{"outTradeNo":"explode"}',
    ],
    [
      "scan wrong field type",
      "/paycode.v1.MerchantService/Scan",
      { "content-type": json, authorization: m },
      '{"amount":"x"}',
    ],
    [
      "capabilities",
      "/paycode.v1.ConformanceService/GetCapabilities",
      { "content-type": json },
      "{}",
    ],
    ["unknown method", "/paycode.v1.MerchantService/Nope", { "content-type": json }, "{}"],
    ["text/plain", "/paycode.v1.HealthService/Ping", { "content-type": "text/plain" }, "{}"],
    [
      "connect stream type",
      "/paycode.v1.HealthService/Ping",
      { "content-type": "application/connect+proto" },
      "",
    ],
  ];

  it.each(cases)("answers %s exactly like connect-node", async (_name, path, headers, body) => {
    const [a, b] = await Promise.all([
      rawPost(fast.url, path, headers, body),
      rawPost(stock.url, path, headers, body),
    ]);
    expect(a.status).toBe(b.status);
    expect(a.contentType).toBe(b.contentType);
    expect(a.body.toString("hex")).toBe(b.body.toString("hex"));
  });
});

describe("TLS", () => {
  const cert = makeSelfSignedCert();
  if (cert === undefined) console.warn("[skip] TLS tests skipped: openssl is not available");

  describe.skipIf(cert === undefined)("with a self-signed certificate", () => {
    let server: PaycodeServer;
    const transports: TestTransport[] = [];
    beforeAll(async () => {
      server = await startServer({
        issuer: new FakeIssuer(),
        port: 0,
        enableTestControl: false,
        tls: cert!,
        logger: { error() {}, info() {} },
      });
    });
    afterAll(async () => {
      for (const t of transports) t.close();
      await server.close();
    });

    it.each(WIRE_VARIANTS)("serves %s over https", async (variant) => {
      expect(server.url).toMatch(/^https:\/\//);
      const t = testTransport(server.url, variant, { ca: cert!.cert });
      transports.push(t);
      await t.client(HealthService).ping({});
      const res = await t.client(MerchantService, FAKE_KEYS.merchant).scan(scanReq("tls"));
      expect(res.payment?.outTradeNo).toBe("tls");
    });
  });
});

describe("server lifecycle", () => {
  it("lets an in-flight call finish on close, then closes the issuer", async () => {
    const issuer = new FakeIssuer();
    const server = await startServer({
      issuer,
      port: 0,
      enableTestControl: false,
      closeGraceMs: 10_000,
    });
    const t = testTransport(server.url, "connect-h2");
    const slow = t.client(MerchantService, FAKE_KEYS.merchant).scan(scanReq("slow"));
    await issuer.slowStartedPromise;
    const closing = server.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    expect(issuer.closed).toBe(false);
    issuer.releaseSlow();
    const res = await slow;
    expect(res.payment?.outTradeNo).toBe("slow");
    await closing;
    expect(issuer.closed).toBe(true);
    t.close();
    await expectCode(
      testTransport(server.url, "connect-h1").client(HealthService).ping({}),
      Code.Unavailable,
    );
  });

  it.each(["1.1", "2"] as const)(
    "closes at once when idle keep-alive connections remain (http %s)",
    async (http) => {
      const issuer = new FakeIssuer();
      const server = await startServer({
        issuer,
        port: 0,
        enableTestControl: false,
        http,
        closeGraceMs: 30_000,
      });
      const variants =
        http === "2"
          ? (["connect-h1", "connect-h2", "grpc-h2"] as const)
          : (["connect-h1", "grpc-web-h1"] as const);
      const ts = variants.map((v) => testTransport(server.url, v));
      for (const t of ts) {
        for (let i = 0; i < 20; i++) await t.client(HealthService).ping({});
      }
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(issuer.closed).toBe(true);
      for (const t of ts) t.close();
    },
  );

  it.each(["connect-h1", "connect-h2", "grpc-h2"] as const)(
    "survives a client that gives up mid-call (%s)",
    async (variant) => {
      const issuer = new FakeIssuer();
      const server = await startServer({ issuer, port: 0, enableTestControl: false });
      const t = testTransport(server.url, variant);
      try {
        const call = t
          .client(MerchantService, FAKE_KEYS.merchant)
          .scan(scanReq("slow"), { signal: AbortSignal.timeout(50) });
        await issuer.slowStartedPromise;
        await expect(call).rejects.toBeInstanceOf(ConnectError);
        issuer.releaseSlow();
        await new Promise((r) => setTimeout(r, 20));
        await expect(t.client(HealthService).ping({})).resolves.toBeDefined();
      } finally {
        t.close();
        await server.close();
      }
    },
  );

  it("sweeps expired payments periodically and stops on close", async () => {
    const issuer = new FakeIssuer();
    const server = await startServer({
      issuer,
      port: 0,
      enableTestControl: false,
      sweepIntervalMs: 10,
    });
    await expect.poll(() => issuer.sweeps, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await server.close();
    const after = issuer.sweeps;
    await new Promise((r) => setTimeout(r, 50));
    expect(issuer.sweeps).toBe(after);
  });

  it("reports a port in use", async () => {
    const a = await startServer({ issuer: new FakeIssuer(), port: 0, enableTestControl: false });
    try {
      await expect(
        startServer({ issuer: new FakeIssuer(), port: a.port, enableTestControl: false }),
      ).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await a.close();
    }
  });
});
