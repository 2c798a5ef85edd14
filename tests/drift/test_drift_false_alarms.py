"""Verdicts that do not cry wolf: healthy resamples never fail at any size, negligible
shifts at very large sizes stay quiet, and real shifts fail from 1k to 10M rows.

Seeded and deterministic. Healthy draws are multinomial histograms of n fresh values
from the true distribution over the reference's cells (exactly how binning n fresh
values is distributed), so 10M-row draws cost nothing; shifted cells at 1k to 1M rows
bin real generated values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from drift_arrays import categorical_profile, current_column, numeric_profile
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_opsguard.checks.distribution import evaluate_distribution
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.contract.models import Distribution
from airflow_opsguard.drift.observations import CurrentColumn, DriftObservation
from airflow_opsguard.drift.profile import CategoricalSummary, ColumnProfile, NumericSummary

SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
CATEGORIES = np.array(["US", "DE", "FR", "UK", "NL"], dtype=object)
SHARES = np.array([0.50, 0.20, 0.15, 0.10, 0.05])


def judge(reference: ColumnProfile, current: CurrentColumn, **column: Any) -> CheckResult:
    section = Distribution(reference="test", columns=({"name": "x", **column},))
    observation = CheckObservation(value=DriftObservation(reference, current, "test"))
    return evaluate_distribution(section, section.columns[0], observation)


def normal_cdf(x: float, mean: float = 0.0, sd: float = 1.0) -> float:
    return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))


def bin_probabilities(reference: ColumnProfile, cdf: Callable[[float], float]) -> Any:
    assert reference.numeric is not None
    return np.diff([0.0, *(cdf(e) for e in reference.numeric.edges), 1.0])


def category_probabilities(reference: ColumnProfile, names: Any, shares: Any) -> Any:
    assert reference.categorical is not None
    by_name = dict(zip(names.tolist(), shares.tolist(), strict=True))
    listed = [by_name.pop(v, 0.0) for v in reference.categorical.values]
    return np.array([*listed, sum(by_name.values())])


def draw(rng: np.random.Generator, n: int, probabilities: Any) -> CurrentColumn:
    counts = rng.multinomial(n, probabilities / probabilities.sum())
    return CurrentColumn(count=n, nulls=0, cells=tuple(int(c) for c in counts))


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(20260505)


@pytest.fixture(scope="module")
def normal_reference(rng: np.random.Generator) -> ColumnProfile:
    return numeric_profile("x", rng.standard_normal(200_000))


@pytest.fixture(scope="module")
def category_reference(rng: np.random.Generator) -> ColumnProfile:
    return categorical_profile("x", CATEGORIES[rng.choice(5, 200_000, p=SHARES)])


def healthy_scenarios(rng: np.random.Generator) -> list[tuple[str, ColumnProfile, Any]]:
    normal = numeric_profile("x", rng.standard_normal(200_000))
    lognormal = numeric_profile("x", rng.lognormal(size=200_000))
    integers = numeric_profile("x", rng.poisson(3, 200_000).astype(float), column_type="integer")
    small = numeric_profile("x", rng.standard_normal(5_000))
    zipf = np.array([1 / k for k in range(1, 81)])
    zipf /= zipf.sum()
    names = np.array([f"c{k}" for k in range(80)], dtype=object)
    many = categorical_profile("x", names[rng.choice(80, 200_000, p=zipf)])
    few = categorical_profile("x", CATEGORIES[rng.choice(5, 200_000, p=SHARES)])
    poisson = [math.exp(-3) * 3**k / math.factorial(k) for k in range(60)]
    poisson_cdf = np.cumsum(poisson)

    def poisson_bins(reference: ColumnProfile) -> Any:
        assert reference.numeric is not None
        # P(X < e) for integer X: the CDF at the largest integer below e.
        below = [poisson_cdf[math.ceil(e) - 1] if e > 0 else 0.0 for e in reference.numeric.edges]
        return np.diff([0.0, *below, 1.0])

    return [
        ("normal", normal, bin_probabilities(normal, normal_cdf)),
        (
            "log-normal",
            lognormal,
            bin_probabilities(lognormal, lambda x: normal_cdf(math.log(x)) if x > 0 else 0.0),
        ),
        ("poisson integers", integers, poisson_bins(integers)),
        ("normal, 5k-row reference", small, bin_probabilities(small, normal_cdf)),
        ("80 zipf categories", many, category_probabilities(many, names, zipf)),
        ("5 categories", few, category_probabilities(few, CATEGORIES, SHARES)),
    ]


def test_healthy_resamples_never_fail_from_1k_to_10m_rows(rng: np.random.Generator) -> None:
    draws = 150
    for name, reference, probabilities in healthy_scenarios(rng):
        for n in SIZES:
            statuses = [judge(reference, draw(rng, n, probabilities)).status for _ in range(draws)]
            assert statuses.count("fail") == 0, (name, n)
            assert statuses.count("warn") <= draws // 100, (name, n, statuses.count("warn"))


def test_small_healthy_samples_never_fail(
    rng: np.random.Generator, normal_reference: ColumnProfile, category_reference: ColumnProfile
) -> None:
    """Below 1k rows the noise is large; judging beyond it keeps the verdict quiet."""
    for n in (100, 200, 500):
        for _ in range(200):
            numbers = current_column(normal_reference, rng.standard_normal(n))
            categories = current_column(category_reference, CATEGORIES[rng.choice(5, n, p=SHARES)])
            assert judge(normal_reference, numbers).status != "fail"
            assert judge(category_reference, categories).status != "fail"


def test_too_few_values_warn_instead_of_passing(normal_reference: ColumnProfile) -> None:
    result = judge(normal_reference, current_column(normal_reference, np.arange(40.0)))
    assert result.status == "warn"
    assert "not judged" in result.message and "min_rows (100)" in result.message
    allowed = judge(normal_reference, current_column(normal_reference, np.zeros(40)), min_rows=10)
    assert allowed.status == "fail"  # forty zeros are judged when min_rows allows it


def shifted_numbers(
    rng: np.random.Generator, reference: ColumnProfile, n: int, shift: float, sd: float = 1.0
) -> CurrentColumn:
    if n <= 1_000_000:
        return current_column(reference, rng.normal(shift, sd, n))
    return draw(rng, n, bin_probabilities(reference, lambda x: normal_cdf(x, shift, sd)))


def shifted_categories(
    rng: np.random.Generator, reference: ColumnProfile, n: int, names: Any, shares: Any
) -> CurrentColumn:
    if n <= 1_000_000:
        return current_column(reference, names[rng.choice(len(names), n, p=shares)])
    return draw(rng, n, category_probabilities(reference, names, shares))


def test_a_mean_shift_of_half_a_standard_deviation_fails_at_every_size(
    rng: np.random.Generator, normal_reference: ColumnProfile
) -> None:
    for n in SIZES:
        result = judge(normal_reference, shifted_numbers(rng, normal_reference, n, 0.5))
        assert result.status == "fail", (n, result.message)
        assert result.observed == pytest.approx(0.5, abs=0.06)


def test_a_doubled_spread_fails_and_a_negligible_shift_at_10m_rows_passes(
    rng: np.random.Generator, normal_reference: ColumnProfile
) -> None:
    wide = judge(normal_reference, shifted_numbers(rng, normal_reference, 10_000, 0.0, sd=2.0))
    assert wide.status == "fail"
    tiny = judge(normal_reference, shifted_numbers(rng, normal_reference, 10_000_000, 0.03))
    assert tiny.status == "pass", tiny.message
    assert tiny.metrics["beyond_noise"] > 0  # measurable at this size, and yet negligible
    # The same negligible shift is judged the same way by PSI and Jensen-Shannon.
    for method in ("psi", "js"):
        current = shifted_numbers(rng, normal_reference, 10_000_000, 0.03)
        assert judge(normal_reference, current, method=method).status == "pass"


def moved(us: float) -> Any:
    rest = SHARES[1:] * (1 - us) / (1 - SHARES[0])
    return np.array([us, *rest])


@pytest.mark.parametrize(
    ("names", "shares", "named"),
    [
        (CATEGORIES, moved(0.30), r"'US' 50\.0% -> (29|30|31)\.\d%"),
        (
            np.array([*CATEGORIES, "XX"], dtype=object),
            np.array([*(SHARES * 0.9), 0.1]),
            r"'XX' appeared at (9|10)\.\d%",
        ),
        (CATEGORIES[:3], SHARES[:3] / SHARES[:3].sum(), r"'UK' vanished \(was 10\.\d%\)"),
    ],
    ids=["share 50% -> 30%", "new category at 10%", "two categories vanished"],
)
def test_category_shifts_fail_at_every_size(
    rng: np.random.Generator,
    category_reference: ColumnProfile,
    names: Any,
    shares: Any,
    named: str,
) -> None:
    for n in SIZES:
        current = shifted_categories(rng, category_reference, n, names, shares)
        result = judge(category_reference, current)
        assert result.status == "fail", (n, result.message)
        if n <= 1_000_000:  # generated values carry names; multinomial cells do not
            assert re.search(named, result.message), result.message


def test_a_negligible_category_shift_at_10m_rows_passes(
    rng: np.random.Generator, category_reference: ColumnProfile
) -> None:
    current = shifted_categories(rng, category_reference, 10_000_000, CATEGORIES, moved(0.48))
    for method in ("js", "psi", "cramers_v"):
        result = judge(category_reference, current, method=method)
        assert result.status == "pass", (method, result.message)


# ------------------------------------------------------------------------------ properties


@st.composite
def truths(draw: st.DrawFn) -> Any:
    """A true distribution over 2 to 60 cells (some of them rare)."""
    cells = draw(st.integers(2, 60))
    weights = draw(st.lists(st.floats(0.01, 100.0), min_size=cells, max_size=cells))
    shares = np.array(weights) / sum(weights)
    return shares


def category_profile_from_counts(counts: Any) -> ColumnProfile:
    top = tuple((f"v{i}", int(c)) for i, c in enumerate(counts) if c > 0)
    return ColumnProfile(
        "x",
        "string",
        "VARCHAR",
        int(sum(counts)),
        0,
        categorical=CategoricalSummary(top=top, other=0, distinct=len(top)),
    )


def numeric_profile_from_counts(counts: Any, rng: np.random.Generator) -> ColumnProfile:
    """A binned reference: random ascending edges, each bin's mean inside it."""
    edges = np.cumsum(rng.uniform(0.1, 3.0, len(counts) - 1))
    bounds = [edges[0] - 1.0, *edges, edges[-1] + 1.0]
    means = tuple((bounds[i] + bounds[i + 1]) / 2 if c else None for i, c in enumerate(counts))
    summary = NumericSummary(
        edges=tuple(float(e) for e in edges),
        counts=tuple(int(c) for c in counts),
        minimum=bounds[0],
        maximum=bounds[-1],
        mean=float(np.mean(edges)),
        std=float(np.std(edges)) or 1.0,
        p25=float(np.quantile(edges, 0.25)),
        median=float(np.median(edges)),
        p75=float(np.quantile(edges, 0.75)),
        means=means,
    )
    return ColumnProfile("x", "float", "DOUBLE", int(sum(counts)), 0, numeric=summary)


sizes = st.sampled_from([1_000, 3_000, 30_000, 300_000, 3_000_000, 10_000_000])


@settings(derandomize=True, deadline=None, max_examples=60)
@given(truths(), sizes, sizes, st.integers(0, 2**32 - 1), st.booleans())
def test_property_a_healthy_resample_never_fails(
    truth: Any, reference_rows: int, rows: int, seed: int, numeric: bool
) -> None:
    rng = np.random.default_rng(seed)
    reference_counts = rng.multinomial(reference_rows, truth)
    if numeric:
        reference = numeric_profile_from_counts(reference_counts, rng)
        cells = truth
    else:
        reference = category_profile_from_counts(reference_counts)
        listed = reference_counts > 0
        cells = np.array([*truth[listed], truth[~listed].sum()])  # unseen values: "other"
    result = judge(reference, draw(rng, rows, cells))
    assert result.status != "fail", result.message


@settings(derandomize=True, deadline=None, max_examples=40)
@given(truths(), sizes, sizes, st.integers(0, 2**32 - 1), st.floats(0.2, 0.6))
def test_property_a_new_category_taking_a_fifth_or_more_fails(
    truth: Any, reference_rows: int, rows: int, seed: int, share: float
) -> None:
    rng = np.random.default_rng(seed)
    reference = category_profile_from_counts(rng.multinomial(reference_rows, truth))
    assert reference.categorical is not None
    listed = np.array([int(v[1:]) for v in reference.categorical.values])
    shifted = np.array([*(truth[listed] * (1 - share)), share])  # the rest: new values
    assert judge(reference, draw(rng, rows, shifted / shifted.sum())).status == "fail"
