"""Config: the contract's keys, env overrides, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import ConfigError, HistorySampling, load_config, parse_config
from tests.conftest import REPO

MINIMAL = {"landing_path": "/data/landing", "warehouse_path": "/data/warehouse"}


def test_shipped_configs_load() -> None:
    local = load_config(REPO / "conf" / "local.yaml", environ={})
    cluster = load_config(REPO / "conf" / "cluster.yaml", environ={})
    assert local.landing_path == str((Path.cwd() / "data" / "landing").resolve())
    assert local.topics.sample_rate == 0.25
    assert local.retention_days["quarantine"] == 30
    assert cluster.spark.shuffle_partitions == 200


def test_contract_keys_are_read() -> None:
    config = parse_config(
        {
            **MINIMAL,
            "topics": {"sample_rate": 0.5, "sample_rate_by_type": {"channel": 0.1}},
            "late_data_days": 5,
            "purge_retain_hours": 0,
            "retention_days": {"landing": 7, "fact_user_metrics": 0, "fact_activity_rollups": 3650},
            "history_sampling": {"full_days": 30, "conversation_rate": 0.1},
        },
        environ={},
    )
    assert config.history_sampling == HistorySampling(full_days=30, conversation_rate=0.1)
    assert (config.topics.rate_for("group"), config.topics.rate_for("channel")) == (0.5, 0.1)
    assert (config.late_data_days, config.purge_retain_hours) == (5, 0)
    assert config.retention_days == {"landing": 7, "fact_user_metrics": 0, "fact_activity_rollups": 3650}
    assert config.table_path("dim_users") == "/data/warehouse/dim_users"


def test_environment_overrides_paths() -> None:
    config = parse_config(
        MINIMAL, environ={"CHATLAKE_LANDING_PATH": "s3a://in/x", "CHATLAKE_WAREHOUSE_PATH": "/elsewhere"}
    )
    assert (config.landing_path, config.warehouse_path) == ("s3a://in/x", "/elsewhere")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"warehouse_path": "/w"}, "config key 'landing_path' is missing"),
        ({**MINIMAL, "late_data_days": "three"}, "config key 'late_data_days' must be a whole number"),
        ({**MINIMAL, "late_data_days": True}, "config key 'late_data_days' must be a whole number"),
        ({**MINIMAL, "late_data_days": -1}, "config key 'late_data_days' must be 0 or more"),
        ({**MINIMAL, "topics": {"sample_rate": 1.5}}, "config key 'topics.sample_rate' must be in (0, 1]"),
        ({**MINIMAL, "topics": {"sample_rat": 0.1}}, "config key 'topics.sample_rat' is not known"),
        ({**MINIMAL, "retention_days": {"landng": 7}}, "config key 'retention_days.landng' is not one of"),
        ({**MINIMAL, "warehouse": "/w"}, "config key 'warehouse' is not known"),
        ({**MINIMAL, "topics": {"sample_rate_by_type": {"dm": 0.1}}}, "config key 'topics.sample_rate_by_type.dm'"),
        ({**MINIMAL, "history_sampling": {"full_days": 30}},
         "config key 'history_sampling.conversation_rate' is missing"),
        ({**MINIMAL, "history_sampling": {"full_days": 30, "conversation_rate": 0}},
         "config key 'history_sampling.conversation_rate' must be in (0, 1]"),
        ({**MINIMAL, "history_sampling": {"full_days": 3, "conversation_rate": 0.1}},
         "config key 'history_sampling.full_days' must be more than late_data_days (3)"),
        ({**MINIMAL, "history_sampling": {"full_day": 30, "conversation_rate": 0.1}},
         "config key 'history_sampling.full_day' is not known"),
    ],
)
def test_bad_config_names_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw, environ={})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("landing_path: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(broken)
