-- Messages of the date range by the language identified in flight (language_code): 'und' when
-- the text was too short or the identification not confident, '(no text)' for messages
-- without text (media, deleted). Shares are of all the range's messages.
-- On dates older than history_sampling.full_days only a sample of conversations is kept:
-- history_weighted_messages weights each message by 1 / history_sample_rate (1 on dates kept
-- in full) to estimate the count as if the whole history were there.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d) */
    COALESCE(e.language_code, '(no text)')                           AS language_code,
    COUNT(*)                                                         AS messages,
    COUNT(DISTINCT e.sender_user_key)                                AS senders,
    CAST(ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 2) AS DOUBLE) AS percent_of_messages,
    SUM(1.0 / COALESCE(e.history_sample_rate, 1.0))                  AS history_weighted_messages
FROM fact_message_events e
JOIN dim_dates d
    ON e.date_key = d.date_key
WHERE d.full_date BETWEEN :start_date AND :end_date
  AND e.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
GROUP BY COALESCE(e.language_code, '(no text)')
ORDER BY messages DESC, language_code
