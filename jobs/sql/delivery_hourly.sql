-- The design's delivery query at hour grain, read from fact_hourly_activity alone: per date,
-- UTC hour, conversation type, device type and network type, the messages that have a device,
-- the mean and p95 (PERCENTILE_CONT, linear interpolation, computed by aggregate over every
-- message of the hour) of server_received_timestamp - message_timestamp in seconds, and the
-- shares delivered, read and failed. Exact on every date, sampled history included.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d) */
    d.full_date                                          AS date,
    h.hour                                               AS hour_utc,
    h.conversation_type,
    h.device_type,
    h.network_type,
    h.messages                                           AS message_count,
    h.avg_latency_seconds                                AS avg_delivery_latency,
    h.p95_latency_seconds                                AS p95_latency,
    h.delivered_messages / h.messages                    AS delivered_share,
    h.read_messages / h.messages                         AS read_share,
    h.failed_messages / h.messages                       AS failed_share
FROM fact_hourly_activity h
JOIN dim_dates d
    ON h.date_key = d.date_key
WHERE h.device_type <> 'none'
  AND d.full_date BETWEEN :start_date AND :end_date
  AND h.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
ORDER BY date, hour_utc, conversation_type, device_type, network_type
