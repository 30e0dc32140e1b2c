"""Experiment assignments from conversation metadata (analytics.md): both forms, how they
combine, and malformed entries that assign nothing but are counted; on frames built here."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.experiments import assignment_entries, experiment_assignments, malformed_entries
from schemas.tables import DIM_EXPERIMENT_ASSIGNMENTS
from tests.experiment_reference import assignments_of

CREATED = dt.datetime(2026, 11, 1, 9, 30, 0, 123456)
METADATA = {
    1: '{"experiments": {"compose": "control", "groups": "big"}}',
    2: '{"experiment": "compose_v2"}',
    3: '{"experiment": "groups", "experiments": {"compose": "treatment_b"}}',
    # both name the same experiment: the explicit variant wins
    4: '{"experiment": "compose", "experiments": {"compose": "control"}}',
    # a number, a null, an object and a list as variants; one good entry still counts
    5: '{"experiments": {"a": 1, "b": null, "c": {"v": "x"}, "d": ["x"], "ok": "treatment"}}',
    6: '{"experiments": "compose", "experiment": "groups"}',
    7: '{"experiments": ["compose"], "experiment": 7}',
    8: '{"experiment": null, "experiments": null, "origin": "share_link"}',
    9: '"just a string"',
    10: '{"experiment": true}',
    11: None,
    12: '{"experiments": {}}',
    13: '{"experiment": "", "experiments": {"x": ""}}',
}
EXPECTED_ASSIGNMENTS = [
    (1, "compose", "control"), (1, "groups", "big"),
    (2, "compose_v2", "treatment"),
    (3, "compose", "treatment_b"), (3, "groups", "treatment"),
    (4, "compose", "control"),
    (5, "ok", "treatment"),
    (6, "groups", "treatment"),
    (13, "", "treatment"), (13, "x", ""),
]
# 5: four bad variants; 6: experiments not an object; 7: both forms bad; 9: not an object; 10
EXPECTED_MALFORMED = 4 + 1 + 2 + 1 + 1


def conversations(spark: SparkSession) -> DataFrame:
    rows = [(key, CREATED, text) for key, text in METADATA.items()]
    return spark.createDataFrame(
        rows, "conversation_key long, created_timestamp timestamp, conversation_metadata string"
    )


def test_assignments_follow_both_forms_and_skip_malformed_entries(spark: SparkSession) -> None:
    entries = assignment_entries(conversations(spark))
    actual = experiment_assignments(entries)
    expected = spark.createDataFrame(
        [(key, experiment, variant, CREATED) for key, experiment, variant in EXPECTED_ASSIGNMENTS],
        DIM_EXPERIMENT_ASSIGNMENTS.schema,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    assert malformed_entries(entries).count() == EXPECTED_MALFORMED


def test_the_python_reference_agrees_on_the_same_metadata() -> None:
    """The tests' independent reference reads these cases as the job does."""
    assigned = {
        (key, experiment, variant)
        for key, text in METADATA.items() if text is not None
        for experiment, variant in assignments_of(text)[0].items()
    }
    assert assigned == set(EXPECTED_ASSIGNMENTS)
    assert sum(assignments_of(text)[1] for text in METADATA.values() if text is not None) == EXPECTED_MALFORMED


def test_a_conversation_without_creation_time_assigns_nothing(spark: SparkSession) -> None:
    frame = conversations(spark).withColumn("created_timestamp", F.lit(None).cast("timestamp"))
    assert assignment_entries(frame).count() == 0
