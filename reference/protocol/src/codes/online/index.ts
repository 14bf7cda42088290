export type { AesBackend } from "./aes-block.js";
export { Ff1, type Ff1Halves, type Ff1Options } from "./ff1.js";
export {
  ONLINE_CODE_LENGTH,
  OnlineCodec,
  type OnlineCodecOptions,
  type OnlineVerification,
} from "./online-code.js";
export {
  ONLINE_MAC_BITS,
  OnlineMac,
  onlineMac,
  onlineMacMessage,
  SEED_BYTES,
} from "./online-mac.js";
export {
  CODES_PER_STEP,
  composePayload,
  MAX_COUNTER,
  MAX_HANDLE,
  type ParsedOnlineCode,
  splitPayload,
} from "./online-payload.js";
export {
  DEFAULT_ONLINE_PROFILE,
  type OnlineCodeProfile,
  STEP_SECONDS,
  stepOf,
  validateOnlineProfile,
} from "./online-profile.js";
