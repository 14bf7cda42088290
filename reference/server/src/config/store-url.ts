import { UsageError } from "@paycode/sdk/cli";

export type StoreLocation =
  | { kind: "sqlite"; url: string; file: string }
  | { kind: "postgres"; url: string };

/** Checks a `--store` value: `sqlite:FILE`, `sqlite::memory:`, or `postgres://…`. */
export function parseStoreUrl(url: string): StoreLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new UsageError(`invalid PostgreSQL URL ${redactStoreUrl(url)}`);
    }
    return { kind: "postgres", url };
  }
  const m = /^sqlite:(?:\/\/)?(.*)$/i.exec(url);
  if (m !== null) {
    const file = m[1]!;
    if (file === "") throw new UsageError(`store URL "${url}" names no file: use sqlite:FILE`);
    return { kind: "sqlite", url, file };
  }
  throw new UsageError(
    `unsupported store URL "${redactStoreUrl(url)}": use sqlite:FILE or postgres://USER@HOST/DB`,
  );
}

/** The URL without its password, for messages. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, "$1***@");
}
