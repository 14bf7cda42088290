import { existsSync } from "node:fs";
import {
  type ApiKeyHolder,
  type Credentials,
  readCredentials,
  writeCredentials,
} from "./credentials.js";
import type { LoadOptions } from "./load-report.js";
import {
  codeProfileOf,
  createBenchMerchant,
  createBenchTerminal,
  fetchTargetInfo,
  fetchTargetInfoAsTerminal,
  ping,
  type TargetInfo,
} from "./provision.js";
import type { UnaryTransport } from "./transport.js";
import type { WorkKind } from "./work.js";

/** The target as probed before any load: what it is, and the credentials file for it. */
export interface ProbedTarget {
  info: TargetInfo;
  /** Whether the target serves ConformanceService (test control). */
  testControl: boolean;
  /** The credentials file as read; undefined when none was given or it does not exist yet. */
  creds: Credentials | undefined;
  credsPath: string | undefined;
}

/**
 * Checks that the target answers Ping, then reads the credentials file (if
 * there is one) and the target's profile and clock.
 */
export async function probeTarget(
  o: Pick<LoadOptions, "target" | "credentials">,
  transport: UnaryTransport,
  warnings: string[],
): Promise<ProbedTarget> {
  await ping(transport).catch((e: unknown) => {
    throw new Error(`${o.target} does not answer HealthService.Ping: ${(e as Error).message}`);
  });
  const credsPath = o.credentials;
  let creds: Credentials | undefined;
  if (credsPath && existsSync(credsPath)) creds = await readCredentials(credsPath);
  const { info, testControl } = await targetInfo(transport, creds, warnings);
  if (credsPath && !creds && !testControl) {
    throw new Error(`${credsPath} does not exist and ${o.target} has no test control`);
  }
  return { info, testControl, creds, credsPath };
}

/** Reads the profile and clock: test control if present, else GetIssuerKeys, else the file. */
async function targetInfo(
  t: UnaryTransport,
  creds: Credentials | undefined,
  warnings: string[],
): Promise<{ info: TargetInfo; testControl: boolean }> {
  try {
    return { info: await fetchTargetInfo(t), testControl: true };
  } catch (e) {
    if (!creds) {
      throw new Error(
        `${(e as Error).message} Or, for a target without test control, pass --credentials ` +
          "<file> made by `paycode-bench provision` (see bench/README.md).",
      );
    }
  }
  if (creds.terminal) {
    // GetIssuerKeys gives the issuer clock; the code key (a wallet secret)
    // only ProvisionSeed gave, so the profile comes from the file.
    const asTerminal = await fetchTargetInfoAsTerminal(t, creds.terminal.apiKey);
    return {
      info: { ...asTerminal, profile: codeProfileOf(creds.profile), currency: creds.currency },
      testControl: false,
    };
  }
  warnings.push(
    "no test control and no terminal key: issuer clock offset unknown (assumed 0), profile from the credentials file",
  );
  return {
    info: {
      implementation: "unknown (no test control)",
      profile: codeProfileOf(creds.profile),
      currency: creds.currency,
      clockOffsetMs: 0,
      offlineValidityS: creds.profile.offlineCodeValiditySeconds,
    },
    testControl: false,
  };
}

/**
 * Merchant and terminal: from the credentials file, else test control (and
 * then written back to the file). Only upload-batch needs the terminal.
 */
export async function benchKeys(
  target: ProbedTarget,
  transport: UnaryTransport,
  work: WorkKind,
): Promise<{ merchant: ApiKeyHolder; terminalKey: string | undefined }> {
  const { creds, credsPath, testControl } = target;
  let merchant = creds?.merchant;
  if (!merchant) {
    if (!testControl) throw new Error("the credentials file has no merchant");
    const m = await createBenchMerchant(transport, "paycode bench");
    merchant = { id: m.merchantId, apiKey: m.apiKey };
    if (creds && credsPath) {
      creds.merchant = merchant;
      await writeCredentials(credsPath, creds);
    }
  }
  let terminalKey: string | undefined;
  if (work === "upload-batch") {
    let terminal = creds?.terminal;
    if (!terminal) {
      if (!testControl)
        throw new Error("upload-batch needs a terminal key in the credentials file");
      const t = await createBenchTerminal(transport, merchant.id);
      terminal = { id: t.terminalId, apiKey: t.apiKey };
      if (creds && credsPath) {
        creds.terminal = terminal;
        await writeCredentials(credsPath, creds);
      }
    }
    terminalKey = terminal.apiKey;
  }
  return { merchant, terminalKey };
}
