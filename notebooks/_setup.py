"""What both notebooks start with: the project's config and Delta jars, found from env vars.

CHATLAKE_CONF  the YAML config; default ../conf/local.yaml. A relative path is taken from this
               folder, and relative paths inside the config from the repository root, exactly
               as when ./spark-submit.sh runs there.
CHATLAKE_JARS  comma-separated Delta jars; default every jar in ../.jars (made by setup).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
REPO = NOTEBOOKS.parent
CONF_ENV = "CHATLAKE_CONF"
DEFAULT_CONF = "../conf/local.yaml"

# A kernel started outside the project's .venv still finds jobs/ and schemas/.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from delta.tables import DeltaTable  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from jobs.config import Config, load_config  # noqa: E402
from jobs.session import JARS_ENV  # noqa: E402

# The notebooks' name for a date_key's date; its one definition is in schemas/tables.py.
from schemas.tables import day_of as date_of_key  # noqa: E402, F401


def use_project_jars() -> None:
    """Point $CHATLAKE_JARS at ../.jars unless it is set already (build_session reads it)."""
    if os.environ.get(JARS_ENV):
        return
    jars = sorted(str(p) for p in (REPO / ".jars").glob("*.jar"))
    if not jars:
        raise RuntimeError(f"no Delta jars in {REPO / '.jars'}: run ./spark-submit.sh setup, or set {JARS_ENV}")
    os.environ[JARS_ENV] = ",".join(jars)


def config_from_env() -> Config:
    """The config named by $CHATLAKE_CONF, its relative paths read from the repository root."""
    path = (NOTEBOOKS / os.environ.get(CONF_ENV, DEFAULT_CONF)).resolve()
    with contextlib.chdir(REPO):
        config = load_config(path)
    print(f"config:    {path}\nwarehouse: {config.warehouse_path}")
    return config


def optional_table(spark: SparkSession, config: Config, name: str) -> DataFrame | None:
    """The table, or None with a printed line saying why when it is absent or empty.

    Tables added after a warehouse was built (pipeline_runs, for one) may not be there yet."""
    path = config.table_path(name)
    if not DeltaTable.isDeltaTable(spark, path):
        print(f"No {name} table at {path}: nothing to show.")
        return None
    table = spark.read.format("delta").load(path)
    if table.isEmpty():
        print(f"The {name} table at {path} is empty: nothing to show.")
        return None
    return table
