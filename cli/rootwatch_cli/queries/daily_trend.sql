-- description: Per day over the last {{days}} days, how many accounts had each kind of root credential
--   (password, access_keys, signing_certificates, mfa), plus audited, errors and exempt counts. When a
--   day has several runs, each account's last record of that day counts.
-- param days: integer = 30 (1..3650) how many days back, today (UTC) included
-- {{table}}: the results table (Athena: the Glue table; DuckDB: read_json over results/).
WITH daily AS (
    SELECT *
    FROM (
        SELECT r.*, row_number() OVER (PARTITION BY dt, account_id ORDER BY scanned_at DESC, run_id DESC) AS rn
        FROM {{table}} AS r
        WHERE dt >= date_format(date_add('day', 1 - {{days}}, current_date), '%Y-%m-%d')
    ) AS ranked
    WHERE rn = 1
)
SELECT
    dt,
    count(*) AS accounts,
    count_if(status = 'OK') AS audited,
    count_if(status = 'ERROR') AS errors,
    count_if(status = 'SKIPPED') AS skipped,
    count_if(status = 'OK' AND root_credentials_present) AS with_root_credentials,
    count_if(status = 'OK' AND password_present) AS password,
    count_if(status = 'OK' AND access_keys_present) AS access_keys,
    count_if(status = 'OK' AND signing_certificates_present) AS signing_certificates,
    count_if(status = 'OK' AND mfa_enabled) AS mfa,
    count_if(status = 'OK' AND exempt) AS exempt
FROM daily
GROUP BY dt
ORDER BY dt
