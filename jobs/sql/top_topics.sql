-- The 20 topics with most confident assignments (confidence >= 0.7) among the messages of
-- the date range. Counts are of sampled messages, not estimates (see topic_prevalence).
-- On dates older than history_sampling.full_days only a sample of conversations is kept:
-- history_weighted_messages weights each assignment by 1 / history_sample_rate (1 on dates
-- kept in full) to estimate message_count as if the whole history were there.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(t), BROADCAST(d) */
    t.topic_name,
    t.topic_category,
    COUNT(*)                             AS message_count,
    COUNT(DISTINCT f.message_event_id)   AS unique_messages,
    COUNT(DISTINCT e.conversation_key)   AS unique_conversations,
    SUM(1.0 / COALESCE(f.history_sample_rate, 1.0))  AS history_weighted_messages
FROM fact_message_derived_topics f
JOIN dim_topics t
    ON f.topic_key = t.topic_key
JOIN fact_message_events e
    ON f.message_event_id = e.message_event_id
   AND f.date_key = e.date_key
JOIN dim_dates d
    ON e.date_key = d.date_key
WHERE f.topic_confidence >= 0.7
  AND d.full_date BETWEEN :start_date AND :end_date
  AND f.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
GROUP BY t.topic_name, t.topic_category
ORDER BY message_count DESC, t.topic_name
LIMIT 20
