"""The floor: the least any Spark pipeline must spend on a landing day.

    .venv/bin/python bench/floor.py --conf CONF --date D --target PATH

Reads the `.json` / `.json.gz` files of `dt=D` with the explicit raw schema of
schemas/raw_events.py (nothing inferred) and writes them once to a Delta table at --target:
no validation, dedup, join or aggregate. One change, because message text may never be
stored (not even in a benchmark's scratch table): `text` is read and written as its length,
`text_length`, so the text is still parsed but never lands on disk.

The session is the project's own (jobs.session.build_session with the same config as the
jobs), so the floor pays the same start-up and settings. Prints one JSON line: the seconds of
the read-and-write, the rows and files written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from delta.tables import DeltaTable  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from jobs.config import load_config  # noqa: E402
from jobs.landing import landing_files  # noqa: E402
from jobs.session import build_session  # noqa: E402
from schemas import raw_events as raw  # noqa: E402

SPARK_TYPES: dict[str, T.DataType] = {
    raw.JSON_STRING: T.StringType(),
    raw.JSON_INT: T.LongType(),
    raw.JSON_BOOL: T.BooleanType(),
    # free-form objects (metadata, preferences): Spark keeps an object's JSON text as a string
    raw.JSON_OBJECT: T.StringType(),
}
DEVICE = "device"
TEXT = "text"


def raw_schema() -> T.StructType:
    """The raw line as a StructType, fields named by their JSON path; `device` a struct."""
    device = T.StructType([
        T.StructField(spec.path.split(".", 1)[1], SPARK_TYPES[spec.json_type])
        for spec in raw.DEVICE_FIELDS
    ])
    fields: dict[str, T.StructField] = {}
    for spec in (*raw.COMMON_FIELDS, *(s for f in raw.EVENT_FIELDS.values() for s in f)):
        data_type = device if spec.path == DEVICE else SPARK_TYPES[spec.json_type]
        fields.setdefault(spec.path, T.StructField(spec.path, data_type))
    return T.StructType(list(fields.values()))


def landing_events(spark: SparkSession, files: list[str]) -> DataFrame:
    return (
        spark.read.schema(raw_schema()).json(files)
        # the one change: text is never stored, so its length stands in for it
        .withColumn("text_length", F.length(TEXT))
        .drop(TEXT)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conf", required=True)
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--target", required=True, help="path of the Delta table to (over)write")
    args = parser.parse_args(argv)
    config = load_config(args.conf)
    session_started = time.perf_counter()
    spark = build_session(config, app_name="chatlake-bench-floor")
    files = landing_files(spark, config, args.date)
    started = time.perf_counter()
    landing_events(spark, files).write.format("delta").mode("overwrite").save(args.target)
    seconds = time.perf_counter() - started
    last = DeltaTable.forPath(spark, args.target).history(1).select("operationMetrics").first()
    metrics = (last["operationMetrics"] if last else None) or {}
    print(json.dumps({
        "seconds": seconds,
        "session_seconds": started - session_started,
        "input_files": len(files),
        "rows": int(metrics.get("numOutputRows", 0)),
        "files_written": int(metrics.get("numFiles", 0)),
    }))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
