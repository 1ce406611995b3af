-- description: The current state of every account: its latest audit (any status) with the credential
--   flags of its last successful audit, since an ERROR never erases what is known.
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
WITH latest AS (
    SELECT account_id, account_name, ou_path, account_state, status, error_code, error_message, scanned_at, run_id
    FROM (
        SELECT r.*, row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
        FROM {{table}} AS r
    ) AS ranked
    WHERE rn = 1
),
last_ok AS (
    SELECT *
    FROM (
        SELECT r.*, row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
        FROM {{table}} AS r
        WHERE status = 'OK'
    ) AS ranked
    WHERE rn = 1
)
SELECT
    l.account_id,
    l.account_name,
    l.ou_path,
    l.account_state,
    l.status,
    l.error_code,
    l.error_message,
    l.scanned_at AS last_scanned_at,
    o.scanned_at AS last_ok_at,
    o.root_credentials_present,
    concat_ws(
        ',',
        IF(o.password_present, 'password'),
        IF(o.access_keys_present, 'access_keys'),
        IF(o.signing_certificates_present, 'signing_certificates'),
        IF(o.mfa_enabled, 'mfa')
    ) AS credentials,
    o.password_present,
    o.access_keys_present,
    o.signing_certificates_present,
    o.mfa_enabled,
    o.active_access_keys,
    o.inactive_access_keys,
    o.mfa_devices,
    o.active_signing_certificates,
    o.password_last_used,
    o.access_key_last_used,
    o.exempt,
    o.exemption_reason,
    l.run_id AS last_run_id
FROM latest AS l
LEFT JOIN last_ok AS o ON o.account_id = l.account_id
ORDER BY l.account_id
