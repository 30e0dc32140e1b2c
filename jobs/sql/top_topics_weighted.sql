-- The design's top topics, with estimated true volumes instead of sampled counts.
-- Topics are assigned to a Bernoulli sample of the messages (each message independently, at its
-- conversation type's rate p), so each confident assignment (confidence >= 0.7) stands for
-- 1/p messages: estimated_messages = SUM(1/p) (Horvitz-Thompson), with the variance estimate
-- SUM((1 - p) / p^2) and a normal 95% interval, floored at the sampled count (those messages
-- are known to carry the topic). Only the latest extraction version of each message counts, so
-- a keyword update that re-scored some dates does not count their messages twice.
-- On dates older than history_sampling.full_days only a sample of whole conversations is kept
-- (history_sample_rate h, 1 on dates kept in full): an assignment there stands for 1/(p*h)
-- messages, so p below is the product. Conversations are sampled whole, so on such dates the
-- interval, which treats messages as independent, is too narrow.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH in_range AS (
    SELECT *
    FROM fact_message_derived_topics
    WHERE date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                       AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
),
latest_version AS (
    SELECT message_event_id, max_by(topic_extraction_version, processed_timestamp) AS version
    FROM in_range
    GROUP BY message_event_id
),
confident AS (
    SELECT f.topic_key, f.message_event_id, f.conversation_key,
           f.sample_rate * COALESCE(f.history_sample_rate, 1.0) AS sample_rate
    FROM in_range f
    JOIN latest_version v
        ON f.message_event_id = v.message_event_id
       AND f.topic_extraction_version = v.version
    WHERE f.topic_confidence >= 0.7
),
estimates AS (
    SELECT
        topic_key,
        COUNT(*)                                         AS sampled_messages,
        COUNT(DISTINCT conversation_key)                 AS sampled_conversations,
        SUM(1.0 / sample_rate)                           AS estimated_messages,
        SQRT(SUM((1.0 - sample_rate) / (sample_rate * sample_rate))) AS standard_error
    FROM confident
    GROUP BY topic_key
)
SELECT /*+ BROADCAST(t) */
    t.topic_name,
    t.topic_category,
    e.sampled_messages,
    e.sampled_conversations,
    ROUND(e.estimated_messages, 1)                                        AS estimated_messages,
    ROUND(GREATEST(e.sampled_messages, e.estimated_messages - 1.96 * e.standard_error), 1)
                                                                          AS estimated_messages_ci95_low,
    ROUND(e.estimated_messages + 1.96 * e.standard_error, 1)              AS estimated_messages_ci95_high
FROM estimates e
JOIN dim_topics t
    ON e.topic_key = t.topic_key
ORDER BY estimated_messages DESC, t.topic_name
LIMIT 20
