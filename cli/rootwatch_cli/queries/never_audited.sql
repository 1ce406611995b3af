-- description: Accounts that were never audited successfully: every audit of theirs failed. Accounts
--   that were only ever SKIPPED (the management account, SUSPENDED or CLOSED accounts) are left out,
--   because skipping them is by design.
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
WITH per_account AS (
    SELECT
        account_id,
        count_if(status = 'ERROR') AS errors,
        min(scanned_at) AS first_seen_at,
        max(scanned_at) AS last_seen_at
    FROM {{table}}
    GROUP BY account_id
    HAVING count_if(status = 'OK') = 0 AND count_if(status = 'ERROR') > 0
),
last_error AS (
    SELECT
        account_id,
        account_name,
        error_code,
        error_message,
        row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
    FROM {{table}}
    WHERE status = 'ERROR'
)
SELECT
    p.account_id,
    e.account_name,
    p.errors,
    p.first_seen_at,
    p.last_seen_at,
    e.error_code AS last_error_code,
    e.error_message AS last_error_message
FROM per_account AS p
JOIN last_error AS e ON e.account_id = p.account_id AND e.rn = 1
ORDER BY p.account_id
