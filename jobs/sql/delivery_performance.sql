-- Delivery performance per date, device type and network type.
-- latency = server_received_timestamp - message_timestamp in seconds (client clocks may be
-- skewed, so it can be negative); message_count counts the messages that have a device, the
-- mean and p95 (linear interpolation) are over those with a message_timestamp.
-- The count and the mean come from fact_hourly_activity (hourly counts and means add up
-- exactly; that table is computed before history sampling, so they are exact on every date).
-- A day's p95 cannot be built from hourly ones, so it is taken over the message facts; on a
-- date whose messages history sampling reduced, every kept row has the same
-- history_sample_rate, so the sample's p95 is the estimate of the day's without weights.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH counts AS (
    SELECT
        date_key,
        device_type,
        network_type,
        SUM(messages)                                    AS message_count,
        SUM(avg_latency_seconds * latency_messages)
            / NULLIF(SUM(latency_messages), 0)           AS avg_delivery_latency
    FROM fact_hourly_activity
    WHERE device_type <> 'none'
      AND date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                       AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
    GROUP BY date_key, device_type, network_type
),
latencies AS (
    SELECT /*+ BROADCAST(v) */
        e.date_key,
        v.device_type,
        v.network_type,
        CAST(unix_micros(e.server_received_timestamp) - unix_micros(e.message_timestamp) AS DOUBLE)
            / 1000000 AS latency_seconds
    FROM fact_message_events e
    JOIN dim_devices v
        ON e.device_key = v.device_key
    WHERE e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
),
p95 AS (
    SELECT
        date_key,
        device_type,
        network_type,
        PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_seconds)  AS p95_latency
    FROM latencies
    GROUP BY date_key, device_type, network_type
)
SELECT /*+ BROADCAST(d) */
    d.full_date                                          AS date,
    c.device_type,
    c.network_type,
    c.message_count,
    c.avg_delivery_latency,
    p.p95_latency
FROM counts c
JOIN dim_dates d
    ON c.date_key = d.date_key
LEFT JOIN p95 p
    ON c.date_key = p.date_key
   AND c.device_type = p.device_type
   AND c.network_type = p.network_type
WHERE d.full_date BETWEEN :start_date AND :end_date
ORDER BY date, avg_delivery_latency DESC
