-- description: Accounts whose root user has credentials now (at their last successful audit), which
--   ones, since when (the first audit that found them after the last clean one), and whether an
--   exemption covers them.
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
WITH last_ok AS (
    SELECT *
    FROM (
        SELECT r.*, row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
        FROM {{table}} AS r
        WHERE status = 'OK'
    ) AS ranked
    WHERE rn = 1
),
latest AS (
    SELECT account_id, account_name, ou_path, status, scanned_at
    FROM (
        SELECT r.*, row_number() OVER (PARTITION BY account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
        FROM {{table}} AS r
    ) AS ranked
    WHERE rn = 1
),
last_clean AS (
    SELECT account_id, max(scanned_at) AS last_clean_at
    FROM {{table}}
    WHERE status = 'OK' AND NOT root_credentials_present
    GROUP BY account_id
),
present_since AS (
    SELECT r.account_id, min(r.scanned_at) AS present_since
    FROM {{table}} AS r
    LEFT JOIN last_clean AS c ON c.account_id = r.account_id
    WHERE r.status = 'OK' AND r.root_credentials_present AND (c.last_clean_at IS NULL OR r.scanned_at > c.last_clean_at)
    GROUP BY r.account_id
)
SELECT
    o.account_id,
    coalesce(l.account_name, o.account_name) AS account_name,
    coalesce(l.ou_path, o.ou_path) AS ou_path,
    concat_ws(
        ',',
        IF(o.password_present, 'password'),
        IF(o.access_keys_present, 'access_keys'),
        IF(o.signing_certificates_present, 'signing_certificates'),
        IF(o.mfa_enabled, 'mfa')
    ) AS credentials,
    o.active_access_keys,
    o.inactive_access_keys,
    o.mfa_devices,
    o.active_signing_certificates,
    o.password_last_used,
    o.access_key_last_used,
    s.present_since,
    o.scanned_at AS last_ok_at,
    l.status AS latest_status,
    o.exempt,
    o.exemption_reason
FROM last_ok AS o
JOIN latest AS l ON l.account_id = o.account_id
LEFT JOIN present_since AS s ON s.account_id = o.account_id
WHERE o.root_credentials_present
ORDER BY o.exempt, o.account_id
