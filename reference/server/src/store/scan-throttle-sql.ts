/**
 * The two throttle writes of Scan (§12.3), one text for the general path
 * (`SqlTx`, both databases) and SQLite's one-call statements (`SqliteScan`);
 * PostgreSQL's one call repeats them in PL/pgSQL (postgres-scan-function.ts).
 */

/** [SEC-4] Count a verification failure in the merchant window, unless already at the bound (params: merchant, window, bound). */
export const ADD_MERCHANT_FAILURE_SQL = `INSERT INTO scan_failures (merchant_id, window_start, failures) VALUES (?, ?, 1)
  ON CONFLICT (merchant_id, window_start) DO UPDATE SET failures = scan_failures.failures + 1
  WHERE scan_failures.failures < ?
  RETURNING failures`;

/** [SEC-5] [SEC-6] Count a MAC failure of the day and in total, starting step-up at the bound (params: day, day, day, step-up bound, step-up end, wallet). */
export const ADD_MAC_FAILURE_SQL = `UPDATE wallets SET
    mac_failures = CASE WHEN mac_failure_day = ? THEN mac_failures + 1 ELSE 1 END,
    mac_failure_day = ?,
    mac_failures_total = mac_failures_total + 1,
    step_up_until = CASE WHEN (CASE WHEN mac_failure_day = ? THEN mac_failures + 1 ELSE 1 END) >= ?
      THEN ? ELSE step_up_until END
  WHERE id = ?
  RETURNING mac_failures, mac_failures_total`;
