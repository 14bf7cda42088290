import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  ConformanceService,
  HealthService,
  MerchantService,
  SettlementService,
  WalletService,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import * as v1 from "./gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
import {
  REFLECTION_SERVICES,
  type ReflectionAnswer,
  ReflectionIndex,
  type ReflectionRequest,
  reflectionRoutes,
} from "./reflection.js";

const SERVED = [HealthService, WalletService, MerchantService, SettlementService];
const index = new ReflectionIndex([...SERVED, ...REFLECTION_SERVICES]);

function ask(q: ReflectionRequest["messageRequest"], sent = new Set<string>()): ReflectionAnswer {
  return index.answer({ host: "", messageRequest: q }, sent);
}

/** The files of a file_descriptor_response, in order. */
function filesOf(a: ReflectionAnswer): FileDescriptorProto[] {
  if (a.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${a.case}`);
  return a.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

function fileNames(a: ReflectionAnswer): string[] {
  return filesOf(a).map((f) => f.name);
}

function errorOf(a: ReflectionAnswer): { errorCode: number; errorMessage: string } {
  if (a.case !== "errorResponse") throw new Error(`expected an error, got ${a.case}`);
  return a.value;
}

describe("ReflectionIndex", () => {
  it("lists the served services and the reflection services, sorted", () => {
    const a = ask({ case: "listServices", value: "*" });
    expect(a).toEqual({
      case: "listServicesResponse",
      value: {
        service: [
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
          "paycode.v1.HealthService",
          "paycode.v1.MerchantService",
          "paycode.v1.SettlementService",
          "paycode.v1.WalletService",
        ].map((name) => ({ name })),
      },
    });
  });

  it("answers file_by_filename with the file first, then its transitive dependencies", () => {
    const files = filesOf(
      ask({ case: "fileByFilename", value: "paycode/v1/merchant_service.proto" }),
    );
    const names = files.map((f) => f.name);
    expect(names[0]).toBe("paycode/v1/merchant_service.proto");
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("paycode/v1/money.proto");
    expect(names).toContain("paycode/v1/payment.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
    // Every file's imports are in the answer: a client can build the schema from it alone.
    for (const f of files) for (const dep of f.dependency) expect(names).toContain(dep);
  });

  it("sends a dependency only once per stream, but always the file asked for", () => {
    const sent = new Set<string>();
    const first = fileNames(
      ask({ case: "fileByFilename", value: "paycode/v1/payment.proto" }, sent),
    );
    expect(first).toContain("paycode/v1/money.proto");
    const again = fileNames(ask({ case: "fileByFilename", value: "paycode/v1/money.proto" }, sent));
    expect(again).toEqual(["paycode/v1/money.proto"]);
    const merchant = fileNames(
      ask({ case: "fileContainingSymbol", value: "paycode.v1.MerchantService" }, sent),
    );
    expect(merchant).toEqual(["paycode/v1/merchant_service.proto"]);
  });

  it("serves the FileDescriptorProto the generated code embeds", () => {
    const [proto] = filesOf(
      ask({ case: "fileByFilename", value: "paycode/v1/merchant_service.proto" }),
    );
    if (proto === undefined) throw new Error("no file");
    expect(proto.package).toBe("paycode.v1");
    expect(proto.service.map((s) => s.name)).toEqual(["MerchantService"]);
    expect(proto.service[0]!.method.map((m) => m.name)).toContain("Scan");
    expect(proto.dependency).toEqual(MerchantService.file.proto.dependency);
  });

  it.each([
    ["paycode.v1.MerchantService", "paycode/v1/merchant_service.proto"],
    ["paycode.v1.MerchantService.Scan", "paycode/v1/merchant_service.proto"],
    [".paycode.v1.ScanRequest", "paycode/v1/merchant_service.proto"],
    ["paycode.v1.ScanRequest.out_trade_no", "paycode/v1/merchant_service.proto"],
    ["paycode.v1.Money", "paycode/v1/money.proto"],
    ["paycode.v1.CancelAction", "paycode/v1/merchant_service.proto"],
    ["paycode.v1.CANCEL_ACTION_CLOSED", "paycode/v1/merchant_service.proto"],
    ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
    ["grpc.reflection.v1.ServerReflection", "grpc/reflection/v1/reflection.proto"],
    [
      "grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo",
      "grpc/reflection/v1alpha/reflection.proto",
    ],
  ])("file_containing_symbol %s is in %s", (symbol, file) => {
    expect(fileNames(ask({ case: "fileContainingSymbol", value: symbol }))[0]).toBe(file);
  });

  it("does not know services it does not serve", () => {
    expect(index.services).not.toContain("paycode.v1.ConformanceService");
    expect(index.fileNames).not.toContain("paycode/v1/conformance_service.proto");
    const err = errorOf(
      ask({ case: "fileContainingSymbol", value: "paycode.v1.ConformanceService" }),
    );
    expect(err.errorCode).toBe(Code.NotFound);
    const withControl = new ReflectionIndex([...SERVED, ConformanceService]);
    expect(withControl.services).toContain("paycode.v1.ConformanceService");
  });

  it("answers unknown names with NOT_FOUND", () => {
    for (const q of [
      { case: "fileByFilename", value: "nope.proto" },
      { case: "fileContainingSymbol", value: "paycode.v1.Nope" },
      { case: "fileContainingSymbol", value: "paycode.v1.MerchantService.Nope" },
      {
        case: "fileContainingExtension",
        value: { containingType: "paycode.v1.ScanRequest", extensionNumber: 100 },
      },
      { case: "allExtensionNumbersOfType", value: "paycode.v1.Nope" },
    ] as const) {
      const err = errorOf(ask(q));
      expect(err.errorCode, q.case).toBe(Code.NotFound);
      expect(err.errorMessage, q.case).toMatch(/not found/);
    }
  });

  it("lists no extension numbers of a message that has none", () => {
    expect(ask({ case: "allExtensionNumbersOfType", value: "paycode.v1.ScanRequest" })).toEqual({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "paycode.v1.ScanRequest", extensionNumber: [] },
    });
  });

  it("rejects an empty request with INVALID_ARGUMENT", () => {
    expect(errorOf(ask({ case: undefined })).errorCode).toBe(Code.InvalidArgument);
  });
});

describe("reflectionRoutes", () => {
  const transport = createRouterTransport(reflectionRoutes(SERVED));

  it("answers a stream of v1 requests in order, echoing each", async () => {
    const client = createClient(v1.ServerReflection, transport);
    async function* requests() {
      yield { host: "h", messageRequest: { case: "listServices" as const, value: "" } };
      yield {
        messageRequest: {
          case: "fileContainingSymbol" as const,
          value: "paycode.v1.HealthService.Ping",
        },
      };
      yield { messageRequest: { case: "fileByFilename" as const, value: "missing.proto" } };
    }
    const out = [];
    for await (const res of client.serverReflectionInfo(requests())) out.push(res);
    expect(out.map((r) => r.messageResponse.case)).toEqual([
      "listServicesResponse",
      "fileDescriptorResponse",
      "errorResponse",
    ]);
    expect(out[0]!.validHost).toBe("h");
    expect(out[1]!.originalRequest?.messageRequest).toEqual({
      case: "fileContainingSymbol",
      value: "paycode.v1.HealthService.Ping",
    });
  });

  it("answers v1alpha the same way", async () => {
    const client = createClient(v1alpha.ServerReflection, transport);
    async function* requests() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    const out = [];
    for await (const res of client.serverReflectionInfo(requests())) out.push(res);
    expect(out).toHaveLength(1);
    const services = out[0]!.messageResponse;
    expect(services.case).toBe("listServicesResponse");
    if (services.case === "listServicesResponse") {
      expect(services.value.service.map((s) => s.name)).toContain("paycode.v1.WalletService");
    }
  });
});
