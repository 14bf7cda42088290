/**
 * What every Paycode implementation shares: the online and offline code
 * formats, the default issuer profile and clocks. The generated paycode.v1
 * messages and services are in `@paycode/protocol/v1`.
 *
 * @module @paycode/protocol
 */

// For wallets, merchants and terminals: the two code formats (spec §5, §6),
// the default profile (§4) and the clock every component takes.
export {
  type Clock,
  ManualClock,
  OffsetClock,
  type SettableClock,
  systemClock,
  unixSeconds,
} from "./clock.js";
export * from "./codes/index.js";
export {
  DEFAULT_PROFILE,
  type IssuerProfileConfig,
  type ProfileOverrides,
  profileToProto,
  resolveProfile,
  type WalletLimitsConfig,
} from "./profile.js";
