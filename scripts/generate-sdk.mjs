#!/usr/bin/env node
// Generates client code for one language from proto/paycode/v1, offline,
// with what npm and Debian 12 provide: protoc's built-in generators
// (Debian protobuf-compiler), Debian's gRPC plugins, protoc-gen-go and
// protoc-gen-go-grpc (Debian), and protoc-gen-es (npm) for TypeScript.
//
//   npm run sdk -- <language> [--out DIR]    default DIR: sdk-out/<language>
//   npm run sdk -- list                      languages and their tools
//   npm run sdk -- check <language>          exit 0 if the tools are present
//
// Missing tools are named with the Debian package that provides them.
// docs/sdk.md is the guide.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
// google/protobuf/timestamp.proto and the other well-known types.
const wktDir = "/usr/include";
const wktFile = join(wktDir, "google/protobuf/timestamp.proto");

const protoc = { bin: "protoc", deb: "protobuf-compiler" };
const wkt = { file: wktFile, deb: "libprotobuf-dev" };
const grpcPlugin = (name) => ({ bin: `grpc_${name}_plugin`, deb: "protobuf-compiler-grpc" });

/**
 * Per language: the tools it needs and the protoc output flags. `plugins`
 * maps a protoc plugin name to the executable it runs.
 */
const languages = {
  typescript: {
    about: "protobuf-es messages and service descriptors (use with @connectrpc/connect)",
    needs: [{ bin: "protoc-gen-es", npm: "@bufbuild/protoc-gen-es" }],
    buf: true,
  },
  python: {
    about: "messages (_pb2, .pyi) and gRPC stubs (_pb2_grpc)",
    needs: [protoc, wkt, grpcPlugin("python")],
    flags: (out) => [`--python_out=${out}`, `--pyi_out=${out}`, `--grpc_python_out=${out}`],
    plugins: { "protoc-gen-grpc_python": "grpc_python_plugin" },
  },
  go: {
    about: "messages (protoc-gen-go) and gRPC stubs (protoc-gen-go-grpc), package paycodev1",
    needs: [
      protoc,
      wkt,
      { bin: "protoc-gen-go", deb: "protoc-gen-go" },
      { bin: "protoc-gen-go-grpc", deb: "protoc-gen-go-grpc" },
    ],
    // Files land in <out>/paycode/v1; <out> is the root of the Go module
    // github.com/paycode/paycode/gen/go that go_package names.
    flags: (out) => [
      `--go_out=${out}`,
      "--go_opt=module=github.com/paycode/paycode/gen/go",
      `--go-grpc_out=${out}`,
      "--go-grpc_opt=module=github.com/paycode/paycode/gen/go",
    ],
  },
  java: {
    about: "messages and gRPC stubs (grpc-java), package dev.paycode.v1",
    needs: [protoc, wkt, { bin: "grpc_java_plugin", deb: "protobuf-compiler-grpc-java-plugin" }],
    flags: (out) => [`--java_out=${out}`, `--grpc-java_out=${out}`],
    plugins: { "protoc-gen-grpc-java": "grpc_java_plugin" },
  },
  kotlin: {
    about: "Kotlin DSL builders over the Java messages (no Kotlin gRPC stubs offline)",
    needs: [protoc, wkt],
    flags: (out) => [`--java_out=${out}`, `--kotlin_out=${out}`],
  },
  csharp: {
    about: "messages, namespace Paycode.V1 (no gRPC stubs: Debian has no grpc_csharp_plugin)",
    needs: [protoc, wkt],
    flags: (out) => [`--csharp_out=${out}`],
  },
  cpp: {
    about: "messages and gRPC stubs (grpc++)",
    needs: [protoc, wkt, grpcPlugin("cpp")],
    flags: (out) => [`--cpp_out=${out}`, `--grpc_out=${out}`],
    plugins: { "protoc-gen-grpc": "grpc_cpp_plugin" },
  },
  ruby: {
    about: "messages (_pb.rb) and gRPC stubs (_services_pb.rb), module Paycode::V1",
    needs: [protoc, wkt, grpcPlugin("ruby")],
    flags: (out) => [`--ruby_out=${out}`, `--grpc_out=${out}`],
    plugins: { "protoc-gen-grpc": "grpc_ruby_plugin" },
  },
  php: {
    about: "messages and gRPC stubs, namespace Paycode\\V1",
    needs: [protoc, wkt, grpcPlugin("php")],
    flags: (out) => [`--php_out=${out}`, `--grpc_out=${out}`],
    plugins: { "protoc-gen-grpc": "grpc_php_plugin" },
  },
  objc: {
    about: "messages, class prefix PCX (no gRPC stubs: Debian has no grpc_objective_c_plugin)",
    needs: [protoc, wkt],
    flags: (out) => [`--objc_out=${out}`],
  },
};

function which(bin) {
  const dirs = [join(root, "node_modules/.bin"), ...(process.env.PATH ?? "").split(delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, bin);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/** The tools of a language that are missing, each with how to get it. */
export function missingTools(language) {
  const spec = languages[language];
  if (!spec) throw new Error(`unknown language "${language}"`);
  const missing = [];
  for (const need of spec.needs) {
    if (need.file ? existsSync(need.file) : which(need.bin)) continue;
    const what = need.file ?? need.bin;
    const how = need.deb ? `apt-get install ${need.deb}` : `npm install ${need.npm}`;
    missing.push({ what, package: need.deb ?? need.npm, how });
  }
  return missing;
}

function protoFiles() {
  const dir = join(protoDir, "paycode/v1");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".proto"))
    .sort()
    .map((f) => `paycode/v1/${f}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status ?? r.signal}`);
}

/** Generates `language` into `out` (emptied first). */
export function generate(language, out) {
  const spec = languages[language];
  const missing = missingTools(language);
  if (missing.length > 0) {
    const lines = missing.map((m) => `  ${m.what}: ${m.how}`);
    throw new Error(`cannot generate ${language}, missing:\n${lines.join("\n")}`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  if (spec.buf) {
    const template = {
      version: "v2",
      plugins: [
        {
          local: which("protoc-gen-es"),
          out: ".",
          opt: ["target=ts", "import_extension=js"],
        },
      ],
    };
    run(which("buf") ?? "buf", [
      "generate",
      protoDir,
      "--template",
      JSON.stringify(template),
      "--output",
      out,
    ]);
    return;
  }
  const pluginFlags = Object.entries(spec.plugins ?? {}).map(
    ([name, bin]) => `--plugin=${name}=${which(bin)}`,
  );
  run(which("protoc"), [
    `-I${protoDir}`,
    `-I${wktDir}`,
    ...pluginFlags,
    ...spec.flags(out),
    ...protoFiles(),
  ]);
}

function usage() {
  return [
    "usage: npm run sdk -- <language> [--out DIR]",
    "       npm run sdk -- check <language>",
    "       npm run sdk -- list",
    `languages: ${Object.keys(languages).join(", ")}`,
  ].join("\n");
}

function main(argv) {
  const [first, ...rest] = argv;
  if (!first || first === "-h" || first === "--help") {
    console.log(usage());
    return first ? 0 : 2;
  }
  if (first === "list") {
    for (const [name, spec] of Object.entries(languages)) {
      const missing = missingTools(name);
      const state =
        missing.length === 0 ? "ready" : `missing ${missing.map((m) => m.package).join(", ")}`;
      console.log(`${name.padEnd(11)} ${spec.about}\n${"".padEnd(11)} tools: ${state}`);
    }
    return 0;
  }
  if (first === "check") {
    const language = rest[0];
    if (!languages[language]) {
      console.error(usage());
      return 2;
    }
    const missing = missingTools(language);
    for (const m of missing) console.error(`${language}: ${m.what} is missing: ${m.how}`);
    return missing.length === 0 ? 0 : 1;
  }
  if (!languages[first]) {
    console.error(`unknown language "${first}"\n${usage()}`);
    return 2;
  }
  let out = join(root, "sdk-out", first);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--out" && rest[i + 1]) out = resolve(rest[++i]);
    else {
      console.error(`unexpected argument "${rest[i]}"\n${usage()}`);
      return 2;
    }
  }
  const missing = missingTools(first);
  if (missing.length > 0) {
    console.error(`cannot generate ${first}: tools are missing`);
    for (const m of missing) console.error(`  ${m.what}: install with \`${m.how}\``);
    return 1;
  }
  generate(first, out);
  console.log(`${first}: generated into ${out}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
