-- Message volume per date and UTC hour of server receipt, with distinct senders and
-- conversations; hours without messages are absent.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d), BROADCAST(t) */
    d.full_date                          AS date,
    t.hour                               AS hour_utc,
    COUNT(*)                             AS message_count,
    COUNT(DISTINCT e.sender_user_key)    AS active_senders,
    COUNT(DISTINCT e.conversation_key)   AS active_conversations,
    SUM(e.media_count)                   AS media_items
FROM fact_message_events e
JOIN dim_dates d
    ON e.date_key = d.date_key
JOIN dim_time t
    ON e.time_key = t.time_key
WHERE d.full_date BETWEEN :start_date AND :end_date
  AND e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
GROUP BY d.full_date, t.hour
ORDER BY date, hour_utc
