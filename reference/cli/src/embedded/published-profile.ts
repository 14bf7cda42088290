import type { IssuerProfile } from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";
import { override } from "./api-override.js";

/**
 * `issuer` publishing a profile changed by `patch` wherever a profile goes
 * out (ProvisionSeed, GetIssuerKeys, GetCapabilities), so the three agree
 * ([RPC-1] holds) while the issuer enforces the profile it was opened with.
 */
export function publishProfile(issuer: IssuerApi, patch: (p: IssuerProfile) => void): IssuerApi {
  const publish = (p: IssuerProfile | undefined) => {
    if (p) patch(p);
  };
  return override(issuer, {
    provisionSeed: async (req) => {
      const r = await issuer.provisionSeed(req);
      publish(r.profile);
      return r;
    },
    getIssuerKeys: async (c) => {
      const r = await issuer.getIssuerKeys(c);
      publish(r.profile);
      return r;
    },
    control: {
      getCapabilities: async () => {
        const r = await issuer.control.getCapabilities();
        publish(r.profile);
        return r;
      },
    },
  });
}
