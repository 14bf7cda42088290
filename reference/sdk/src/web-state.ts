import { validateWalletState, type WalletState, type WalletStateStore } from "./wallet-store.js";

/** The part of the Web Storage API the store uses (`window.localStorage` fits). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface WebStorageWalletStateStoreOptions {
  /** Default `globalThis.localStorage`. */
  storage?: KeyValueStorage;
  /** Storage key; default "paycode.wallet". */
  key?: string;
}

/**
 * Keeps the wallet state as JSON in Web Storage (localStorage by default).
 * setItem is synchronous, so a counter is stored before the code that uses
 * it is returned; tabs of one origin share the state, and each update
 * re-reads it first. localStorage is readable by any script of the page's
 * origin: it holds the wallet's seed and key, so serve the page with a
 * strict Content-Security-Policy or keep the state in memory.
 */
export class WebStorageWalletStateStore implements WalletStateStore {
  private readonly storage: KeyValueStorage;
  readonly key: string;

  constructor(options: WebStorageWalletStateStoreOptions = {}) {
    const storage =
      options.storage ?? (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (!storage) throw new Error("no Web Storage here: pass options.storage");
    this.storage = storage;
    this.key = options.key ?? "paycode.wallet";
  }

  load(): WalletState | undefined {
    const text = this.storage.getItem(this.key);
    if (text === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`wallet state ${this.key} is not valid JSON`);
    }
    try {
      return validateWalletState(parsed);
    } catch (err) {
      throw new Error(`wallet state ${this.key} is invalid: ${(err as Error).message}`);
    }
  }

  update(fn: (current: WalletState | undefined) => WalletState): WalletState {
    const next = validateWalletState(fn(this.load()));
    this.storage.setItem(this.key, JSON.stringify(next));
    return next;
  }

  /** Forgets the wallet (the issuer still knows it until revoked). */
  clear(): void {
    this.storage.removeItem(this.key);
  }
}
