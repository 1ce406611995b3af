-- description: Root credentials that reappeared in the last {{days}} days: an audit found a credential
--   kind that the account's previous successful audit did not have. One row per finding, newest first.
-- param days: integer = 30 (1..3650) how many days back, today (UTC) included
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
SELECT
    dt,
    scanned_at,
    account_id,
    account_name,
    array_join(appeared, ',') AS appeared,
    exempt,
    exemption_reason,
    run_id
FROM {{table}}
WHERE dt >= date_format(date_add('day', 1 - {{days}}, current_date), '%Y-%m-%d')
    AND status = 'OK'
    AND NOT first_audit
    AND cardinality(appeared) > 0
ORDER BY scanned_at DESC, account_id
