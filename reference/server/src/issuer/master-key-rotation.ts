/**
 * Master-key rotation (issue 9 part 3): every sealed secret — each wallet's
 * seed and each issuer signing key's private key — re-encrypted from the
 * old master key to the new one in ONE store transaction, so a failure
 * midway (a crash, a wrong key, a secret that does not open) changes
 * nothing ([KEY-8]).
 *
 * Nothing may be sealed under the old key once the rotation commits: the
 * "master_key_check" setting (a constant sealed under the master key in
 * force) is rewritten by the rotation, and every sealing transaction
 * (`sealGuard`: provisioning, signing-key creation) first takes the
 * "paycode:master-key" lock and seals with whichever of its keys opens it.
 *
 * Live rotation, no payment refused: (1) restart the servers with the new
 * key as an extra key (`serve --extra-master-key-file NEW`): they open
 * secrets under either key and still seal under the old one; (2) run
 * `paycode master-key rotate`; the servers now seal under the new key and
 * open every secret with it; (3) restart them with the new key alone. A
 * server that has only the old key keeps paying from the seeds it has
 * cached, but cannot open the others and refuses to provision
 * (`unavailable`) until restarted with the new key.
 */
import type { Store, Tx } from "../store/store.js";
import { type AuditLog, discardAudit } from "./audit-log.js";
import { SeedVault } from "./seed-vault.js";
import { unavailable } from "./validation.js";

const CHECK_SETTING = "master_key_check";
const CHECK_CONTEXT = "master-key-check";
const CHECK_PLAINTEXT = new TextEncoder().encode("paycode master key check v1");
export const MASTER_KEY_LOCK = "paycode:master-key";

const walletContext = (id: string) => `wallet-seed:${id}`;
const issuerKeyContext = (keyId: string) => `issuer-key:${keyId}`;

function opensCheck(vault: SeedVault, check: Uint8Array): boolean {
  try {
    vault.open(check, CHECK_CONTEXT);
    return true;
  } catch {
    return false;
  }
}

/**
 * Records which master key the database is sealed under, when nothing says
 * so yet (a database created before this check). Returns false when the
 * check exists and `vault`'s key does not open it.
 */
export async function ensureMasterKeyCheck(store: Store, vault: SeedVault): Promise<boolean> {
  const check = await store.transaction((tx) =>
    tx.putSettingIfAbsent(CHECK_SETTING, vault.seal(CHECK_PLAINTEXT, CHECK_CONTEXT)),
  );
  return opensCheck(vault, check);
}

/**
 * Call first in a transaction that seals a secret, and seal with the vault
 * it returns: serialises the transaction with master-key rotation and picks,
 * among `vault`'s keys, the one the database is sealed under now. Refuses
 * (`unavailable`) when it has none of them.
 */
export async function sealGuard(tx: Tx, vault: SeedVault): Promise<SeedVault> {
  await tx.lock(MASTER_KEY_LOCK);
  const check = await tx.getSetting(CHECK_SETTING);
  const candidates = vault.keyVaults();
  if (check === undefined) return candidates[0]!;
  const sealer = candidates.find((v) => opensCheck(v, check));
  if (!sealer) {
    throw unavailable("the master key was rotated: restart this server with the new master key");
  }
  return sealer;
}

export interface MasterKeyRotation {
  wallets: number;
  issuerKeys: number;
}

export interface RotateMasterKeyOptions {
  audit?: AuditLog;
  /** Test hook: called after each secret is re-sealed (inside the transaction); a throw rolls everything back. */
  afterEach?: (done: number) => void;
}

/**
 * [KEY-8] Re-seals every secret from `oldKey` to `newKey` in one
 * transaction. Throws, changing nothing, when `oldKey` is not the key the
 * database is sealed under or any secret fails to open.
 */
export async function rotateMasterKey(
  store: Store,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  now: number,
  o: RotateMasterKeyOptions = {},
): Promise<MasterKeyRotation> {
  const from = new SeedVault(oldKey);
  const to = new SeedVault(newKey);
  if (Buffer.compare(Buffer.from(oldKey), Buffer.from(newKey)) === 0) {
    throw new RangeError("the new master key is the old one");
  }
  const result = await store.transaction(async (tx) => {
    await tx.lock(MASTER_KEY_LOCK);
    await tx.lock("paycode:issuer-signing-key");
    const check = await tx.getSetting(CHECK_SETTING);
    if (check !== undefined && !opensCheck(from, check)) {
      throw new Error("the old master key given is not the one this database is sealed under");
    }
    let done = 0;
    const wallets = await tx.listWalletSeedEnvelopes();
    for (const w of wallets) {
      const seed = from.open(w.seedEnvelope, walletContext(w.id));
      await tx.setWalletSeedEnvelope(w.id, to.seal(seed, walletContext(w.id)));
      seed.fill(0);
      o.afterEach?.(++done);
    }
    const keys = await tx.listIssuerKeys();
    for (const k of keys) {
      const pkcs8 = from.open(k.privateKeyEnvelope, issuerKeyContext(k.keyId));
      await tx.setIssuerKeyEnvelope(k.keyId, to.seal(pkcs8, issuerKeyContext(k.keyId)));
      pkcs8.fill(0);
      o.afterEach?.(++done);
    }
    await tx.putSetting(CHECK_SETTING, to.seal(CHECK_PLAINTEXT, CHECK_CONTEXT));
    return { wallets: wallets.length, issuerKeys: keys.length };
  });
  await (o.audit ?? discardAudit).record({
    type: "key.master.rotated",
    at: now,
    detail: { wallets: result.wallets, issuerKeys: result.issuerKeys },
  });
  return result;
}
