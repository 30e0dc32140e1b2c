"""The date key as a column, and the time units the transforms share.

Fact tables are partitioned by `date_key`, the integer yyyymmdd of a UTC date. Its Python
forms (`date_key(day)`, `day_of(key)`) live with the tables in `schemas.tables`; these are the
same conversions on columns, so that no job spells the pattern again.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# Spark's datetime pattern for schemas.tables.DATE_KEY_FORMAT (Python's "%Y%m%d").
DATE_KEY_PATTERN = "yyyyMMdd"
MICROS_PER_SECOND = 1_000_000
SECONDS_PER_DAY = 86_400
MICROS_PER_DAY = SECONDS_PER_DAY * MICROS_PER_SECOND


def _column(column: Column | str) -> Column:
    return F.col(column) if isinstance(column, str) else column


def date_key(day_or_timestamp: Column | str) -> Column:
    """yyyymmdd of a date, or of a timestamp's date in the session time zone (UTC in every
    session chatlake builds)."""
    return F.date_format(_column(day_or_timestamp), DATE_KEY_PATTERN).cast("int")


def utc_date_key(instant: Column) -> Column:
    """yyyymmdd of an instant's UTC date, whatever the session time zone."""
    days_since_epoch = F.floor(F.unix_micros(instant) / F.lit(MICROS_PER_DAY)).cast("int")
    return date_key(F.date_from_unix_date(days_since_epoch))


def date_of_key(key: Column | str) -> Column:
    """The DATE of a yyyymmdd integer key."""
    return F.to_date(_column(key).cast("string"), DATE_KEY_PATTERN)
