-- description: One account's audits over the last {{days}} days, newest first: status, the credentials
--   present, what appeared or disappeared, and exemptions. Answers "when did this key first appear?".
-- param account_id: account_id (required) the 12-digit member account id
-- param days: integer = 90 (1..3650) how many days back, today (UTC) included
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
SELECT
    dt,
    scanned_at,
    status,
    error_code,
    concat_ws(
        ',',
        IF(password_present, 'password'),
        IF(access_keys_present, 'access_keys'),
        IF(signing_certificates_present, 'signing_certificates'),
        IF(mfa_enabled, 'mfa')
    ) AS credentials,
    array_join(appeared, ',') AS appeared,
    array_join(disappeared, ',') AS disappeared,
    first_audit,
    exempt,
    exemption_reason,
    error_message,
    run_id
FROM {{table}}
WHERE account_id = {{account_id}}
    AND dt >= date_format(date_add('day', 1 - {{days}}, current_date), '%Y-%m-%d')
ORDER BY scanned_at DESC
