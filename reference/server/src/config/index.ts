export {
  MASTER_KEY_BYTES,
  MASTER_KEY_ENV,
  type MasterKeyInput,
  type ResolvedMasterKey,
  readMasterKeyFile,
  resolveMasterKey,
  writeNewMasterKeyFile,
} from "./master-key.js";
export { parseStoreUrl, redactStoreUrl, type StoreLocation } from "./store-url.js";
