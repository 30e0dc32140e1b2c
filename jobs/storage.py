"""The only code that touches Delta: create tables, read them, and write with MERGE,
replaceWhere or overwrite. Tables live at `<warehouse_path>/<table_name>`."""

from __future__ import annotations

from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import Config
from schemas.tables import DATE_PARTITION, TABLES_BY_NAME, TableSpec

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
                spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {constraint} CHECK ({expression})")


def _add_missing_columns(spark: SparkSession, path: str, spec: TableSpec) -> None:
    """A table made by an older chatlake gains the columns declared since (null in old rows):
    `createIfNotExists` leaves an existing table's schema as it is."""
    existing = {f.name for f in spark.read.format("delta").load(path).schema.fields}
    missing = [f for f in spec.schema.fields if f.name not in existing]
    if not missing:
        return
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
    spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")


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


def insert_new(
    spark: SparkSession, config: Config, name: str, df: DataFrame, key_columns: Sequence[str]
) -> None:
    """MERGE that inserts rows whose key is not in the table yet and leaves the rest alone."""
    spec = spec_of(name)
    condition = " AND ".join(f"t.{c} = s.{c}" for c in key_columns)
    if spec.partition_by and DATE_PARTITION in spec.partition_by and DATE_PARTITION not in key_columns:
        condition = f"t.{DATE_PARTITION} = s.{DATE_PARTITION} AND {condition}"
    (
        delta_table(spark, config, name)
        .alias("t")
        .merge(_ordered(df, spec).alias("s"), condition)
        .whenNotMatchedInsertAll()
        .execute()
    )


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
