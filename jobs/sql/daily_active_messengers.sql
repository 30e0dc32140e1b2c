-- Daily active messengers: users who sent at least one message, per date.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d) */
    d.full_date                  AS date,
    COUNT(DISTINCT f.user_key)   AS daily_active_messengers
FROM fact_user_metrics f
JOIN dim_dates d
    ON f.date_key = d.date_key
WHERE f.messages_sent > 0
  AND d.full_date BETWEEN :start_date AND :end_date
  AND f.date_key BETWEEN CAST(date_format(:start_date, 'yyyyMMdd') AS INT)
                     AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
GROUP BY d.full_date
ORDER BY d.full_date
