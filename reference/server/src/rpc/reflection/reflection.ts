import {
  create,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "./gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";

/**
 * The two names of the gRPC server reflection service:
 * `grpc.reflection.v1.ServerReflection` and its predecessor
 * `grpc.reflection.v1alpha.ServerReflection`, which older clients still ask
 * for. Both have the one bidi-streaming method `ServerReflectionInfo`.
 */
export const REFLECTION_SERVICES: readonly DescService[] = [
  v1.ServerReflection,
  v1alpha.ServerReflection,
];

/** A reflection request of either version (they differ only in package). */
export type ReflectionRequest = Pick<v1.ServerReflectionRequest, "host"> & {
  messageRequest:
    | { case: "fileByFilename"; value: string }
    | { case: "fileContainingSymbol"; value: string }
    | {
        case: "fileContainingExtension";
        value: { containingType: string; extensionNumber: number };
      }
    | { case: "allExtensionNumbersOfType"; value: string }
    | { case: "listServices"; value: string }
    | { case: undefined; value?: undefined };
};

/** The answer part of a reflection response, the same in both versions. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * What a server's reflection service knows: the services it lists and every
 * file those services' descriptors need, each with its symbols. Built once
 * per server from the protobuf-es descriptors of the served services.
 */
export class ReflectionIndex {
  readonly #services: string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  /** extendee type name → field number → extension */
  readonly #extensions = new Map<string, Map<number, DescExtension>>();
  readonly #encoded = new Map<string, Uint8Array>();

  /** @param services the services to list; their files and all dependencies become visible. */
  constructor(services: readonly DescService[]) {
    this.#services = [...new Set(services.map((s) => s.typeName))].sort();
    for (const s of services) this.#addFile(s.file);
  }

  /** Fully-qualified names of the listed services, sorted. */
  get services(): readonly string[] {
    return this.#services;
  }

  /** Names of all known files, e.g. "paycode/v1/money.proto". */
  get fileNames(): readonly string[] {
    return [...this.#files.keys()];
  }

  /**
   * Answers one request. `sent` holds the files already sent on this stream:
   * a file response carries the file asked for first, then those of its
   * transitive dependencies not yet sent (as grpc-go does; clients take the
   * first file as the answer). It is updated.
   */
  answer(req: ReflectionRequest, sent: Set<string>): ReflectionAnswer {
    const q = req.messageRequest;
    switch (q.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: { service: this.#services.map((name) => ({ name })) },
        };
      case "fileByFilename": {
        const file = this.#files.get(q.value);
        return file === undefined
          ? notFound(`file "${q.value}" not found`)
          : this.#fileResponse(file, sent);
      }
      case "fileContainingSymbol": {
        const file = this.#symbols.get(stripDot(q.value));
        return file === undefined
          ? notFound(`symbol "${q.value}" not found`)
          : this.#fileResponse(file, sent);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = q.value;
        const ext = this.#extensions.get(stripDot(containingType))?.get(extensionNumber);
        return ext === undefined
          ? notFound(`extension ${extensionNumber} of "${containingType}" not found`)
          : this.#fileResponse(ext.file, sent);
      }
      case "allExtensionNumbersOfType": {
        const name = stripDot(q.value);
        if (!this.#isMessage(name)) return notFound(`message type "${q.value}" not found`);
        const numbers = [...(this.#extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: name, extensionNumber: numbers },
        };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" },
        };
    }
  }

  #fileResponse(file: DescFile, sent: Set<string>): ReflectionAnswer {
    const out: Uint8Array[] = [this.#encode(file)];
    sent.add(file.proto.name);
    const queue = [...file.dependencies];
    for (let dep = queue.shift(); dep !== undefined; dep = queue.shift()) {
      if (sent.has(dep.proto.name)) continue;
      sent.add(dep.proto.name);
      out.push(this.#encode(dep));
      queue.push(...dep.dependencies);
    }
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  }

  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file.proto.name);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.#encoded.set(file.proto.name, bytes);
    }
    return bytes;
  }

  #isMessage(typeName: string): boolean {
    const file = this.#symbols.get(typeName);
    if (file === undefined) return false;
    const find = (messages: readonly DescMessage[]): boolean =>
      messages.some((m) => m.typeName === typeName || find(m.nestedMessages));
    return find(file.messages);
  }

  #addFile(file: DescFile): void {
    // DescFile.name lacks the ".proto" suffix that clients ask for.
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.#addFile(dep);
    const pkg = file.proto.package;
    for (const e of file.enums) this.#addEnum(file, e, pkg);
    for (const m of file.messages) this.#addMessage(file, m);
    for (const x of file.extensions) this.#addExtension(file, x);
    for (const s of file.services) {
      this.#symbols.set(s.typeName, file);
      for (const m of s.methods) this.#symbols.set(`${s.typeName}.${m.name}`, file);
    }
  }

  #addMessage(file: DescFile, m: DescMessage): void {
    this.#symbols.set(m.typeName, file);
    for (const f of m.fields) this.#symbols.set(`${m.typeName}.${f.name}`, file);
    for (const o of m.oneofs) this.#symbols.set(`${m.typeName}.${o.name}`, file);
    for (const e of m.nestedEnums) this.#addEnum(file, e, m.typeName);
    for (const n of m.nestedMessages) this.#addMessage(file, n);
    for (const x of m.nestedExtensions) this.#addExtension(file, x);
  }

  // Enum values are scoped as siblings of their enum, as in C++.
  #addEnum(file: DescFile, e: DescEnum, scope: string): void {
    this.#symbols.set(e.typeName, file);
    for (const v of e.values) this.#symbols.set(scope === "" ? v.name : `${scope}.${v.name}`, file);
  }

  #addExtension(file: DescFile, x: DescExtension): void {
    this.#symbols.set(x.typeName, file);
    let byNumber = this.#extensions.get(x.extendee.typeName);
    if (byNumber === undefined) {
      byNumber = new Map();
      this.#extensions.set(x.extendee.typeName, byNumber);
    }
    byNumber.set(x.number, x);
  }
}

function notFound(errorMessage: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage } };
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

/**
 * Routes for gRPC server reflection (v1 and v1alpha), so that grpcurl,
 * `buf curl`, Postman and grpc_cli can list and call the server's services
 * without .proto files. `services` are the other services the router
 * serves; the reflection services are listed too.
 */
export function reflectionRoutes(
  services: readonly DescService[],
): (router: ConnectRouter) => void {
  const index = new ReflectionIndex([...services, ...REFLECTION_SERVICES]);
  return (router) => {
    router.service(v1.ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const req of requests) {
          yield create(v1.ServerReflectionResponseSchema, {
            validHost: req.host,
            originalRequest: req,
            messageResponse: index.answer(req, sent),
          });
        }
      },
    });
    router.service(v1alpha.ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const req of requests) {
          yield create(v1alpha.ServerReflectionResponseSchema, {
            validHost: req.host,
            originalRequest: req,
            messageResponse: index.answer(req, sent),
          });
        }
      },
    });
  };
}
