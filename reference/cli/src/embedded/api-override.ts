import type { Payment } from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";

/** Replacement methods for an `IssuerApi`; test control methods one by one. */
export type ApiOverrides = { [K in Exclude<keyof IssuerApi, "control">]?: IssuerApi[K] } & {
  control?: Partial<IssuerApi["control"]>;
};

/** `base` with some methods replaced; the rest delegate to it. */
export function override(base: IssuerApi, o: ApiOverrides): IssuerApi {
  const control = new Proxy(base.control, {
    get(t, p, r) {
      const own = (o.control as Record<string | symbol, unknown> | undefined)?.[p];
      if (own !== undefined) return own;
      const v = Reflect.get(t, p, r);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  return new Proxy(base, {
    get(t, p, r) {
      if (p === "control") return control;
      const own = (o as Record<string | symbol, unknown>)[p];
      if (own !== undefined) return own;
      const v = Reflect.get(t, p, r);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

/** Applies `f` to a response's payment when it has one. */
export function mapPayment(p: Payment | undefined, f: (p: Payment) => void): void {
  if (p) f(p);
}
