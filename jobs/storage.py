"""The only code that touches Delta: create tables, read them, and write with MERGE,
replaceWhere or overwrite. Tables live at `<warehouse_path>/<table_name>`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem
from jobs.config import Config
from schemas.tables import DATE_PARTITION, TABLES_BY_NAME, TableSpec

LOG_DIR = "_delta_log"
# 00000000000000000012.json, .00000000000000000012.json.crc, ...checkpoint.parquet, ...crc
VERSIONED_LOG_FILE = re.compile(r"^\.?(\d{20})\.")
TABLE_PROPERTIES = {
    "delta.enableDeletionVectors": "true",
    # Column statistics on the first 32 columns are what data skipping (and erasure by key)
    # needs; no table holds text, so no statistic can either.
    "delta.dataSkippingNumIndexedCols": "32",
}


def history_properties(config: Config) -> dict[str, str]:
    """How long Delta keeps removed files and log entries: `purge_retain_hours` of the config,
    so that time travel reaches exactly as far back as a purge allows."""
    interval = f"interval {config.purge_retain_hours} hours"
    return {"delta.deletedFileRetentionDuration": interval, "delta.logRetentionDuration": interval}


def spec_of(name: str) -> TableSpec:
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown table '{name}'") from None


def table_path(config: Config, name: str) -> str:
    return config.table_path(spec_of(name).name)


def ensure_table(spark: SparkSession, config: Config, spec: TableSpec) -> None:
    """Create the table if it is missing, then add any constraint it lacks. Idempotent."""
    path = config.table_path(spec.name)
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(spec.schema)
    if spec.description:
        builder = builder.comment(spec.description)
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in {**TABLE_PROPERTIES, **history_properties(config)}.items():
        builder = builder.property(key, value)
    builder.execute()
    _add_missing_columns(spark, path, spec)
    if spec.constraints:
        existing = DeltaTable.forPath(spark, path).detail().first()
        properties = existing["properties"] if existing else {}
        for constraint, expression in spec.constraints.items():
            if f"delta.constraints.{constraint.lower()}" not in properties:
                spark.sql(f"ALTER TABLE {_table_sql(path)} ADD CONSTRAINT {constraint} CHECK ({expression})")


def _table_sql(path: str) -> str:
    """`delta.`<path>`` for the few statements the DeltaTable API lacks (REORG, ALTER TABLE);
    a backtick in the path is doubled, as Spark's SQL quoting wants."""
    return "delta.`" + path.replace("`", "``") + "`"


def _add_missing_columns(spark: SparkSession, path: str, spec: TableSpec) -> None:
    """A table made by an older chatlake gains the columns declared since (null in old rows):
    `createIfNotExists` leaves an existing table's schema as it is."""
    existing = {f.name for f in spark.read.format("delta").load(path).schema.fields}
    missing = [f for f in spec.schema.fields if f.name not in existing]
    if not missing:
        return
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
    spark.sql(f"ALTER TABLE {_table_sql(path)} ADD COLUMNS ({columns})")


def delta_table(spark: SparkSession, config: Config, name: str) -> DeltaTable:
    return DeltaTable.forPath(spark, table_path(config, name))


def read(spark: SparkSession, config: Config, name: str) -> DataFrame:
    return spark.read.format("delta").load(table_path(config, name))


def read_dates(spark: SparkSession, config: Config, name: str, date_keys: Sequence[int]) -> DataFrame:
    """The rows of the given date partitions only (partition pruning)."""
    return read(spark, config, name).where(F.col(DATE_PARTITION).isin(list(date_keys)))


def _ordered(df: DataFrame, spec: TableSpec) -> DataFrame:
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{spec.name}: frame lacks columns {missing}")
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in spec.schema.fields])


def replace_dates(df: DataFrame, config: Config, name: str, date_keys: Sequence[int]) -> None:
    """Atomically replace the given date partitions with `df` (which must lie inside them)."""
    if not date_keys:
        return
    spec = spec_of(name)
    keys = ", ".join(str(int(k)) for k in sorted(set(date_keys)))
    (
        _ordered(df, spec)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"{DATE_PARTITION} IN ({keys})")
        .save(config.table_path(spec.name))
    )


def overwrite(df: DataFrame, config: Config, name: str) -> None:
    spec = spec_of(name)
    _ordered(df, spec).write.format("delta").mode("overwrite").save(config.table_path(spec.name))


def append(df: DataFrame, config: Config, name: str) -> None:
    spec = spec_of(name)
    _ordered(df, spec).write.format("delta").mode("append").save(config.table_path(spec.name))


def is_date_partitioned(name: str) -> bool:
    return DATE_PARTITION in spec_of(name).partition_by


def dates_in(column: str, date_keys: Sequence[int]) -> str:
    """A literal `column IN (...)` over date keys: what lets Delta prune a MERGE's target to the
    partitions it can touch (a join condition alone makes it read every file)."""
    return f"{column} IN ({', '.join(str(int(k)) for k in sorted(set(date_keys)))})"


def distinct_dates(rows: DataFrame) -> list[int]:
    return sorted(int(row[DATE_PARTITION]) for row in rows.select(DATE_PARTITION).distinct().collect())


class _EveryDate:
    """`date_keys` of a MERGE that may touch any date (erasure: a user's rows can be anywhere)."""

    def __repr__(self) -> str:
        return "EVERY_DATE"


EVERY_DATE = _EveryDate()


def merge(
    spark: SparkSession,
    config: Config,
    name: str,
    source: DataFrame,
    key_columns: Sequence[str],
    *,
    date_keys: Sequence[int] | _EveryDate | None = None,
    condition: str | None = None,
    update: Mapping[str, str | Column] | None = None,
    update_condition: str | None = None,
    insert: Mapping[str, str | Column] | None = None,
    insert_all: bool = False,
    insert_condition: str | None = None,
    delete_matched: bool = False,
    match_within_dates: bool = False,
) -> None:
    """MERGE `source` (alias `s`) into table `name` (alias `t`) on equal `key_columns`.

    On a date-partitioned table the target is limited to `date_keys` by a literal predicate,
    so that Delta reads only those partitions; `date_keys` is then required, and rows of
    `source` outside them are never matched (with `match_within_dates`, a source row matches
    a target row of the same keys on any of `date_keys`, not only on its own date).
    `EVERY_DATE` says that the MERGE may touch any partition, on purpose. `condition` adds
    SQL over `t` and `s` to the match (e.g. a literal key list for data skipping).
    `update` / `insert` map target columns to SQL over `t` and `s`; `insert_all` inserts
    `source` as it is (conformed to the table)."""
    spec = spec_of(name)
    match = " AND ".join([*(f"t.{c} = s.{c}" for c in key_columns), *([condition] if condition else [])])
    if is_date_partitioned(name) and not isinstance(date_keys, _EveryDate):
        if date_keys is None:
            raise ValueError(f"MERGE into {name} needs the dates it can touch")
        if not date_keys:
            return
        same_date = (
            "" if DATE_PARTITION in key_columns or match_within_dates
            else f"t.{DATE_PARTITION} = s.{DATE_PARTITION} AND "
        )
        match = f"{dates_in(f't.{DATE_PARTITION}', date_keys)} AND {same_date}{match}"
    merger = delta_table(spark, config, name).alias("t").merge(
        (_ordered(source, spec) if insert_all else source).alias("s"), match
    )
    if update:
        merger = merger.whenMatchedUpdate(condition=update_condition, set=dict(update))
    if delete_matched:
        merger = merger.whenMatchedDelete(condition=update_condition)
    if insert_all:
        merger = merger.whenNotMatchedInsertAll(condition=insert_condition)
    elif insert and insert_condition:
        merger = merger.whenNotMatchedInsert(condition=insert_condition, values=dict(insert))
    elif insert:
        merger = merger.whenNotMatchedInsert(values=dict(insert))
    merger.execute()


def insert_new(
    spark: SparkSession,
    config: Config,
    name: str,
    df: DataFrame,
    key_columns: Sequence[str],
    date_keys: Sequence[int] | None = None,
) -> None:
    """Add the rows whose key is not in the table yet and leave the rest alone.

    This is an insert-only MERGE, which Delta runs as an anti-join against the target (pruned to
    `date_keys` on a date-partitioned table; the source's own dates when not given) followed by
    an append. A plain append after our own anti-join would be cheaper by a commit's checks, but
    Delta never refuses a blind append: two runs of the same day at once would both add the
    rows, where the MERGE lets one through and makes the other start again."""
    if is_date_partitioned(name) and date_keys is None:
        date_keys = distinct_dates(df)
    merge(spark, config, name, df, key_columns, date_keys=date_keys, insert_all=True)


def conformed(df: DataFrame, name: str) -> DataFrame:
    """`df` with exactly the table's columns, in order and with its types."""
    return _ordered(df, spec_of(name))


def replace_where(df: DataFrame, config: Config, name: str, predicate: str) -> None:
    """Atomically replace the rows matching `predicate` with `df` (whose rows must match it)."""
    spec = spec_of(name)
    (
        _ordered(df, spec)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        .save(config.table_path(spec.name))
    )


def update_matching(
    spark: SparkSession,
    config: Config,
    name: str,
    changes: DataFrame,
    key_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """MERGE that sets `update_columns` of the rows whose key matches a row of `changes`."""
    condition = " AND ".join(f"t.{c} = s.{c}" for c in key_columns)
    (
        delta_table(spark, config, name)
        .alias("t")
        .merge(changes.alias("s"), condition)
        .whenMatchedUpdate(set={c: f"s.{c}" for c in update_columns})
        .execute()
    )


def zorder_dates(spark: SparkSession, config: Config, name: str, date_keys: Sequence[int], column: str) -> int:
    """Rewrite the given date partitions sorted by `column` (Z-order on one column), so that the
    column's statistics rule out most files for one value. Returns the files written."""
    metrics = (
        delta_table(spark, config, name)
        .optimize()
        .where(dates_in(DATE_PARTITION, date_keys))
        .executeZOrderBy(column)
        .first()
    )
    return int(metrics["metrics"]["numFilesAdded"]) if metrics else 0


def last_operation_metrics(spark: SparkSession, config: Config, name: str, operations: set[str]) -> dict[str, int]:
    """The metrics of the table's latest commit if it was one of `operations`, else empty."""
    latest = delta_table(spark, config, name).history(1).select("operation", "operationMetrics").first()
    if latest is None or latest["operation"] not in operations:
        return {}
    return {key: int(value) for key, value in (latest["operationMetrics"] or {}).items()}


def file_count(spark: SparkSession, config: Config, name: str) -> int:
    detail = delta_table(spark, config, name).detail().select("numFiles").first()
    return int(detail["numFiles"]) if detail else 0


def delete_where(spark: SparkSession, config: Config, name: str, predicate: str) -> int:
    """Delete the rows matching `predicate` (on a date-partitioned table, a predicate on the
    date column drops whole files); returns how many rows went."""
    table = delta_table(spark, config, name)
    doomed = table.toDF().where(predicate).count()
    if doomed:
        table.delete(predicate)
    return doomed


def purge_deleted_rows(spark: SparkSession, config: Config, name: str) -> None:
    """Rewrite the files that carry deletion vectors without the rows they mark."""
    spark.sql(f"REORG TABLE {_table_sql(table_path(config, name))} APPLY (PURGE)")


def vacuum(spark: SparkSession, config: Config, name: str, retain_hours: int) -> None:
    """Remove the files that no version within `retain_hours` needs."""
    delta_table(spark, config, name).vacuum(float(retain_hours))


def set_properties(spark: SparkSession, config: Config, name: str, properties: Mapping[str, str]) -> None:
    assignments = ", ".join(f"'{key}' = '{value}'" for key, value in properties.items())
    spark.sql(f"ALTER TABLE {_table_sql(table_path(config, name))} SET TBLPROPERTIES ({assignments})")


def unset_properties(spark: SparkSession, config: Config, name: str, keys: Sequence[str]) -> None:
    listed = ", ".join(f"'{key}'" for key in keys)
    spark.sql(f"ALTER TABLE {_table_sql(table_path(config, name))} UNSET TBLPROPERTIES ({listed})")


def drop_log_before_checkpoint(spark: SparkSession, config: Config, name: str) -> int:
    """Delete the commit, checksum and checkpoint files of versions before the table's newest
    checkpoint, which alone describes the table from there on. Returns how many files went."""
    log = f"{table_path(config, name).rstrip('/')}/{LOG_DIR}"
    pointer = filesystem.read_text(spark, f"{log}/_last_checkpoint")
    if pointer is None:
        return 0
    checkpoint_version = int(json.loads(pointer)["version"])
    dropped = 0
    for path in filesystem.list_files(spark, log):
        match = VERSIONED_LOG_FILE.match(path.rsplit("/", 1)[-1])
        if match and int(match.group(1)) < checkpoint_version:
            filesystem.delete(spark, path)
            dropped += 1
    return dropped
