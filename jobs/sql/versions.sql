-- Per app version (of the device as reported on each message) over the dates, newest version
-- first: messages and senders, the delivery latency (server_received_timestamp -
-- message_timestamp in seconds, as the delivery report: mean and p95 with linear
-- interpolation over the messages with a message_timestamp), the failure rate (status
-- `failed`: a failure without any delivery or read) and the read rate (a first_read_timestamp).
-- Messages without a device have no version and are left out.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH versioned AS (
    SELECT /*+ BROADCAST(v), BROADCAST(s) */
        v.app_version,
        e.sender_user_key,
        CAST(unix_micros(e.server_received_timestamp) - unix_micros(e.message_timestamp) AS DOUBLE)
            / 1000000 AS latency_seconds,
        COALESCE(s.status_name = 'failed', FALSE) AS is_failed,
        e.first_read_timestamp IS NOT NULL AS is_read
    FROM fact_message_events e
    JOIN dim_devices v
        ON e.device_key = v.device_key
    LEFT JOIN dim_message_status s
        ON e.message_status_key = s.message_status_key
    WHERE e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
)
SELECT
    app_version,
    COUNT(*)                                                       AS messages,
    COUNT(DISTINCT sender_user_key)                                AS senders,
    AVG(latency_seconds)                                           AS avg_delivery_latency,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_seconds)  AS p95_latency,
    AVG(CAST(is_failed AS DOUBLE))                                 AS failure_rate,
    AVG(CAST(is_read AS DOUBLE))                                   AS read_rate
FROM versioned
GROUP BY app_version
-- Numerically by each dotted part (5.10 after 5.9), then as text for what is not a number.
ORDER BY transform(split(app_version, '[.]'), part -> try_cast(part AS INT)) DESC, app_version DESC
