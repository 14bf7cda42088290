/** Per-case timeout of a run, milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Cases run at once against one target. */
export const DEFAULT_PARALLEL = 8;
