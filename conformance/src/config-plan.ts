import type { HttpVersion, Protocol } from "./case.js";
import {
  type ConfigSelection,
  configName,
  isMandatory,
  MANDATORY_CONFIGS,
  OPTIONAL_CONFIGS,
  PRIMARY_CONFIG,
  type RunConfig,
  sameConfig,
} from "./run-config.js";
import { defaultHttpVersion } from "./transport.js";

/** What a caller of `runSuite` says about configs (see `RunOptions`). */
export interface ConfigChoice {
  readonly protocol?: Protocol;
  readonly httpVersion?: HttpVersion;
  readonly configs?: ConfigSelection | readonly RunConfig[];
  readonly fullMatrix?: boolean;
}

/** One config the run means to exercise, before the probe says whether it is served. */
export interface PlannedConfig {
  readonly config: RunConfig;
  readonly mandatory: boolean;
  /** Cases it gets when served. */
  readonly cases: "all" | "subset";
  /** Whether an unserved one still gets a (failing) check; mandatory ones always do. */
  readonly checkUnserved: boolean;
}

export interface Plan {
  readonly configs: PlannedConfig[];
  /** The config the probe tries first. */
  readonly requested: RunConfig;
  /** Whether the probe may fall back to another config the target serves. */
  readonly fallback: boolean;
  readonly unexercisedMandatory: string[];
}

/** Which configs a run exercises ([RPC-3]: the mandatory ones whatever it is asked). */
export function planConfigs(o: ConfigChoice): Plan {
  const mandatory = (config: RunConfig): PlannedConfig => ({
    config,
    mandatory: true,
    cases: "all",
    checkUnserved: true,
  });
  if (o.protocol !== undefined || o.httpVersion !== undefined) {
    const protocol = o.protocol ?? "connect";
    const explicit: RunConfig = {
      protocol,
      httpVersion: o.httpVersion ?? defaultHttpVersion(protocol),
      codec: "proto",
    };
    const configs = MANDATORY_CONFIGS.map(mandatory);
    if (!isMandatory(explicit)) {
      configs.push({ config: explicit, mandatory: false, cases: "all", checkUnserved: true });
    }
    return { configs, requested: explicit, fallback: false, unexercisedMandatory: [] };
  }
  if (Array.isArray(o.configs)) {
    const list: RunConfig[] = [];
    for (const c of o.configs as readonly RunConfig[]) {
      if (!list.some((l) => sameConfig(l, c))) list.push(c);
    }
    return {
      configs: list.map((config) => ({
        config,
        mandatory: isMandatory(config),
        cases: "all",
        checkUnserved: true,
      })),
      requested: list[0] ?? PRIMARY_CONFIG,
      fallback: true,
      unexercisedMandatory: MANDATORY_CONFIGS.filter(
        (m) => !list.some((l) => sameConfig(l, m)),
      ).map(configName),
    };
  }
  const selection = (o.configs as ConfigSelection | undefined) ?? "mandatory";
  const configs = MANDATORY_CONFIGS.map(mandatory);
  if (selection !== "mandatory") {
    for (const config of OPTIONAL_CONFIGS) {
      configs.push({
        config,
        mandatory: false,
        cases: o.fullMatrix ? "all" : "subset",
        checkUnserved: selection === "all",
      });
    }
  }
  return { configs, requested: PRIMARY_CONFIG, fallback: true, unexercisedMandatory: [] };
}
