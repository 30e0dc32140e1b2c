"""`demo`: a week of synthetic data through the nightly run, then the design's three reports,
the experiments report (the generator plants a higher read share in reply_nudge/treatment),
the app versions report and the access report (who read what through `serve`; empty until
someone queries through it).

It writes to the configured landing path and warehouse (data/ by default), so what it leaves
behind can be explored afterwards in notebooks/ or with `report`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import SparkSession

from jobs import generate, nightly, report
from jobs.access_audit import access_report
from jobs.config import Config
from jobs.progress import LOGGER

DESIGN_REPORTS = ("daily_active_messengers", "top_topics", "delivery_performance")


def window(days: int) -> tuple[dt.date, dt.date]:
    """The demo's days: the `days` days that end yesterday (UTC), as a nightly run sees them."""
    last_day = nightly.yesterday_utc()
    return last_day - dt.timedelta(days=days - 1), last_day


def run(spark: SparkSession, config: Config, args: Any) -> None:
    first_day, last_day = window(args.days)
    LOGGER.info("demo: %d days of %s messages from %s to %s", args.days, f"{args.messages_per_day:,}",
                first_day, last_day)
    generate.generate(spark, config.landing_path, first_day, args.days, args.messages_per_day, args.seed)
    day = first_day
    while day <= last_day:
        nightly.run_night(spark, config, day)
        day += dt.timedelta(days=1)
    frames = report.reports(spark, config, last_day, days=args.days)
    titles = {
        "daily_active_messengers": f"Daily active messengers, {first_day} .. {last_day}",
        "top_topics": f"Top conversation topics, {first_day} .. {last_day}",
        "delivery_performance": f"Delivery performance by device and network, {last_day}",
    }
    for name in DESIGN_REPORTS:
        frame = frames[name]
        if name == "delivery_performance":
            last_only = report.reports(spark, config, last_day, days=1)
            frame = last_only[name]
        print(f"\n== {titles[name]}")
        frame.show(n=report.MAX_PRINTED_ROWS, truncate=False)
    print(f"\n== Experiments per variant against control, {first_day} .. {last_day}")
    report.experiments(spark, config, last_day, days=args.days).show(n=report.MAX_PRINTED_ROWS, truncate=False)
    print(f"\n== Delivery and reads per app version, {first_day} .. {last_day}")
    report.versions(spark, config, last_day, days=args.days).show(n=report.MAX_PRINTED_ROWS, truncate=False)
    today = dt.datetime.now(dt.UTC).date()
    print(f"\n== Who read what through the SQL endpoint, {today} (empty until people query through"
          " `serve`: docs/access.md)")
    access_report(spark, config, today).show(n=report.MAX_PRINTED_ROWS, truncate=False)
