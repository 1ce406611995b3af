-- description: Accounts whose audit failed in the last {{days}} days, one row per account: how often,
--   the latest error (AWS's own message), and whether every audit in the window failed.
-- param days: integer = 7 (1..3650) how many days back, today (UTC) included
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
WITH recent AS (
    SELECT *
    FROM {{table}}
    WHERE dt >= date_format(date_add('day', 1 - {{days}}, current_date), '%Y-%m-%d')
        AND status IN ('OK', 'ERROR')
),
per_account AS (
    SELECT
        account_id,
        count(*) AS audits,
        count_if(status = 'ERROR') AS errors,
        min(IF(status = 'ERROR', scanned_at)) AS first_error_at,
        max(IF(status = 'ERROR', scanned_at)) AS last_error_at,
        max(IF(status = 'OK', scanned_at)) AS last_ok_at
    FROM recent
    GROUP BY account_id
    HAVING count_if(status = 'ERROR') > 0
),
last_error AS (
    SELECT
        account_id,
        account_name,
        error_code,
        error_message,
        row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
    FROM recent
    WHERE status = 'ERROR'
)
SELECT
    p.account_id,
    e.account_name,
    e.error_code AS last_error_code,
    e.error_message AS last_error_message,
    p.errors,
    p.audits,
    p.errors = p.audits AS failing_every_audit,
    p.first_error_at,
    p.last_error_at,
    p.last_ok_at
FROM per_account AS p
JOIN last_error AS e ON e.account_id = p.account_id AND e.rn = 1
ORDER BY failing_every_audit DESC, p.errors DESC, p.account_id
