-- Stickiness per date: daily, weekly (7 days ending that date) and monthly (30 days) active
-- messengers, and DAU/MAU and WAU/MAU. A messenger is a user with messages_sent > 0.
-- Parameters: :start_date, :end_date (DATE, inclusive).
WITH active AS (
    SELECT /*+ BROADCAST(d) */ DISTINCT d.full_date, f.user_key
    FROM fact_user_metrics f
    JOIN dim_dates d
        ON f.date_key = d.date_key
    WHERE f.messages_sent > 0
      AND d.full_date BETWEEN date_sub(:start_date, 29) AND :end_date
      AND f.date_key BETWEEN CAST(date_format(date_sub(:start_date, 29), 'yyyyMMdd') AS INT)
                         AND CAST(date_format(:end_date, 'yyyyMMdd') AS INT)
),
days AS (
    SELECT full_date
    FROM dim_dates
    WHERE full_date BETWEEN :start_date AND :end_date
),
windows AS (
    SELECT
        days.full_date                                                               AS date,
        COUNT(DISTINCT CASE WHEN a.full_date = days.full_date THEN a.user_key END)   AS dau,
        COUNT(DISTINCT CASE WHEN a.full_date > date_sub(days.full_date, 7)
                            THEN a.user_key END)                                     AS wau,
        COUNT(DISTINCT a.user_key)                                                   AS mau
    FROM days
    LEFT JOIN active a
        ON a.full_date BETWEEN date_sub(days.full_date, 29) AND days.full_date
    GROUP BY days.full_date
)
SELECT
    date,
    dau,
    wau,
    mau,
    ROUND(CAST(dau AS DOUBLE) / NULLIF(mau, 0), 4)   AS dau_mau_stickiness,
    ROUND(CAST(wau AS DOUBLE) / NULLIF(mau, 0), 4)   AS wau_mau_ratio
FROM windows
ORDER BY date
