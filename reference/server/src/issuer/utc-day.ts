const DAY_MS = 86_400_000;

/** [LIMIT-5] The UTC calendar day of a Unix-ms time, "YYYY-MM-DD": password-free days start at 00:00 UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** [SETTLE-8] [start, end) in Unix ms of a "YYYY-MM-DD" UTC day, or undefined if it is not a real calendar date. */
export function utcDayRange(day: string): { fromMs: number; toMs: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const fromMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(fromMs) || utcDay(fromMs) !== day) return undefined;
  return { fromMs, toMs: fromMs + DAY_MS };
}
