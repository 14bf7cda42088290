import { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
import type { Store } from "./store.js";

export type OpenStoreOptions = SqliteStoreOptions & PostgresStoreOptions;

/**
 * Opens a store by URL and applies pending migrations:
 * `postgres://...` / `postgresql://...` → PostgreSQL; `sqlite:FILE` or a bare
 * path → SQLite file (`sqlite::memory:` for a throwaway in-memory database).
 */
export function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(url)) return PostgresStore.open(url, options);
  let file = url;
  if (file.startsWith("sqlite://")) file = file.slice("sqlite://".length);
  else if (file.startsWith("sqlite:")) file = file.slice("sqlite:".length);
  if (file === "") throw new Error(`store URL "${url}" names no file`);
  return SqliteStore.open(file, options);
}
