"""The statistics of `report experiments` (analytics.md), from exact sums.

95% intervals and tests come from SciPy rather than our own formulas: a t interval for means,
the Wilson interval for rates, Welch's t-test (`ttest_ind_from_stats`, unequal variances) for a
difference of means, and for a difference of rates the two-proportion z-test, run as SciPy's
chi-squared test of the 2x2 table without continuity correction: the same test (chi2 = z^2 of
the pooled z statistic, so the same two-sided p-value). A figure that cannot be computed (too
few observations, no variance) is None, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext

from scipy import stats

CONFIDENCE = 0.95
MIN_OBSERVATIONS = 2
# enough for the cancellation in a sum of squares of DECIMAL(38, 12) sums
DECIMAL_DIGITS = 80


@dataclass(frozen=True)
class Sample:
    """n observations given as their sum and sum of squares (exact, as the fact table holds them)."""

    n: int
    total: Decimal | int
    squares: Decimal | int

    @property
    def mean(self) -> float | None:
        return float(Decimal(self.total) / self.n) if self.n else None

    @property
    def std(self) -> float | None:
        """The sample standard deviation (n - 1), computed in Decimal: sum of squares minus
        n * mean^2 loses every digit to cancellation in floating point when the spread is small."""
        if self.n < MIN_OBSERVATIONS:
            return None
        total, squares = Decimal(self.total), Decimal(self.squares)
        variance = (squares - total * total / self.n) / (self.n - 1)
        return math.sqrt(max(float(variance), 0.0))


@dataclass(frozen=True)
class ClusteredSample:
    """Observations that come in clusters (response pairs in conversation-days) whose mean is
    Σy / Σn, given as exact sums over the clusters c: their count, Σn_c, Σy_c, Σn_c², Σn_c·y_c
    and Σy_c². The clusters are the independent units: pairs of one conversation resemble each
    other, so counting pairs as independent makes intervals too narrow and p-values too small.

    The clusters weigh n_c each, so a busy one counts for many: `n` is the effective number of
    clusters (Kish) k = (Σn_c)² / Σn_c², and `std` the standard deviation that over k units
    gives the cluster-robust standard error of the mean, sqrt(k / (k - 1) · Σ(y_c - mean · n_c)²
    / (Σn_c)²): the CR1 error with k for the count. The t interval and Welch's t-test take them
    as they take a Sample's (k - 1 degrees of freedom). With one observation per cluster they
    are the Sample's own mean, n and std."""

    clusters: int
    observations: int
    total: Decimal | int
    squared_observations: int
    cross: Decimal | int
    squared_totals: Decimal | int

    @property
    def n(self) -> float:
        if not self.squared_observations:
            return 0.0
        return self.observations * self.observations / self.squared_observations

    @property
    def mean(self) -> float | None:
        return float(Decimal(self.total) / self.observations) if self.observations else None

    @property
    def std(self) -> float | None:
        effective = self.n
        if effective < MIN_OBSERVATIONS:
            return None
        with localcontext() as context:
            context.prec = DECIMAL_DIGITS
            mean = Decimal(self.total) / self.observations
            residuals = (Decimal(self.squared_totals) - 2 * mean * Decimal(self.cross)
                         + mean * mean * self.squared_observations)
            # k / (k - 1) * residuals / N^2 is the variance of the mean; times k, its std's square
            per_unit = residuals / (Decimal(self.observations) * self.observations)
        return math.sqrt(max(float(per_unit), 0.0) * effective * effective / (effective - 1))


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def mean_interval(sample: Sample | ClusteredSample) -> tuple[float | None, float | None]:
    """The 95% t interval of the mean."""
    mean, std = sample.mean, sample.std
    if mean is None or std is None:
        return None, None
    if std == 0:
        return mean, mean
    low, high = stats.t.interval(CONFIDENCE, sample.n - 1, loc=mean, scale=std / math.sqrt(sample.n))
    return _finite(low), _finite(high)


def welch_p_value(sample: Sample | ClusteredSample, control: Sample | ClusteredSample) -> float | None:
    """Two-sided p-value of Welch's t-test of equal means."""
    if sample.std is None or control.std is None or (sample.std == 0 and control.std == 0):
        return None
    result = stats.ttest_ind_from_stats(
        sample.mean, sample.std, sample.n, control.mean, control.std, control.n, equal_var=False
    )
    return _finite(result.pvalue)


def rate_interval(successes: int, trials: int) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of a rate."""
    if trials < 1:
        return None, None
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(interval.low), float(interval.high)


def two_proportion_p_value(successes: int, trials: int, control_successes: int, control_trials: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test of equal rates."""
    if trials < 1 or control_trials < 1:
        return None
    successes_total = successes + control_successes
    if successes_total == 0 or successes_total == trials + control_trials:
        return None  # both rates 0 (or both 1): no variance, nothing to test
    table = [[successes, trials - successes], [control_successes, control_trials - control_successes]]
    return _finite(stats.chi2_contingency(table, correction=False).pvalue)
