// TypeDoc plugin (loaded by typedoc.json): shows the per-RPC comments of the
// generated service descriptors.
//
// protoc-gen-es puts each rpc's .proto comment on a member of the type
// literal in `GenService<{ scan: {...}; ... }>`, the type of the exported
// service constant. TypeDoc keeps those comments but renders a type argument
// inline, without them, so MerchantService.Scan's documentation (for example
// that it is idempotent on (merchant, out_trade_no)) would be lost. This
// appends an "RPCs" section to each service constant's comment: per method
// its gRPC path, kind, request and response messages (linked) and comment.
import { Comment, Converter, ReferenceType, ReflectionKind, ReflectionType } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const service of context.project.getReflectionsByKind(ReflectionKind.Variable)) {
      const methods = serviceMethods(service);
      if (methods === undefined || methods.length === 0) continue;
      service.comment ??= new Comment();
      service.comment.summary.push({ kind: "text", text: "\n\n## RPCs\n" });
      for (const method of methods) service.comment.summary.push(...describe(service, method));
    }
  });
}

/**
 * The members of `T` when `service` is declared as `GenService<T>`.
 * @param {import("typedoc").DeclarationReflection} service
 */
function serviceMethods(service) {
  const type = service.type;
  if (!(type instanceof ReferenceType) || type.name !== "GenService") return undefined;
  const arg = type.typeArguments?.[0];
  return arg instanceof ReflectionType ? (arg.declaration.children ?? []) : undefined;
}

/**
 * @param {import("typedoc").DeclarationReflection} service
 * @param {import("typedoc").DeclarationReflection} method
 * @returns {import("typedoc").CommentDisplayPart[]}
 */
function describe(service, method) {
  const fields = new Map(
    (method.type instanceof ReflectionType ? (method.type.declaration.children ?? []) : []).map(
      (c) => [c.name, c.type],
    ),
  );
  // "@generated from rpc paycode.v1.MerchantService.Scan"
  const generated = method.comment
    ?.getTag("@generated")
    ?.content.map((p) => p.text)
    .join("");
  const fullName = /^from rpc (\S+)$/.exec(generated?.trim() ?? "")?.[1];
  const rpcName = fullName?.slice(fullName.lastIndexOf(".") + 1) ?? method.name;
  const kind = fields.get("methodKind")?.toString().replaceAll('"', "") ?? "unary";
  /** @type {import("typedoc").CommentDisplayPart[]} */
  const parts = [
    { kind: "text", text: `\n### ${rpcName}\n\n` },
    { kind: "code", text: `\`${kind}\`` },
    { kind: "text", text: " " },
    ...messageLink(service, fields.get("input")),
    { kind: "text", text: " → " },
    ...messageLink(service, fields.get("output")),
  ];
  if (fullName !== undefined) {
    const path = `/${fullName.slice(0, fullName.lastIndexOf("."))}/${rpcName}`;
    parts.push({ kind: "text", text: ", at " }, { kind: "code", text: `\`${path}\`` });
  }
  parts.push({ kind: "text", text: "\n\n" });
  parts.push(...(method.comment?.summary ?? []), { kind: "text", text: "\n" });
  return parts;
}

/**
 * A link to the message type of `typeof FooSchema`, or its name as code.
 * @param {import("typedoc").DeclarationReflection} service
 * @param {import("typedoc").SomeType | undefined} type
 * @returns {import("typedoc").CommentDisplayPart[]}
 */
function messageLink(service, type) {
  const schema = type?.type === "query" ? type.queryType.name : undefined;
  if (schema === undefined) return [{ kind: "code", text: `\`${type?.toString() ?? "?"}\`` }];
  const name = schema.replace(/Schema$/, "");
  const target = service.parent?.getChildByName(name);
  return target === undefined
    ? [{ kind: "code", text: `\`${name}\`` }]
    : [{ kind: "inline-tag", tag: "@link", text: name, target }];
}
