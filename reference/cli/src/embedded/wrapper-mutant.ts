import type { ProfileOverrides } from "@paycode/protocol";
import type { IssuerApi, MutantDescription } from "@paycode/server";
import type { MutantProxy } from "./mutant-proxy.js";

/**
 * A mutant that wraps the issuer's API: it breaks its rule in what the
 * issuer answers (or in what it is asked), not inside the issuer core.
 * Catalogue files (mutants-*.ts) each export a record of these.
 */
export interface WrapperMutant extends MutantDescription {
  wrap(issuer: IssuerApi): IssuerApi;
  /** Profile the issuer enforces (published values may differ; see `wrap`). */
  readonly profile?: ProfileOverrides;
  /** A proxy in front of the server, for mutants of the transport; the target is reached through it. */
  readonly proxy?: (upstream: string) => Promise<MutantProxy>;
}
