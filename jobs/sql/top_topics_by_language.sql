-- The 5 topics with most confident assignments (confidence >= 0.7) in each language, among
-- the messages of the date range; language_code is the language the assignment was made in.
-- Counts are of sampled messages, not estimates; history_weighted_messages weights each
-- assignment by 1 / history_sample_rate as in top_topics.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH per_language AS (
    SELECT /*+ BROADCAST(t) */
        f.language_code,
        t.topic_name,
        COUNT(*)                                          AS message_count,
        SUM(1.0 / COALESCE(f.history_sample_rate, 1.0))   AS history_weighted_messages
    FROM fact_message_derived_topics f
    JOIN dim_topics t
        ON f.topic_key = t.topic_key
    WHERE f.topic_confidence >= 0.7
      AND f.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
    GROUP BY f.language_code, t.topic_name
),
ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY language_code
                                 ORDER BY message_count DESC, topic_name) AS topic_rank
    FROM per_language
)
SELECT language_code, topic_rank, topic_name, message_count, history_weighted_messages
FROM ranked
WHERE topic_rank <= 5
ORDER BY language_code, topic_rank
