"""Where the harness finds the repository, the CLI, the config it starts from and its results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
RESULTS_DIR = BENCH / "results"
RESULTS_MD = BENCH / "RESULTS.md"
SPARK_SUBMIT = REPO / "spark-submit.sh"
LOCAL_CONF = REPO / "conf" / "local.yaml"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
DEFAULT_WORKDIR = REPO / "data" / "bench"
DEFAULT_START = dt.date(2026, 3, 1)
