-- Weekly (ISO, from Monday) and monthly trends of every week and month that overlaps the
-- range, for all conversation types together, read from fact_activity_rollups: active senders
-- and conversations are distinct over the whole period (not sums of daily counts), and
-- messages per sender is messages / active senders. Rollups are computed before any history
-- sampling, so these are exact counts, not estimates.
-- Parameters: :start_date, :end_date (DATE, inclusive).
SELECT /*+ BROADCAST(d) */
    r.grain,
    r.period_start,
    CASE WHEN r.grain = 'week' THEN d.iso_week ELSE d.month END  AS week_or_month,
    r.messages,
    r.active_senders,
    r.avg_messages_per_sender                                    AS messages_per_sender,
    r.active_conversations,
    r.new_conversations,
    r.days_with_messages
FROM fact_activity_rollups r
JOIN dim_dates d
    ON r.period_start = d.full_date
WHERE r.conversation_type = 'all'
  AND r.period_start <= :end_date
  AND CASE WHEN r.grain = 'week' THEN date_add(r.period_start, 6) ELSE last_day(r.period_start) END
      >= :start_date
ORDER BY r.grain DESC, r.period_start
