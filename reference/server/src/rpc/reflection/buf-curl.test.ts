// gRPC server reflection seen by a real client: `buf curl` lists the
// services and calls one with no schema but what reflection gives it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { ManualClock } from "@paycode/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { Issuer } from "../../issuer/index.js";
import { testTransport } from "../../testing/transports.js";
import { type PaycodeServer, type StartServerOptions, startServer } from "../start-server.js";
import { sqliteStores } from "../testing/harness.js";
import * as v1 from "./gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";

const BUF = fileURLToPath(new URL("../../../../../node_modules/.bin/buf", import.meta.url));

const stores = sqliteStores();
afterAll(() => stores.cleanup());

async function serve(o: Partial<StartServerOptions>): Promise<PaycodeServer> {
  const issuer = await Issuer.open({
    store: await stores.url(),
    clock: new ManualClock(1_772_438_400_000),
    masterKey: new Uint8Array(randomBytes(32)),
    passwordCostN: 1024,
  });
  return startServer({ issuer, port: 0, enableTestControl: false, ...o });
}

function bufCurl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BUF, ["curl", ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
    });
  });
}

const GRPC_H2C = ["--protocol", "grpc", "--http2-prior-knowledge"];

/** A v1 or v1alpha list_services round trip, or the ConnectError it fails with. */
async function listServices(url: string, version: "v1" | "v1alpha"): Promise<string[]> {
  const t = testTransport(url, "grpc-h2");
  try {
    const service = version === "v1" ? v1.ServerReflection : v1alpha.ServerReflection;
    const client = createClient(service as typeof v1.ServerReflection, t.transport);
    async function* one() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    for await (const res of client.serverReflectionInfo(one())) {
      if (res.messageResponse.case === "listServicesResponse") {
        return res.messageResponse.value.service.map((s) => s.name);
      }
    }
    throw new Error("no answer");
  } finally {
    t.close();
  }
}

describe("gRPC server reflection over h2c", () => {
  it("buf curl lists the services and calls one by reflection alone", async () => {
    const server = await serve({ reflection: true });
    try {
      const list = await bufCurl(["--list-services", ...GRPC_H2C, server.url]);
      expect(list.stderr).toBe("");
      expect(list.code).toBe(0);
      expect(list.stdout.trim().split("\n")).toEqual([
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "paycode.v1.HealthService",
        "paycode.v1.MerchantService",
        "paycode.v1.SettlementService",
        "paycode.v1.WalletService",
      ]);

      const ping = await bufCurl([...GRPC_H2C, `${server.url}/paycode.v1.HealthService/Ping`]);
      expect(ping.stderr).toBe("");
      expect(ping.code).toBe(0);
      expect(JSON.parse(ping.stdout)).toEqual({});

      // The v1alpha name, as older clients use it; the error is the server's.
      const scan = await bufCurl([
        ...GRPC_H2C,
        "--reflect-protocol",
        "grpc-v1alpha",
        "--data",
        '{"outTradeNo": "o1", "amount": {"currency": "CNY", "amountMinor": "100"}, "code": "1"}',
        `${server.url}/paycode.v1.MerchantService/Scan`,
      ]);
      expect(scan.code).not.toBe(0);
      expect(scan.stderr).toMatch(/unauthenticated/i);
    } finally {
      await server.close();
    }
  });

  it("is absent by default without test control", async () => {
    const server = await serve({});
    try {
      const list = await bufCurl(["--list-services", ...GRPC_H2C, server.url]);
      expect(list.code).not.toBe(0);
      expect(list.stderr).toMatch(/unimplemented|not implemented/i);
      for (const version of ["v1", "v1alpha"] as const) {
        const err = await listServices(server.url, version).catch((e: unknown) => e);
        expect(err, version).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code, version).toBe(Code.Unimplemented);
      }
    } finally {
      await server.close();
    }
  });

  it("is on by default with test control, and then lists ConformanceService", async () => {
    const server = await serve({ enableTestControl: true });
    try {
      expect(await listServices(server.url, "v1")).toContain("paycode.v1.ConformanceService");
      expect(await listServices(server.url, "v1alpha")).toContain("paycode.v1.ConformanceService");
    } finally {
      await server.close();
    }
  });

  it("can be switched off with test control on", async () => {
    const server = await serve({ enableTestControl: true, reflection: false });
    try {
      const err = await listServices(server.url, "v1").catch((e: unknown) => e);
      expect((err as ConnectError).code).toBe(Code.Unimplemented);
    } finally {
      await server.close();
    }
  });
});
