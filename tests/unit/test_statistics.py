"""report experiments' statistics from exact sums, against the same tests run on the raw
observations (SciPy's ttest_ind and t interval) and against the textbook z and Wilson formulas."""

from __future__ import annotations

import math
import statistics as py_statistics
from decimal import Decimal

import pytest
from pyspark.sql import Row
from scipy import stats

from jobs import statistics
from jobs.report import experiment_rows

TREATMENT = [3.5, 12.25, 7.0, 0.75, 44.0, 9.5, 18.0, 2.25]
CONTROL = [14.0, 22.5, 31.75, 8.0, 19.5, 27.25, 40.0, 11.0, 16.5]


def sample_of(values: list[float]) -> statistics.Sample:
    return statistics.Sample(len(values), sum(Decimal(str(v)) for v in values),
                             sum(Decimal(str(v)) ** 2 for v in values))


def test_mean_interval_equals_the_t_interval_of_the_raw_values() -> None:
    mean, std = py_statistics.mean(TREATMENT), py_statistics.stdev(TREATMENT)
    expected = stats.t.interval(0.95, len(TREATMENT) - 1, loc=mean, scale=std / math.sqrt(len(TREATMENT)))
    assert statistics.mean_interval(sample_of(TREATMENT)) == pytest.approx(expected, rel=1e-12)
    assert sample_of(TREATMENT).mean == pytest.approx(mean, rel=1e-15)


def test_welch_from_sums_equals_welch_on_the_raw_values() -> None:
    expected = stats.ttest_ind(TREATMENT, CONTROL, equal_var=False).pvalue
    assert statistics.welch_p_value(sample_of(TREATMENT), sample_of(CONTROL)) == pytest.approx(expected, rel=1e-9)


def test_two_proportion_p_value_is_the_pooled_z_test() -> None:
    x1, n1, x2, n2 = 420, 1000, 380, 1000
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    expected = math.erfc(abs(z) / math.sqrt(2))
    assert statistics.two_proportion_p_value(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-9)


def test_rate_interval_is_wilsons() -> None:
    successes, trials, z = 37, 120, stats.norm.ppf(0.975)
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
    assert statistics.rate_interval(successes, trials) == pytest.approx((centre - half, centre + half), rel=1e-9)


def test_what_cannot_be_computed_is_none() -> None:
    single = statistics.Sample(1, 5, 25)
    constant = statistics.Sample(3, 6, 12)
    assert statistics.mean_interval(single) == (None, None)
    assert statistics.mean_interval(constant) == (2.0, 2.0)
    assert statistics.welch_p_value(single, sample_of(CONTROL)) is None
    assert statistics.welch_p_value(constant, constant) is None
    assert statistics.rate_interval(0, 0) == (None, None)
    assert statistics.two_proportion_p_value(0, 10, 0, 12) is None
    assert statistics.two_proportion_p_value(3, 0, 1, 12) is None


def clustered_of(clusters: list[list[float]]) -> statistics.ClusteredSample:
    totals = [sum((Decimal(str(v)) for v in values), Decimal(0)) for values in clusters]
    return statistics.ClusteredSample(
        len(clusters), sum(len(values) for values in clusters), sum(totals),
        sum(len(values) ** 2 for values in clusters),
        sum(len(values) * total for values, total in zip(clusters, totals, strict=True)), sum(t * t for t in totals))


def cluster_robust(clusters: list[list[float]]) -> tuple[float, float, float]:
    """(mean, squared standard error, effective clusters) of the ratio mean, written out: k =
    (all observations)^2 / sum of (cluster size)^2, and the variance k / (k - 1) * sum of
    (cluster total - mean * cluster size)^2 / (all observations)^2."""
    n = sum(len(values) for values in clusters)
    k = n**2 / sum(len(values) ** 2 for values in clusters)
    mean = sum(sum(values) for values in clusters) / n
    residuals = sum((sum(values) - mean * len(values)) ** 2 for values in clusters)
    return mean, k / (k - 1) * residuals / n**2, k


def test_clustered_sample_with_one_observation_per_cluster_is_the_plain_sample() -> None:
    clustered, plain = clustered_of([[v] for v in TREATMENT]), sample_of(TREATMENT)
    assert (clustered.n, clustered.mean) == (plain.n, plain.mean)
    assert clustered.std == pytest.approx(plain.std, rel=1e-12)
    assert statistics.welch_p_value(clustered, clustered_of([[v] for v in CONTROL])) == pytest.approx(
        stats.ttest_ind(TREATMENT, CONTROL, equal_var=False).pvalue, rel=1e-9)


TREATMENT_CLUSTERS = [[3.5, 12.25, 7.0], [0.75], [44.0, 9.5], [18.0, 2.25], []]
CONTROL_CLUSTERS = [[14.0, 22.5, 31.75, 8.0], [19.5], [27.25, 40.0], [11.0, 16.5]]


def test_clustered_interval_and_welch_use_the_cluster_robust_standard_error() -> None:
    mean, variance, k = cluster_robust(TREATMENT_CLUSTERS)
    control_mean, control_variance, control_k = cluster_robust(CONTROL_CLUSTERS)
    sample, control = clustered_of(TREATMENT_CLUSTERS), clustered_of(CONTROL_CLUSTERS)
    assert sample.mean == pytest.approx(mean, rel=1e-15)
    assert statistics.mean_interval(sample) == pytest.approx(
        stats.t.interval(0.95, k - 1, loc=mean, scale=math.sqrt(variance)), rel=1e-12)
    # Welch-Satterthwaite degrees of freedom, with k - 1 per variant
    t = (mean - control_mean) / math.sqrt(variance + control_variance)
    df = (variance + control_variance) ** 2 / (variance**2 / (k - 1) + control_variance**2 / (control_k - 1))
    assert statistics.welch_p_value(sample, control) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)


def test_what_cannot_be_computed_for_clusters_is_none() -> None:
    assert clustered_of([[1.0, 2.0]]).std is None  # one cluster
    assert clustered_of([[1.0] * 9, [2.0]]).std is None  # one cluster's worth: k = 100 / 82
    assert clustered_of([[], []]).mean is None and clustered_of([[], []]).std is None


def totals(experiment: str, variant: str, clusters: list[list[float]], reads: int,
           per_conversation: list[int]) -> Row:
    """One conversation-day per entry of `per_conversation`, the first of them holding `clusters`'
    response times (the rest none)."""
    sample = clustered_of(clusters + [[] for _ in per_conversation[len(clusters):]])
    squares = sum((Decimal(str(v)) ** 2 for values in clusters for v in values), Decimal(0))
    return Row(experiment=experiment, variant=variant, conversations=len(per_conversation) - 1,
               conversation_days=len(per_conversation), messages=sum(per_conversation),
               sum_squared_conversation_messages=sum(n * n for n in per_conversation), read_messages=reads,
               response_pairs=sample.observations, sum_response_seconds=sample.total,
               sum_squared_response_seconds=squares, sum_squared_conversation_pairs=sample.squared_observations,
               sum_conversation_pairs_response_seconds=sample.cross,
               sum_squared_conversation_response_seconds=sample.squared_totals)


def test_report_rows_compare_each_variant_with_control() -> None:
    rows = experiment_rows([
        totals("nudge", "treatment", TREATMENT_CLUSTERS[:4], 30, [10, 4, 7, 9]),
        totals("nudge", "control", CONTROL_CLUSTERS, 20, [3, 5, 2, 6, 8]),
        totals("solo", "treatment", [TREATMENT], 1, [1, 2]),
    ])
    assert [(r[0], r[1]) for r in rows] == [("nudge", "control"), ("nudge", "treatment"), ("solo", "treatment")]
    control, treatment, solo = rows
    # columns: 5 counts, then (value, low, high, diff, p) for messages per conversation,
    # read rate and mean response time, then response_pairs
    per_conversation, read_rate, response = treatment[5:10], treatment[10:15], treatment[15:20]
    assert per_conversation[0] == 30 / 4 and per_conversation[3] == 30 / 4 - 24 / 5
    assert per_conversation[4] == pytest.approx(
        stats.ttest_ind([10, 4, 7, 9], [3, 5, 2, 6, 8], equal_var=False).pvalue, rel=1e-9)
    assert read_rate[0] == 1.0 and read_rate[3] == 1.0 - 20 / 24
    assert response[0] == pytest.approx(py_statistics.mean(TREATMENT), rel=1e-15)
    # response times: conversation-days are the units (4 and 5 of them, some without pairs)
    assert response[4] == pytest.approx(statistics.welch_p_value(
        clustered_of(TREATMENT_CLUSTERS[:4]), clustered_of([*CONTROL_CLUSTERS, []])), rel=1e-12)
    assert response[4] != pytest.approx(stats.ttest_ind(TREATMENT, CONTROL, equal_var=False).pvalue, rel=1e-3)
    assert control[8] is None and control[9] is None and solo[9] is None and solo[19] is None
    assert treatment[20] == len(TREATMENT)
