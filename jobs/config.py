"""The one place chatlake's YAML config is read and checked.

A config is loaded from an explicit path (never searched for), checked key by key, and
turned into a frozen `Config`. Any problem raises `ConfigError` whose message names the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from schemas.raw_events import CONVERSATION_TYPES

LANDING_ENV = "CHATLAKE_LANDING_PATH"
WAREHOUSE_ENV = "CHATLAKE_WAREHOUSE_PATH"

RETENTION_ENTRIES = (
    "landing",
    "fact_message_events",
    "fact_message_derived_topics",
    "fact_conversation_metrics",
    "fact_user_metrics",
    "fact_activity_rollups",
    "quarantine",
    "access_audit",
)
TOPIC_METHODS = ("keywords",)

KNOWN_TOP_LEVEL_KEYS = {
    "landing_path",
    "warehouse_path",
    "topics",
    "late_data_days",
    "purge_retain_hours",
    "retention_days",
    "future_tolerance_hours",
    "spark",
    "erasure",
    "stream",
    "history_sampling",
    "access",
}
STREAM_SOURCES = ("files", "kafka")
# <warehouse_path>/<this>: the stream's checkpoint unless stream.checkpoint_path says otherwise.
DEFAULT_CHECKPOINT_DIR = "_checkpoints/stream"


class ConfigError(ValueError):
    """A config that cannot be used; the message names the offending key."""


@dataclass(frozen=True)
class TopicsConfig:
    sample_rate: float = 0.25
    sample_rate_by_type: dict[str, float] = field(default_factory=dict)
    method: str = "keywords"
    keywords_file: str = "conf/topics/keywords.yaml"

    def rate_for(self, conversation_type: str | None) -> float:
        if conversation_type is None:
            return self.sample_rate
        return self.sample_rate_by_type.get(conversation_type, self.sample_rate)


@dataclass(frozen=True)
class HistorySampling:
    """Dates older than `full_days` before retention's --as-of keep a `conversation_rate` sample
    of conversations in fact_message_events and fact_message_derived_topics."""

    full_days: int
    conversation_rate: float


@dataclass(frozen=True)
class SparkConfig:
    master: str | None = None
    shuffle_partitions: int = 4
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamConfig:
    """`./spark-submit.sh stream` (contract: operations.md "The real-time stream")."""

    source: str = "files"
    trigger_seconds: int = 20
    watermark_minutes: int = 10
    checkpoint_path: str | None = None  # None: <warehouse_path>/_checkpoints/stream
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic: str = "chatlake-events"


@dataclass(frozen=True)
class AccessConfig:
    """`./spark-submit.sh serve` (contract: operations.md "Access to the data")."""

    host: str = "127.0.0.1"
    port: int = 8443
    users_file: str = "conf/access/users.txt"
    groups_file: str = "conf/access/groups.txt"
    support_scope_file: str = "conf/access/support_scope.csv"
    policy_file: str = "conf/access/policy.yaml"


@dataclass(frozen=True)
class Config:
    landing_path: str
    warehouse_path: str
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    late_data_days: int = 3
    purge_retain_hours: int = 168
    retention_days: dict[str, int] = field(default_factory=dict)
    future_tolerance_hours: int = 24
    spark: SparkConfig = field(default_factory=SparkConfig)
    history_sampling: HistorySampling | None = None
    # Secret for the keyed hash of erased user ids (tombstones, erasure log).
    erasure_hash_key: str = "chatlake-default-erasure-key"
    stream: StreamConfig = field(default_factory=StreamConfig)
    access: AccessConfig = field(default_factory=AccessConfig)

    @property
    def stream_checkpoint_path(self) -> str:
        return self.stream.checkpoint_path or f"{self.warehouse_path.rstrip('/')}/{DEFAULT_CHECKPOINT_DIR}"

    def table_path(self, table_name: str) -> str:
        return f"{self.warehouse_path.rstrip('/')}/{table_name}"

    def landing_day_path(self, day: str) -> str:
        return f"{self.landing_path.rstrip('/')}/dt={day}"


def _expect(value: Any, types: type | tuple[type, ...], key: str, what: str) -> Any:
    # bool is an int in Python; a YAML `true` must not pass for a number.
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"config key '{key}' must be {what}, got {value!r}")
    if not isinstance(value, types):
        raise ConfigError(f"config key '{key}' must be {what}, got {value!r}")
    return value


def _non_negative_int(raw: dict[str, Any], key: str, default: int, prefix: str = "") -> int:
    value = raw.get(key, default)
    _expect(value, int, prefix + key, "a whole number")
    if value < 0:
        raise ConfigError(f"config key '{prefix}{key}' must be 0 or more, got {value}")
    return int(value)


def _rate(value: Any, key: str) -> float:
    _expect(value, (int, float), key, "a number between 0 and 1")
    if not 0 < float(value) <= 1:
        raise ConfigError(f"config key '{key}' must be in (0, 1], got {value}")
    return float(value)


def _topics(raw: Any) -> TopicsConfig:
    if raw is None:
        return TopicsConfig()
    _expect(raw, dict, "topics", "a mapping")
    unknown = set(raw) - {"sample_rate", "sample_rate_by_type", "method", "keywords_file"}
    if unknown:
        raise ConfigError(f"config key 'topics.{sorted(unknown)[0]}' is not known")
    by_type_raw = raw.get("sample_rate_by_type") or {}
    _expect(by_type_raw, dict, "topics.sample_rate_by_type", "a mapping of type to rate")
    by_type = {}
    for type_name, rate in by_type_raw.items():
        key = f"topics.sample_rate_by_type.{type_name}"
        if type_name not in CONVERSATION_TYPES:
            raise ConfigError(f"config key '{key}' is not a conversation type {CONVERSATION_TYPES}")
        by_type[type_name] = _rate(rate, key)
    method = raw.get("method", "keywords")
    if method not in TOPIC_METHODS:
        raise ConfigError(f"config key 'topics.method' must be one of {TOPIC_METHODS}, got {method!r}")
    keywords_file = raw.get("keywords_file", TopicsConfig.keywords_file)
    _expect(keywords_file, str, "topics.keywords_file", "a path")
    return TopicsConfig(
        keywords_file=_absolute(keywords_file),
        sample_rate=_rate(raw.get("sample_rate", 0.25), "topics.sample_rate"),
        sample_rate_by_type=by_type,
        method=method,
    )


def _retention(raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    _expect(raw, dict, "retention_days", "a mapping of entry to days")
    retention = {}
    for entry, _days in raw.items():
        if entry not in RETENTION_ENTRIES:
            raise ConfigError(
                f"config key 'retention_days.{entry}' is not one of {', '.join(RETENTION_ENTRIES)}"
            )
        retention[entry] = _non_negative_int(raw, entry, 0, "retention_days.")
    return retention


def _history_sampling(raw: Any, late_data_days: int) -> HistorySampling | None:
    if raw is None:
        return None
    _expect(raw, dict, "history_sampling", "a mapping")
    unknown = set(raw) - {"full_days", "conversation_rate"}
    if unknown:
        raise ConfigError(f"config key 'history_sampling.{sorted(unknown)[0]}' is not known")
    for key in ("full_days", "conversation_rate"):
        if key not in raw:
            raise ConfigError(f"config key 'history_sampling.{key}' is missing")
    full_days = _non_negative_int(raw, "full_days", 0, "history_sampling.")
    # aggregate re-reads the late window and the day before it; none of those may be sampled.
    if full_days <= late_data_days:
        raise ConfigError(
            f"config key 'history_sampling.full_days' must be more than late_data_days ({late_data_days}),"
            f" got {full_days}"
        )
    return HistorySampling(full_days, _rate(raw["conversation_rate"], "history_sampling.conversation_rate"))


def _spark(raw: Any) -> SparkConfig:
    if raw is None:
        return SparkConfig()
    _expect(raw, dict, "spark", "a mapping")
    master = raw.get("master")
    if master is not None:
        _expect(master, str, "spark.master", "a Spark master URL")
    settings = raw.get("settings") or {}
    _expect(settings, dict, "spark.settings", "a mapping of spark.* keys to values")
    partitions = raw.get("shuffle_partitions", 4)
    _expect(partitions, int, "spark.shuffle_partitions", "a whole number")
    if partitions < 1:
        raise ConfigError("config key 'spark.shuffle_partitions' must be 1 or more")
    return SparkConfig(
        master=master,
        shuffle_partitions=partitions,
        settings={str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()},
    )


def _stream(raw: Any) -> StreamConfig:
    if raw is None:
        return StreamConfig()
    _expect(raw, dict, "stream", "a mapping")
    unknown = set(raw) - {"source", "trigger_seconds", "watermark_minutes", "checkpoint_path", "kafka"}
    if unknown:
        raise ConfigError(f"config key 'stream.{sorted(unknown)[0]}' is not known")
    source = raw.get("source", StreamConfig.source)
    if source not in STREAM_SOURCES:
        raise ConfigError(f"config key 'stream.source' must be one of {STREAM_SOURCES}, got {source!r}")
    trigger = _non_negative_int(raw, "trigger_seconds", StreamConfig.trigger_seconds, "stream.")
    if trigger < 1:
        raise ConfigError("config key 'stream.trigger_seconds' must be 1 or more")
    checkpoint = raw.get("checkpoint_path")
    if checkpoint is not None:
        checkpoint = _absolute(_expect(checkpoint, str, "stream.checkpoint_path", "a path"))
    kafka = raw.get("kafka") or {}
    _expect(kafka, dict, "stream.kafka", "a mapping")
    unknown = set(kafka) - {"bootstrap_servers", "topic"}
    if unknown:
        raise ConfigError(f"config key 'stream.kafka.{sorted(unknown)[0]}' is not known")
    servers = _expect(kafka.get("bootstrap_servers", StreamConfig.kafka_bootstrap_servers), str,
                      "stream.kafka.bootstrap_servers", "host:port[,host:port]")
    topic = _expect(kafka.get("topic", StreamConfig.kafka_topic), str, "stream.kafka.topic", "a topic name")
    return StreamConfig(
        source=source,
        trigger_seconds=trigger,
        watermark_minutes=_non_negative_int(raw, "watermark_minutes", StreamConfig.watermark_minutes, "stream."),
        checkpoint_path=checkpoint,
        kafka_bootstrap_servers=servers,
        kafka_topic=topic,
    )


def _access(raw: Any) -> AccessConfig:
    raw = {} if raw is None else _expect(raw, dict, "access", "a mapping")
    files = ("users_file", "groups_file", "support_scope_file", "policy_file")
    unknown = set(raw) - {"host", "port", *files}
    if unknown:
        raise ConfigError(f"config key 'access.{sorted(unknown)[0]}' is not known")
    port = _non_negative_int(raw, "port", AccessConfig.port, "access.")
    if not 0 < port < 65536:
        raise ConfigError(f"config key 'access.port' must be a TCP port (1-65535), got {port}")
    host = _expect(raw.get("host", AccessConfig.host), str, "access.host", "a host name or address")
    paths = {
        key: _absolute(_expect(raw.get(key, getattr(AccessConfig, key)), str, f"access.{key}", "a path"))
        for key in files
    }
    return AccessConfig(host=host, port=port, **paths)


def _absolute(path: str) -> str:
    """Local paths relative to the working directory become absolute (Delta's SQL needs that);
    URLs such as s3a://bucket/x stay as they are."""
    if "://" in path or path.startswith("file:"):
        return path
    return str(Path(path).expanduser().resolve())


def parse_config(raw: Any, environ: dict[str, str] | None = None) -> Config:
    """Check a parsed YAML document and build a Config; env overrides the two paths."""
    environ = dict(os.environ) if environ is None else environ
    if not isinstance(raw, dict):
        raise ConfigError("config must be a YAML mapping of keys to values")
    for key in raw:
        if key not in KNOWN_TOP_LEVEL_KEYS:
            raise ConfigError(f"config key '{key}' is not known (typo?)")
    paths = {}
    for key, env_name in (("landing_path", LANDING_ENV), ("warehouse_path", WAREHOUSE_ENV)):
        value = environ.get(env_name) or raw.get(key)
        if value is None:
            raise ConfigError(f"config key '{key}' is missing (or set {env_name})")
        paths[key] = _absolute(_expect(value, str, key, "a path"))
    erasure = raw.get("erasure") or {}
    _expect(erasure, dict, "erasure", "a mapping")
    hash_key = environ.get("CHATLAKE_ERASURE_HASH_KEY") or erasure.get("hash_key")
    late_data_days = _non_negative_int(raw, "late_data_days", 3)
    return Config(
        landing_path=paths["landing_path"],
        warehouse_path=paths["warehouse_path"],
        topics=_topics(raw.get("topics")),
        late_data_days=late_data_days,
        purge_retain_hours=_non_negative_int(raw, "purge_retain_hours", 168),
        retention_days=_retention(raw.get("retention_days")),
        future_tolerance_hours=_non_negative_int(raw, "future_tolerance_hours", 24),
        spark=_spark(raw.get("spark")),
        stream=_stream(raw.get("stream")),
        access=_access(raw.get("access")),
        history_sampling=_history_sampling(raw.get("history_sampling"), late_data_days),
        **({"erasure_hash_key": str(hash_key)} if hash_key else {}),
    )


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read and check the YAML config at `path`."""
    config_path = Path(path)
    if not config_path.is_file():
        raise ConfigError(f"config file '{config_path}' does not exist")
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"config file '{config_path}' is not valid YAML: {error}") from None
    return parse_config(raw, environ)
