import { setTimeout as sleep } from "node:timers/promises";

/**
 * The pause race mutants (burn-check-then-insert, confirm-without-lock) take
 * between a check and the write it should guard. A vendor's check and write
 * are separate round trips to a remote database, so concurrent requests
 * interleave between them; the embedded SQLite answers in microseconds,
 * which would hide the race from all but lucky timings. Never used by a
 * correct issuer.
 */
export const RACE_WINDOW_MS = 100;

export function raceWindow(): Promise<void> {
  return sleep(RACE_WINDOW_MS);
}
