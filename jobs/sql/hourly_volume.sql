-- Message volume per date and UTC hour of server receipt, read from fact_hourly_activity (which
-- aggregate writes before any history sampling, so these counts are exact on every date, not
-- estimates): messages, how many were delivered, read and failed, and the mean latency over the
-- messages with a client time. That table counts distinct senders per conversation type and
-- device, which do not add up to an hour's senders, so none are shown. Hours without messages
-- are absent.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d) */
    d.full_date                                          AS date,
    h.hour                                               AS hour_utc,
    SUM(h.messages)                                      AS message_count,
    SUM(h.delivered_messages)                            AS delivered_messages,
    SUM(h.read_messages)                                 AS read_messages,
    SUM(h.failed_messages)                               AS failed_messages,
    SUM(h.avg_latency_seconds * h.latency_messages)
        / NULLIF(SUM(h.latency_messages), 0)             AS avg_latency_seconds
FROM fact_hourly_activity h
JOIN dim_dates d
    ON h.date_key = d.date_key
WHERE d.full_date BETWEEN :start_date AND :end_date
  AND h.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
GROUP BY d.full_date, h.hour
ORDER BY date, hour_utc
