import { fromBinary } from "@bufbuild/protobuf";
import { buildOfflineCode, issueCertificate } from "@paycode/protocol";
import { DeclineReason, PaymentStatus, WalletCertificateBodySchema } from "@paycode/protocol/v1";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateIssuerKeys } from "./issuer-keys.js";
import type { MutantName } from "./mutants.js";
import { SeedVault } from "./seed-vault.js";
import { IssuerFixture, MASTER_KEY, type TestWallet } from "./testing.js";

/**
 * [VERIFY-8] A certificate names an issuer key whose validity does not
 * contain its not_before, yet carries a good signature by that key. Only
 * the issuer holds the key, so no certification run can present one: this
 * test is the proof, and the ignore-issuer-key-validity mutant must fail it.
 */
const open: IssuerFixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

/** An offline code of `w` under a certificate re-signed with not_before an hour before the key's validity. */
async function codeOutsideKeyValidity(f: IssuerFixture, w: TestWallet): Promise<string> {
  const { signing } = await loadOrCreateIssuerKeys(
    f.store,
    new SeedVault(MASTER_KEY),
    f.clock.now(),
  );
  const body = fromBinary(WalletCertificateBodySchema, w.provision.certificate!.body);
  const certificate = issueCertificate(
    { ...body, notBefore: BigInt(signing.notBefore - 3_600) },
    signing.keyId,
    signing.privateKey,
  );
  return buildOfflineCode({
    certificate,
    walletId: w.provision.walletId,
    counter: w.counter++,
    issuedAt: Math.floor(f.clock.now() / 1000),
    walletPrivateKey: w.keys.privateKey,
  });
}

async function scanOutsideKeyValidity(mutant?: MutantName) {
  const f = await IssuerFixture.open(mutant ? { mutant } : {});
  open.push(f);
  const m = await f.merchant();
  const w = await f.payer(10_000);
  // The same wallet's genuine code pays: only the key validity differs.
  expect((await f.scan(m, f.offlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
  return f.scan(m, await codeOutsideKeyValidity(f, w), 100);
}

describe("issuer key validity of offline certificates [VERIFY-8]", () => {
  it("declines CODE_INVALID a certificate signed outside its key's validity", async () => {
    const p = await scanOutsideKeyValidity();
    expect(p.status).toBe(PaymentStatus.DECLINED);
    expect(p.declineReason).toBe(DeclineReason.CODE_INVALID);
  });

  it("fails with the ignore-issuer-key-validity mutant (the check above catches it)", async () => {
    const p = await scanOutsideKeyValidity("ignore-issuer-key-validity");
    expect(p.status).toBe(PaymentStatus.SUCCEEDED);
  });
});
