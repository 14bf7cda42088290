/**
 * `Store.scanOnce` on PostgreSQL (migration 3): a new Scan's decision
 * (§7.3.1, [SCAN-7]) and its writes in one function call, so a Scan is one
 * round trip and one implicit transaction instead of a dozen statements
 * between BEGIN and COMMIT. It mirrors `ScanService.decide` over `SqlTx`
 * step for step (sqlite-scan.ts does the same for SQLite); the store
 * contract suite holds both to the general path's outcomes.
 *
 * Returns no row when the merchant already has this order (nothing
 * written), and raises SQLSTATE PC001 when a concurrent Scan inserted it
 * first, which rolls back the burn with everything else.
 */
export const PAYCODE_SCAN_V1 = `CREATE FUNCTION paycode_scan_v1(
    p_id TEXT, p_merchant_id TEXT, p_out_trade_no TEXT, p_amount BIGINT, p_currency TEXT,
    p_code_kind TEXT, p_code_digest BYTEA, p_subject TEXT, p_now BIGINT,
    p_declined TEXT, p_wallet_id TEXT, p_usage_key TEXT, p_offline_refusal TEXT,
    p_merchant_account TEXT, p_transfer_id TEXT, p_day TEXT,
    p_default_per_payment BIGINT, p_default_daily_amount BIGINT, p_default_daily_count BIGINT,
    p_confirm_deadline BIGINT)
  RETURNS TABLE (o_status TEXT, o_decline_reason TEXT, o_wallet_id TEXT,
    o_payer_account_id TEXT, o_password_free INT, o_confirm_deadline BIGINT)
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_status TEXT := 'DECLINED';
  v_reason TEXT := p_declined;
  v_wallet TEXT;
  v_payer TEXT;
  v_revoked BIGINT;
  v_balance BIGINT;
  v_payer_currency TEXT;
  v_per_payment BIGINT;
  v_daily_amount BIGINT;
  v_daily_count BIGINT;
  v_used_amount BIGINT;
  v_used_count BIGINT;
  v_deadline BIGINT;
  v_password_free INT := 0;
BEGIN
  -- [AUTH-3] [SCAN-2] [SCAN-3] An order of this merchant exists: the caller replays or refuses it.
  PERFORM 1 FROM payments WHERE merchant_id = p_merchant_id AND out_trade_no = p_out_trade_no;
  IF FOUND THEN
    RETURN;
  END IF;
  -- [VERIFY-9] Step 1: a code the codec declined reaches no wallet and burns nothing.
  IF p_declined IS NULL THEN
    SELECT id, account_id, revoked_at INTO v_wallet, v_payer, v_revoked
      FROM wallets WHERE id = p_wallet_id;
    IF NOT FOUND THEN
      v_reason := 'CODE_INVALID';
    ELSE
      -- [SCAN-4] [SCAN-6] Burn first, whatever the outcome; one of concurrent scans wins.
      INSERT INTO used_codes (usage_key, wallet_id, payment_id, created_at)
        VALUES (p_usage_key, v_wallet, p_id, p_now) ON CONFLICT DO NOTHING;
      IF NOT FOUND THEN
        v_reason := 'CODE_REUSED'; -- [SCAN-5]
      ELSIF v_revoked IS NOT NULL THEN
        v_reason := 'WALLET_REVOKED'; -- [WALLET-6]
      ELSE
        SELECT balance, currency, limit_per_payment_password_free,
               limit_daily_password_free_amount, limit_daily_password_free_count
          INTO v_balance, v_payer_currency, v_per_payment, v_daily_amount, v_daily_count
          FROM accounts WHERE id = v_payer AND kind = 'payer' FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'account % of wallet % is missing', v_payer, v_wallet;
        END IF;
        IF p_offline_refusal = 'CURRENCY_MISMATCH' OR p_currency <> v_payer_currency THEN
          v_reason := 'CURRENCY_MISMATCH'; -- [SCAN-8]
        ELSIF p_offline_refusal = 'OVER_LIMIT' THEN
          v_reason := 'LIMIT_EXCEEDED'; -- [SCAN-9]
        ELSIF v_balance < p_amount THEN
          v_reason := 'INSUFFICIENT_FUNDS'; -- [SCAN-10]
        ELSE
          -- [LIMIT-6] Unset limits are the profile's defaults; [LIMIT-5] "today" is the UTC day.
          IF v_per_payment IS NULL THEN
            v_per_payment := p_default_per_payment;
            v_daily_amount := p_default_daily_amount;
            v_daily_count := p_default_daily_count;
          END IF;
          SELECT amount, count INTO v_used_amount, v_used_count
            FROM daily_usage WHERE account_id = v_payer AND day = p_day;
          IF NOT FOUND THEN
            v_used_amount := 0;
            v_used_count := 0;
          END IF;
          -- [LIMIT-1] [LIMIT-2] [LIMIT-3] Equality with a limit needs no password.
          IF p_amount > v_per_payment OR v_used_amount + p_amount > v_daily_amount
             OR v_used_count + 1 > v_daily_count THEN
            v_status := 'PENDING_CONFIRMATION';
            v_deadline := p_confirm_deadline; -- [PAY-2]
          ELSE
            v_status := 'SUCCEEDED';
            v_password_free := 1;
          END IF;
        END IF;
      END IF;
    END IF;
  END IF;
  -- [SCAN-12] Every outcome, declines included, is a stored payment.
  INSERT INTO payments (id, merchant_id, out_trade_no, amount, currency, status, decline_reason,
      code_kind, code_digest, subject, wallet_id, payer_account_id, password_free, refunded_amount,
      confirm_deadline, source, terminal_id, record_id, created_at, updated_at)
    VALUES (p_id, p_merchant_id, p_out_trade_no, p_amount, p_currency, v_status, v_reason,
      p_code_kind, p_code_digest, p_subject, v_wallet, v_payer, v_password_free, 0,
      v_deadline, 'scan', NULL, NULL, p_now, p_now)
    ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RAISE SQLSTATE 'PC001' USING MESSAGE = 'concurrent Scan with the same out_trade_no';
  END IF;
  IF v_status = 'SUCCEEDED' THEN
    -- [SCAN-11] [PAY-5] Exactly one transfer, in the transaction that records the payment.
    INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind,
        payment_id, refund_id, created_at)
      SELECT p_transfer_id, d.id, c.id, p_amount, p_currency, 'payment', p_id, NULL, p_now
      FROM accounts d, accounts c
      WHERE d.id = v_payer AND c.id = p_merchant_account
        AND d.currency = p_currency AND c.currency = p_currency;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'transfer %: account missing or not in % (% -> %)',
        p_transfer_id, p_currency, v_payer, p_merchant_account;
    END IF;
    UPDATE accounts
      SET balance = CASE WHEN id = v_payer THEN balance - p_amount ELSE balance + p_amount END
      WHERE id IN (v_payer, p_merchant_account) AND kind = 'payer';
    -- [LIMIT-4] Only direct password-free successes count toward today's totals.
    INSERT INTO daily_usage (account_id, day, amount, count) VALUES (v_payer, p_day, p_amount, 1)
      ON CONFLICT (account_id, day) DO UPDATE
      SET amount = daily_usage.amount + excluded.amount, count = daily_usage.count + 1;
  END IF;
  RETURN QUERY SELECT v_status, v_reason, v_wallet, v_payer, v_password_free, v_deadline;
END
$fn$`;

const LOOKUP_ORDER = `PERFORM 1 FROM payments WHERE merchant_id = p_merchant_id AND out_trade_no = p_out_trade_no;
IF FOUND THEN
  RETURN;
END IF;
`;

/** Indents each line of a PL/pgSQL fragment by `n` spaces. */
const indent = (n: number, text: string): string => text.replace(/^(?=.)/gm, " ".repeat(n));

/**
 * `paycode_scan_v2` (migration 4): v1 plus the Scan throttles of §12.3 in
 * the same call, so throttling costs no extra round trip. Before anything is
 * decided, a merchant over its verification-failure bound is refused with no
 * write at all ([SEC-4], [SEC-11]): a failing Scan takes its place in the
 * window by a conditional upsert, which also serialises concurrent failures
 * of one merchant, and any other Scan reads the count. A MAC failure is
 * counted on the wallet ([SEC-5]); past the step-up bound a password-free
 * payment of that wallet waits for the password ([SEC-6]); past the block
 * bound the wallet is revoked ([SEC-13]). `p_fail_window` NULL turns every
 * throttle off (and then no count is written).
 */
export const PAYCODE_SCAN_V2 = scanV2("lookup-first");

/**
 * `paycode_scan_v2` as migration 10 replaces it: the same parameters,
 * results and outcomes, but an order that exists is found by the payment's
 * INSERT (PC001, everything rolled back: nothing written) instead of by a
 * lookup before anything else. The lookup's plan was the planner's choice:
 * on a `payments` table not yet analysed it scanned the merchant's
 * `(merchant_id, created_at)` index with a filter, and PL/pgSQL kept that
 * plan for the connection's life or until the first autoanalyze, so each
 * Scan read every payment of its merchant (51 M index tuples for 10,000
 * Scans in one benchmark). The INSERT's arbiter is the unique index, whatever
 * the statistics. Only a Scan the merchant throttle refuses still looks its
 * order up, so that a retry of an order that exists is replayed [SCAN-2].
 */
export const PAYCODE_SCAN_V2_ORDER_ON_INSERT = scanV2("on-insert");

/**
 * `paycode_scan_v2` as migration 11 replaces it: migration 10's function
 * with two statements fewer on a payment's path, and the same parameters,
 * results and outcomes. PostgreSQL sets up an executor for each statement a
 * PL/pgSQL function runs, the largest share of its CPU per Scan
 * (docs/benchmarks.md). The payer's row (locked) and today's usage are read
 * by one join, and the transfer's insert checks only the merchant's account:
 * the payer's is locked and known to be in the Scan's currency.
 */
export const PAYCODE_SCAN_V2_JOINED_READS = scanV2("on-insert", "joined");

function scanV2(
  orderCheck: "lookup-first" | "on-insert",
  reads: "separate" | "joined" = "separate",
): string {
  const first = orderCheck === "lookup-first";
  const joined = reads === "joined";
  const payerRead = joined
    ? `        -- Today's usage with the payer's row: one statement, not two.
        SELECT a.balance, a.currency, a.limit_per_payment_password_free,
               a.limit_daily_password_free_amount, a.limit_daily_password_free_count,
               COALESCE(u.amount, 0), COALESCE(u.count, 0)
          INTO v_balance, v_payer_currency, v_per_payment, v_daily_amount, v_daily_count,
               v_used_amount, v_used_count
          FROM accounts a LEFT JOIN daily_usage u ON u.account_id = a.id AND u.day = p_day
          WHERE a.id = v_payer AND a.kind = 'payer' FOR UPDATE OF a;
`
    : `        SELECT balance, currency, limit_per_payment_password_free,
               limit_daily_password_free_amount, limit_daily_password_free_count
          INTO v_balance, v_payer_currency, v_per_payment, v_daily_amount, v_daily_count
          FROM accounts WHERE id = v_payer AND kind = 'payer' FOR UPDATE;
`;
  const usageRead = joined
    ? ""
    : `          SELECT amount, count INTO v_used_amount, v_used_count
            FROM daily_usage WHERE account_id = v_payer AND day = p_day;
          IF NOT FOUND THEN
            v_used_amount := 0;
            v_used_count := 0;
          END IF;
`;
  // The payer's row is locked and in p_currency (else CURRENCY_MISMATCH above):
  // only the merchant's account needs checking.
  const transferSource = joined
    ? `      SELECT p_transfer_id, v_payer, c.id, p_amount, p_currency, 'payment', p_id, NULL, p_now
      FROM accounts c WHERE c.id = p_merchant_account AND c.currency = p_currency;`
    : `      SELECT p_transfer_id, d.id, c.id, p_amount, p_currency, 'payment', p_id, NULL, p_now
      FROM accounts d, accounts c
      WHERE d.id = v_payer AND c.id = p_merchant_account
        AND d.currency = p_currency AND c.currency = p_currency;`;
  const create = first ? "CREATE FUNCTION" : "CREATE OR REPLACE FUNCTION";
  const lookupFirst = first
    ? indent(
        2,
        `-- [AUTH-3] [SCAN-2] [SCAN-3] An order of this merchant exists: the caller replays or refuses it.\n${LOOKUP_ORDER}`,
      )
    : "";
  const lookupBeforeRefusal = first
    ? ""
    : indent(
        8,
        `-- [SCAN-2] A refused Scan of an order that exists replays it instead.\n${LOOKUP_ORDER}`,
      );
  const conflictMessage = first
    ? "concurrent Scan with the same out_trade_no"
    : "an order with this out_trade_no exists";
  const conflictComment = first
    ? ""
    : indent(
        4,
        "-- [AUTH-3] [SCAN-2] [SCAN-3] The order exists (from before or a concurrent Scan): the burn\n-- rolls back with everything else, and the caller replays or refuses it.\n",
      );
  return `${create} paycode_scan_v2(
    p_id TEXT, p_merchant_id TEXT, p_out_trade_no TEXT, p_amount BIGINT, p_currency TEXT,
    p_code_kind TEXT, p_code_digest BYTEA, p_subject TEXT, p_now BIGINT,
    p_declined TEXT, p_wallet_id TEXT, p_usage_key TEXT, p_offline_refusal TEXT,
    p_merchant_account TEXT, p_transfer_id TEXT, p_day TEXT,
    p_default_per_payment BIGINT, p_default_daily_amount BIGINT, p_default_daily_count BIGINT,
    p_confirm_deadline BIGINT,
    p_fail_window BIGINT, p_fail_limit BIGINT, p_mac_wallet TEXT, p_step_up_at BIGINT,
    p_step_up_until BIGINT, p_block_at BIGINT, p_revoke_reason TEXT)
  RETURNS TABLE (o_status TEXT, o_decline_reason TEXT, o_wallet_id TEXT,
    o_payer_account_id TEXT, o_password_free INT, o_confirm_deadline BIGINT,
    o_throttled INT, o_merchant_failures BIGINT, o_mac_today BIGINT, o_mac_total BIGINT,
    o_blocked INT)
  LANGUAGE plpgsql AS $fn$
DECLARE
  v_status TEXT := 'DECLINED';
  v_reason TEXT := p_declined;
  v_wallet TEXT;
  v_payer TEXT;
  v_revoked BIGINT;
  v_step_up_until BIGINT;
  v_balance BIGINT;
  v_payer_currency TEXT;
  v_per_payment BIGINT;
  v_daily_amount BIGINT;
  v_daily_count BIGINT;
  v_used_amount BIGINT;
  v_used_count BIGINT;
  v_deadline BIGINT;
  v_password_free INT := 0;
  v_failures BIGINT;
  v_mac_today BIGINT;
  v_mac_total BIGINT;
  v_blocked INT := 0;
BEGIN
${lookupFirst}  -- [SEC-4] [SEC-11] The merchant throttle, before anything is revealed, burned or stored.
  IF p_fail_window IS NOT NULL THEN
    IF p_declined IN ('CODE_INVALID', 'CODE_MALFORMED') THEN
      INSERT INTO scan_failures (merchant_id, window_start, failures)
        VALUES (p_merchant_id, p_fail_window, 1)
        ON CONFLICT (merchant_id, window_start) DO UPDATE
        SET failures = scan_failures.failures + 1 WHERE scan_failures.failures < p_fail_limit
        RETURNING failures INTO v_failures;
      IF NOT FOUND THEN
${lookupBeforeRefusal}        RETURN QUERY SELECT NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, 0, NULL::BIGINT,
          1, p_fail_limit, NULL::BIGINT, NULL::BIGINT, 0;
        RETURN;
      END IF;
    ELSE
      SELECT failures INTO v_failures FROM scan_failures
        WHERE merchant_id = p_merchant_id AND window_start = p_fail_window;
      IF FOUND AND v_failures >= p_fail_limit THEN
${lookupBeforeRefusal}        RETURN QUERY SELECT NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, 0, NULL::BIGINT,
          1, v_failures, NULL::BIGINT, NULL::BIGINT, 0;
        RETURN;
      END IF;
      v_failures := NULL;
    END IF;
    -- [SEC-5] A MAC failure counts on the wallet; [SEC-6] step-up; [SEC-13] block.
    IF p_mac_wallet IS NOT NULL THEN
      UPDATE wallets SET
          mac_failures = CASE WHEN mac_failure_day = p_day THEN mac_failures + 1 ELSE 1 END,
          mac_failure_day = p_day,
          mac_failures_total = mac_failures_total + 1,
          step_up_until = CASE
            WHEN (CASE WHEN mac_failure_day = p_day THEN mac_failures + 1 ELSE 1 END) >= p_step_up_at
            THEN p_step_up_until ELSE step_up_until END
        WHERE id = p_mac_wallet
        RETURNING mac_failures, mac_failures_total INTO v_mac_today, v_mac_total;
      IF FOUND AND v_mac_total >= p_block_at THEN
        UPDATE wallets SET revoked_at = p_now, revoke_reason = p_revoke_reason
          WHERE id = p_mac_wallet AND revoked_at IS NULL;
        IF FOUND THEN
          UPDATE counters SET value = value + 1 WHERE name = 'revocation_list_version';
          v_blocked := 1;
        END IF;
      END IF;
    END IF;
  END IF;
  -- [VERIFY-9] Step 1: a code the codec declined reaches no wallet and burns nothing.
  IF p_declined IS NULL THEN
    SELECT id, account_id, revoked_at, step_up_until
      INTO v_wallet, v_payer, v_revoked, v_step_up_until
      FROM wallets WHERE id = p_wallet_id;
    IF NOT FOUND THEN
      v_reason := 'CODE_INVALID';
      IF p_fail_window IS NOT NULL THEN
        -- [SEC-4] An authentic offline code of a wallet never provisioned fails verification too.
        INSERT INTO scan_failures (merchant_id, window_start, failures)
          VALUES (p_merchant_id, p_fail_window, 1)
          ON CONFLICT (merchant_id, window_start) DO UPDATE
          SET failures = scan_failures.failures + 1
          RETURNING failures INTO v_failures;
      END IF;
    ELSE
      -- [SCAN-4] [SCAN-6] Burn first, whatever the outcome; one of concurrent scans wins.
      INSERT INTO used_codes (usage_key, wallet_id, payment_id, created_at)
        VALUES (p_usage_key, v_wallet, p_id, p_now) ON CONFLICT DO NOTHING;
      IF NOT FOUND THEN
        v_reason := 'CODE_REUSED'; -- [SCAN-5]
      ELSIF v_revoked IS NOT NULL THEN
        v_reason := 'WALLET_REVOKED'; -- [WALLET-6]
      ELSE
${payerRead}        IF NOT FOUND THEN
          RAISE EXCEPTION 'account % of wallet % is missing', v_payer, v_wallet;
        END IF;
        IF p_offline_refusal = 'CURRENCY_MISMATCH' OR p_currency <> v_payer_currency THEN
          v_reason := 'CURRENCY_MISMATCH'; -- [SCAN-8]
        ELSIF p_offline_refusal = 'OVER_LIMIT' THEN
          v_reason := 'LIMIT_EXCEEDED'; -- [SCAN-9]
        ELSIF v_balance < p_amount THEN
          v_reason := 'INSUFFICIENT_FUNDS'; -- [SCAN-10]
        ELSE
          -- [LIMIT-6] Unset limits are the profile's defaults; [LIMIT-5] "today" is the UTC day.
          IF v_per_payment IS NULL THEN
            v_per_payment := p_default_per_payment;
            v_daily_amount := p_default_daily_amount;
            v_daily_count := p_default_daily_count;
          END IF;
${usageRead}          -- [LIMIT-1] [LIMIT-2] [LIMIT-3] Equality with a limit needs no password;
          -- [SEC-6] a wallet in step-up after MAC failures needs it whatever the amount.
          IF p_amount > v_per_payment OR v_used_amount + p_amount > v_daily_amount
             OR v_used_count + 1 > v_daily_count
             OR (p_fail_window IS NOT NULL AND v_step_up_until IS NOT NULL
                 AND p_now < v_step_up_until) THEN
            v_status := 'PENDING_CONFIRMATION';
            v_deadline := p_confirm_deadline; -- [PAY-2]
          ELSE
            v_status := 'SUCCEEDED';
            v_password_free := 1;
          END IF;
        END IF;
      END IF;
    END IF;
  END IF;
  -- [SCAN-12] Every outcome, declines included, is a stored payment.
  INSERT INTO payments (id, merchant_id, out_trade_no, amount, currency, status, decline_reason,
      code_kind, code_digest, subject, wallet_id, payer_account_id, password_free, refunded_amount,
      confirm_deadline, source, terminal_id, record_id, created_at, updated_at)
    VALUES (p_id, p_merchant_id, p_out_trade_no, p_amount, p_currency, v_status, v_reason,
      p_code_kind, p_code_digest, p_subject, v_wallet, v_payer, v_password_free, 0,
      v_deadline, 'scan', NULL, NULL, p_now, p_now)
    ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
${conflictComment}    RAISE SQLSTATE 'PC001' USING MESSAGE = '${conflictMessage}';
  END IF;
  IF v_status = 'SUCCEEDED' THEN
    -- [SCAN-11] [PAY-5] Exactly one transfer, in the transaction that records the payment.
    INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind,
        payment_id, refund_id, created_at)
${transferSource}
    IF NOT FOUND THEN
      RAISE EXCEPTION 'transfer %: account missing or not in % (% -> %)',
        p_transfer_id, p_currency, v_payer, p_merchant_account;
    END IF;
    UPDATE accounts
      SET balance = CASE WHEN id = v_payer THEN balance - p_amount ELSE balance + p_amount END
      WHERE id IN (v_payer, p_merchant_account) AND kind = 'payer';
    -- [LIMIT-4] Only direct password-free successes count toward today's totals.
    INSERT INTO daily_usage (account_id, day, amount, count) VALUES (v_payer, p_day, p_amount, 1)
      ON CONFLICT (account_id, day) DO UPDATE
      SET amount = daily_usage.amount + excluded.amount, count = daily_usage.count + 1;
  END IF;
  RETURN QUERY SELECT v_status, v_reason, v_wallet, v_payer, v_password_free, v_deadline,
    0, v_failures, v_mac_today, v_mac_total, v_blocked;
END
$fn$`;
}

/**
 * `paycode_scan_batch_v1` (migration 9): several Scans in one call and one
 * transaction, each decided by `paycode_scan_v2` in a subtransaction of
 * its own, in array order. A Scan whose order a concurrent Scan inserted
 * first (PC001) is rolled back alone, burn included, and reported with
 * `o_conflict = 1`; a Scan that found its order reports no row at all.
 * Any other error rolls back the whole batch (the caller then runs its
 * Scans one by one). One call serves many Scans with one round trip and
 * one commit, i.e. one WAL flush: group commit for a pool of connections.
 */
export const PAYCODE_SCAN_BATCH_V1 = `CREATE FUNCTION paycode_scan_batch_v1(
    p_id TEXT[], p_merchant_id TEXT[], p_out_trade_no TEXT[], p_amount BIGINT[], p_currency TEXT[],
    p_code_kind TEXT[], p_code_digest BYTEA[], p_subject TEXT[], p_now BIGINT[],
    p_declined TEXT[], p_wallet_id TEXT[], p_usage_key TEXT[], p_offline_refusal TEXT[],
    p_merchant_account TEXT[], p_transfer_id TEXT[], p_day TEXT[],
    p_default_per_payment BIGINT[], p_default_daily_amount BIGINT[], p_default_daily_count BIGINT[],
    p_confirm_deadline BIGINT[],
    p_fail_window BIGINT[], p_fail_limit BIGINT[], p_mac_wallet TEXT[], p_step_up_at BIGINT[],
    p_step_up_until BIGINT[], p_block_at BIGINT[], p_revoke_reason TEXT[])
  RETURNS TABLE (o_index INT, o_conflict INT, o_status TEXT, o_decline_reason TEXT, o_wallet_id TEXT,
    o_payer_account_id TEXT, o_password_free INT, o_confirm_deadline BIGINT,
    o_throttled INT, o_merchant_failures BIGINT, o_mac_today BIGINT, o_mac_total BIGINT,
    o_blocked INT)
  LANGUAGE plpgsql AS $fn$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_id, 1), 0) LOOP
    BEGIN
      RETURN QUERY SELECT i, 0, s.* FROM paycode_scan_v2(p_id[i], p_merchant_id[i],
        p_out_trade_no[i], p_amount[i], p_currency[i], p_code_kind[i], p_code_digest[i],
        p_subject[i], p_now[i], p_declined[i], p_wallet_id[i], p_usage_key[i],
        p_offline_refusal[i], p_merchant_account[i], p_transfer_id[i], p_day[i],
        p_default_per_payment[i], p_default_daily_amount[i], p_default_daily_count[i],
        p_confirm_deadline[i], p_fail_window[i], p_fail_limit[i], p_mac_wallet[i],
        p_step_up_at[i], p_step_up_until[i], p_block_at[i], p_revoke_reason[i]) s;
    EXCEPTION WHEN SQLSTATE 'PC001' THEN
      RETURN QUERY SELECT i, 1, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, 0, NULL::BIGINT,
        0, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, 0;
    END;
  END LOOP;
END
$fn$`;
