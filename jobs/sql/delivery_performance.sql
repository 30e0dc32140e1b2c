-- Delivery performance per date, device type and network type.
-- latency = server_received_timestamp - message_timestamp in seconds (client clocks may be
-- skewed, so it can be negative); message_count counts the messages that have a device, the
-- mean and p95 (linear interpolation) are over those with a message_timestamp.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH latencies AS (
    SELECT /*+ BROADCAST(v), BROADCAST(d) */
        d.full_date,
        v.device_type,
        v.network_type,
        CAST(unix_micros(e.server_received_timestamp) - unix_micros(e.message_timestamp) AS DOUBLE)
            / 1000000 AS latency_seconds
    FROM fact_message_events e
    JOIN dim_devices v
        ON e.device_key = v.device_key
    JOIN dim_dates d
        ON e.date_key = d.date_key
    WHERE d.full_date BETWEEN :start_date AND :end_date
      AND e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
)
SELECT
    full_date                                                      AS date,
    device_type,
    network_type,
    COUNT(*)                                                       AS message_count,
    AVG(latency_seconds)                                           AS avg_delivery_latency,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_seconds)  AS p95_latency
FROM latencies
GROUP BY full_date, device_type, network_type
ORDER BY date, avg_delivery_latency DESC
