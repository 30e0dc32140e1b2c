"""spark-submit.sh and the command line: help, usage errors, one-line failures, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "spark-submit.sh"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    # spark-submit hands the Python driver's stderr to its own stdout.
    return (result.stdout + result.stderr).splitlines()


def test_help_lists_every_contract_command() -> None:
    result = run_script("--help")
    assert result.returncode == 0
    for command in ("nightly", "ingest", "topics", "aggregate", "retention", "delete-users", "purge",
                    "generate", "demo", "report", "backfill", "stream"):
        assert command in result.stdout


def test_missing_required_argument_is_one_line_usage_error() -> None:
    result = run_script("ingest")
    assert result.returncode == 2
    assert (
        "chatlake: spark-submit.sh ingest: the following arguments are required: --date (see --help)"
    ) in output_lines(result)


def test_unknown_command_fails() -> None:
    result = run_script("frobnicate")
    assert result.returncode == 2
    assert any("invalid choice: 'frobnicate'" in line for line in output_lines(result))


def test_bad_config_fails_before_spark_starts(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("landing_path: /x\n")
    # serve and serve --stop read the config before Spark (or Trino) too.
    for command in (["ingest", "--date", "2026-11-01"], ["serve"], ["serve", "--stop"]):
        result = run_script(*command, "--conf", str(config))
        assert result.returncode == 2, command
        assert (
            "chatlake: config key 'warehouse_path' is missing (or set CHATLAKE_WAREHOUSE_PATH)"
        ) in output_lines(result), command


def test_spark_submit_options_pass_through() -> None:
    # --driver-memory belongs to spark-submit: the job's own parser never sees it.
    result = run_script("ingest", "--driver-memory", "1g")
    assert result.returncode == 2
    assert (
        "chatlake: spark-submit.sh ingest: the following arguments are required: --date (see --help)"
    ) in output_lines(result)


def test_cluster_deploy_mode_is_refused_with_the_reason() -> None:
    result = run_script("nightly", "--date", "2026-11-01", "--master", "yarn", "--deploy-mode", "cluster")
    assert result.returncode == 2
    assert output_lines(result) == [
        "chatlake: --deploy-mode cluster is not supported: the driver reads --conf and the topic keywords "
        "from this checkout; submit in client mode (the default)"
    ]
