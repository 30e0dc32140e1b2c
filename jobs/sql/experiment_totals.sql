-- Per experiment and variant over the dates: the exact sums report experiments computes its
-- statistics from (fact_experiment_daily), plus `conversations`: distinct assigned
-- conversations with a message in the window (a conversation active on several dates counts
-- once here, and once per date in conversation_days, the unit of messages per conversation).
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH daily AS (
    SELECT
        experiment,
        variant,
        SUM(conversations_active)              AS conversation_days,
        SUM(messages)                          AS messages,
        SUM(sum_squared_conversation_messages) AS sum_squared_conversation_messages,
        SUM(read_messages)                     AS read_messages,
        SUM(response_pairs)                    AS response_pairs,
        SUM(sum_response_seconds)              AS sum_response_seconds,
        SUM(sum_squared_response_seconds)      AS sum_squared_response_seconds,
        SUM(sum_squared_conversation_pairs)    AS sum_squared_conversation_pairs,
        SUM(sum_conversation_pairs_response_seconds)   AS sum_conversation_pairs_response_seconds,
        SUM(sum_squared_conversation_response_seconds) AS sum_squared_conversation_response_seconds
    FROM fact_experiment_daily
    WHERE date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                       AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
    GROUP BY experiment, variant
),
active AS (
    SELECT a.experiment, a.variant, COUNT(DISTINCT e.conversation_key) AS conversations
    FROM fact_message_events e
    JOIN dim_experiment_assignments a
        ON e.conversation_key = a.conversation_key
    WHERE e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
    GROUP BY a.experiment, a.variant
)
SELECT d.*, COALESCE(a.conversations, 0) AS conversations
FROM daily d
LEFT JOIN active a
    ON d.experiment = a.experiment AND d.variant = a.variant
ORDER BY experiment, variant
