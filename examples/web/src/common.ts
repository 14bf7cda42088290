import { describeError } from "@paycode/sdk/web";

/** The element with this id; throws when the page lacks it. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

/**
 * The Paycode server: `?server=` in the page URL, else the last one used,
 * else http://127.0.0.1:8080 (`paycode serve`'s default).
 */
export function initialServer(): string {
  return (
    new URLSearchParams(location.search).get("server") ??
    localStorage.getItem("paycode.server") ??
    "http://127.0.0.1:8080"
  );
}

export function rememberServer(url: string): void {
  localStorage.setItem("paycode.server", url);
}

export function showError(err: unknown): void {
  $("error").textContent = err === undefined ? "" : describeError(err);
  if (err !== undefined) console.error(err);
}
